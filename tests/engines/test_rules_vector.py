"""The columnar evaluator equals the per-record reference evaluator (property test on random data),
shares clauses across rules, and explains the nearly-eligible pairs."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from sciencecity.engines.rules import lang, vector

TODAY = dt.date(2026, 6, 30)
SCHEMA = {"revenue": "number", "staff": "number", "rd_expense": "number", "assets": "number",
          "sector": "text", "district": "text", "listed": "bool", "incident": "bool",
          "registered_on": "date", "hnte": "certificate", "sme": "certificate"}
SECTORS = ["电子信息", "新材料", "生物与新医药", "先进制造与自动化"]
DISTRICTS = ["光明", "南山", "宝安"]


def random_record(rng: random.Random) -> dict:
    def maybe(value, p=0.1):
        return None if rng.random() < p else value

    def cert():
        if rng.random() < 0.5:
            return None
        start = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 2000))
        return start, start + dt.timedelta(days=3 * 365 - 1)

    return {"revenue": maybe(rng.choice([0, 500, 1999.5, 2000, 2000.5, 5000, 20000, rng.uniform(0, 30000)])),
            "staff": maybe(rng.randrange(0, 800)), "rd_expense": maybe(rng.choice([0, 10, 100, rng.uniform(0, 2000)])),
            "assets": maybe(rng.uniform(-100, 30000)), "sector": maybe(rng.choice(SECTORS + ["其他"])),
            "district": maybe(rng.choice(DISTRICTS)), "listed": maybe(rng.random() < 0.3),
            "incident": maybe(rng.random() < 0.1),
            "registered_on": maybe(dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(0, 6000))),
            "hnte": cert(), "sme": cert()}


def random_leaf(rng: random.Random) -> str:
    choice = rng.randrange(9)
    if choice == 0:
        return f"revenue {rng.choice(['>=', '>', '<=', '<', '==', '!='])} {rng.choice([0, 2000, 5000, 20000])}"
    if choice == 1:
        return f"staff between {rng.choice([0, 10, 100])} and {rng.choice([300, 500])}"
    if choice == 2:
        return f"rd_expense / revenue >= {rng.choice([0.03, 0.04, 0.05])}"
    if choice == 3:
        return f"sector {rng.choice(['in', 'not in'])} {rng.sample(SECTORS + ['外星科技'], 2)}".replace("'", '"')
    if choice == 4:
        return f'district {rng.choice(["==", "!="])} "{rng.choice(DISTRICTS + ["福田"])}"'
    if choice == 5:
        return rng.choice(["listed", "not incident", "incident == false", "listed != true"])
    if choice == 6:
        return f"registered_on <= today - {rng.choice([365, 730, 1095])}"
    if choice == 7:
        kind = rng.choice(["hnte", "sme"])
        on = rng.choice(["today", 'date("2024-01-01")', "today + 180"])
        return f'has_cert("{kind}", on={on})'
    return f"min(0.1 * rd_expense, 200) + assets * 0.001 > {rng.choice([5, 20, 50])}"


def random_rule(rng: random.Random, depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.35:
        return random_leaf(rng)
    joiner = rng.choice([" and ", " or "])
    parts = [random_rule(rng, depth + 1) for _ in range(rng.randrange(2, 5))]
    text = "(" + joiner.join(parts) + ")"
    return f"not {text}" if rng.random() < 0.15 else text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_equals_per_record_loop(seed):
    rng = random.Random(seed)
    records = [random_record(rng) for _ in range(400)]
    policies = [vector.compile_policy(f"P{i}", random_rule(rng), SCHEMA,
                                      amount=rng.choice([None, "min(0.1 * rd_expense, 200)", "revenue / staff"]))
                for i in range(60)]
    table = vector.Table.from_records(records, SCHEMA)
    result = vector.evaluate_all(policies, table, TODAY)
    truth, unmet, amounts = vector.records_evaluation(policies, records, TODAY)
    np.testing.assert_array_equal(result.truth, truth)
    np.testing.assert_array_equal(result.unmet, unmet)
    assert {0, 1, 2} <= set(np.unique(result.truth).tolist())  # the data exercise all three values
    for i in range(len(policies)):
        got = [None if np.isnan(v) else float(v) for v in result.amounts[i][1]]
        assert got == pytest.approx(amounts[i], nan_ok=True)
        assert result.eligible(i).tolist() == [j for j in range(len(records)) if truth[i, j] == 2]
    # explanations from the columns: as many clauses as the count says, each really unmet
    for i, j in zip(*np.nonzero((result.unmet >= 1) & (result.unmet <= 2)), strict=True):
        unmet = result.explain(table, int(j), int(i), TODAY)
        assert len(unmet) == result.unmet[i, j]
        assert table.record(int(j)) == {k: records[j][k] for k in SCHEMA}


def test_three_valued_logic():
    records = [{"revenue": None, "staff": 10}, {"revenue": None, "staff": 1000}, {"revenue": 3000, "staff": None}]
    rules = ["revenue >= 2000 or staff < 500", "revenue >= 2000 and staff < 500", "not (revenue >= 2000)"]
    policies = [vector.compile_policy(str(i), r, SCHEMA) for i, r in enumerate(rules)]
    result = vector.evaluate_all(policies, vector.Table.from_records(records, SCHEMA), TODAY)
    # unknown or true = true; unknown or false = unknown; true and unknown = unknown; not unknown = unknown
    assert result.truth.tolist() == [[2, 1, 2], [1, 0, 1], [1, 1, 0]]


def test_text_absent_from_the_data_matches_nothing_and_unknown_text_is_unknown():
    records = [{"sector": "新材料"}, {"sector": None}]
    policies = [vector.compile_policy("a", 'sector == "航天"', SCHEMA),
                vector.compile_policy("b", 'sector != "航天"', SCHEMA),
                vector.compile_policy("c", 'sector in ["新材料", "航天"]', SCHEMA)]
    result = vector.evaluate_all(policies, vector.Table.from_records(records, SCHEMA), TODAY)
    assert result.truth.tolist() == [[0, 1], [2, 1], [2, 1]]


def test_certificate_held_on_a_date():
    records = [{"hnte": (dt.date(2023, 12, 12), dt.date(2026, 12, 11))}, {"hnte": None}]
    policies = [vector.compile_policy("now", 'has_cert("hnte")', SCHEMA),
                vector.compile_policy("later", 'has_cert("hnte", on=date("2026-12-12"))', SCHEMA),
                vector.compile_policy("first day", 'has_cert("hnte", on="2023-12-12")', SCHEMA)]
    result = vector.evaluate_all(policies, vector.Table.from_records(records, SCHEMA), TODAY)
    assert result.truth.tolist() == [[2, 0], [0, 0], [2, 0]]  # no certificate is false, not unknown


def test_nearly_eligible_with_unmet_clauses_and_gaps_and_amounts():
    schema = {"revenue": "number", "staff": "number", "rd_expense": "number", "hnte": "certificate"}
    records = [{"revenue": 2500, "staff": 100, "rd_expense": 3000, "hnte": None},
               {"revenue": 1800, "staff": 100, "rd_expense": 50, "hnte": None},
               {"revenue": 1800, "staff": 900, "rd_expense": 50, "hnte": None}]
    policy = vector.compile_policy("subsidy", 'revenue >= 2000 and (staff < 500 or has_cert("hnte"))', schema,
                                   amount="min(0.1 * rd_expense, 200)")
    result = vector.evaluate_all([policy], vector.Table.from_records(records, schema), TODAY)
    assert result.eligible(0).tolist() == [0]
    assert result.amount(0, 0) == 200.0  # min(0.1 × 3000, 200)
    assert result.nearly_eligible_rules(1).tolist() == [0]
    assert result.unmet[0].tolist() == [0, 1, 2]
    unmet = lang.explain(policy.condition, records[1], TODAY)
    assert unmet == [lang.Unmet("revenue >= 2000", "false", 200.0)]
    # two clauses short: revenue, and either staff or the certificate (the first of equal cost)
    assert [u.clause for u in lang.explain(policy.condition, records[2], TODAY)] == ["revenue >= 2000", "staff < 500"]


def test_identical_clauses_are_computed_once_and_released():
    records = [{"revenue": v} for v in (100, 2000, 3000)]
    policies = [vector.compile_policy(f"p{i}", f"revenue >= 2000 and revenue < {4000 + i}", SCHEMA) for i in range(50)]
    table = vector.Table.from_records(records, SCHEMA)
    calls = []
    original = vector._Evaluator._truth

    def counting(self, node):
        calls.append(node.key)
        return original(self, node)

    vector._Evaluator._truth = counting
    try:
        evaluator_result = vector.evaluate_all(policies, table, TODAY)
    finally:
        vector._Evaluator._truth = original
    assert calls.count("revenue >= 2000") == 1
    assert evaluator_result.truth[:, 1].tolist() == [2] * 50


def test_preview_counts_for_the_policy_editor():
    records = [{"revenue": v} for v in (100, 1900, 2000, 3000, None)]
    table = vector.Table.from_records(records, SCHEMA)
    assert vector.preview(vector.compile_policy("p", "revenue >= 2000", SCHEMA), table, TODAY) == vector.Preview(
        eligible=2, unknown=1, nearly=3)
    assert vector.preview(vector.compile_policy("p", "revenue >= 1500", SCHEMA), table, TODAY).eligible == 3


def test_one_enterprise_page_lists_eligible_policies_by_amount_and_nearly_eligible_ones_with_gaps():
    schema = {"revenue": "number", "rd_expense": "number", "hnte": "certificate"}
    record = {"revenue": 3000, "rd_expense": 800, "hnte": (dt.date(2024, 1, 1), dt.date(2026, 12, 31))}
    policies = [vector.compile_policy("small", "revenue >= 1000", schema, amount="10"),
                vector.compile_policy("rd", 'rd_expense >= 500 and has_cert("hnte")', schema,
                                      amount="min(0.1 * rd_expense, 200)"),
                vector.compile_policy("big", "revenue >= 5000", schema, amount="100"),
                vector.compile_policy("far", "revenue >= 5000 and rd_expense >= 1000", schema)]
    table = vector.Table.from_records([record], schema)
    page = vector.evaluate_all(policies, table, TODAY).for_entity(table, 0, TODAY)
    assert page.eligible == (vector.EligiblePolicy("rd", 80.0), vector.EligiblePolicy("small", 10.0))
    assert page.nearly == (vector.NearPolicy("big", (lang.Unmet("revenue >= 5000", "false", 2000.0),)),)


def test_replace_rows_equals_a_table_built_from_the_same_records():
    """The incremental update: rows kept, rows dropped and new records appended (with text values the table
    has not seen) give the same records and the same verdicts as a table built from scratch."""
    rng = random.Random(7)
    records = [random_record(rng) for _ in range(60)]
    table = vector.Table.from_records(records, SCHEMA)
    added = [random_record(rng) for _ in range(5)] + [{**random_record(rng), "district": "龙华"}]
    keep = [i for i in range(60) if i % 7]
    patched = table.replace_rows(keep, added)
    expected = [records[i] for i in keep] + added
    fresh = vector.Table.from_records(expected, SCHEMA)
    assert patched.n == fresh.n == len(expected)
    assert [patched.record(i) for i in range(patched.n)] == [fresh.record(i) for i in range(fresh.n)]
    assert table.n == 60 and "龙华" not in table.vocabulary["district"]  # the old table is left as it was
    rule = vector.compile_policy("p", 'district in ["龙华", "光明"] and revenue >= 100', SCHEMA)
    assert np.array_equal(vector.evaluate_all([rule], patched, TODAY).truth,
                          vector.evaluate_all([rule], fresh, TODAY).truth)
