"""The eligibility rule language: parsing both forms, validation messages naming the clause,
three-valued evaluation and explanations."""

from __future__ import annotations

import datetime as dt

import pytest

from sciencecity.engines.rules import lang

SCHEMA = {"revenue": "number", "staff": "number", "rd_expense": "number", "sector": "text", "name": "text",
          "listed": "bool", "registered_on": "date", "hnte": "certificate"}
TODAY = dt.date(2026, 6, 30)


def test_text_and_dict_forms_give_the_same_rule():
    text = lang.parse_rule('revenue >= 2000 and (staff < 500 or has_cert("hnte", on=today)) and '
                           'sector in ["电子信息", "新材料"]', SCHEMA)
    data = lang.rule_from_dict({"all": [
        {"field": "revenue", "op": ">=", "value": 2000},
        {"any": [{"field": "staff", "op": "<", "value": 500}, {"has_cert": "hnte", "on": "today"}]},
        {"field": "sector", "in": ["电子信息", "新材料"]}]}, SCHEMA)
    assert text.key == data.key
    assert lang.parse_rule(lang.to_text(text), SCHEMA).key == text.key
    assert lang.rule_from_dict(lang.to_dict(text), SCHEMA).key == text.key
    assert len(lang.conditions(text)) == 4


@pytest.mark.parametrize(("rule", "where", "clause", "message"), [
    ("revnue >= 2000", "column 1", "revnue", "unknown field revnue (did you mean revenue?)"),
    ("revenue >= 2000 and name >= 5", "column 21", "name >= 5", "compares text with a number"),
    ('staff < 500 or revenue == "many"', "column 16", 'revenue == "many"', "compares text with a number"),
    ('sector in ["a", 3]', "column 1", 'sector in ["a", 3]', "compares text with a number"),
    ("revenue between 1 and sector", "column 1", "revenue between 1 and sector", "compares text with a number"),
    ("revenue >= 2000 and (staff < 5", "column 31", "(staff < 5", "expected ')', found the end"),
    ("revenue >=", "column 11", "revenue >=", "expected a value or a condition, found the end of the rule"),
    ("revenue >= 1 staff < 2", "column 14", "staff < 2", "unexpected 'staff'"),
    ("revenue", "column 1", "revenue", "a condition is expected here, got a number"),
    ('has_cert("hnt")', "column 1", 'has_cert("hnt")', "unknown certificate hnt (did you mean hnte?)"),
    ("hnte > 1", "column 1", "hnte", 'hnte is a certificate: use has_cert("hnte")'),
    ("revenue + sector > 1", "column 1", "revenue + sector", "+ needs numbers (or a date ± days), got number and text"),
    ("revenue @ 1", "column 9", "@ 1", "unexpected character '@'"),
    ("sqrt(revenue) > 1", "column 1", "sqrt(revenue", "unknown function sqrt"),
    ("", "", "", "the rule is empty"),
])
def test_bad_rules_name_the_clause(rule, where, clause, message):
    with pytest.raises(lang.RuleError) as error:
        lang.parse_rule(rule, SCHEMA)
    assert (error.value.where, error.value.clause, error.value.message) == (where, clause, message)


@pytest.mark.parametrize(("rule", "where", "message"), [
    ({"all": [{"field": "revenue", "op": ">=", "value": 1}, {"any": [{"field": "nam", "op": "==", "value": "x"}]}]},
     "rule.all[1].any[0]", "unknown field nam (did you mean name?)"),
    ({"all": [{"field": "name", "op": ">", "value": 3}]}, "rule.all[0]", "compares text with a number"),
    ({"any": [{"field": "revenue", "op": "≥", "value": 3}]}, "rule.any[0]", "unknown operator '≥'"),
    ({"not": {"expr": "staff <"}}, "rule.not.expr column 8", "expected a value or a condition, found the end of the rule"),
    ({"all": "revenue > 1"}, "rule", "all takes a list of conditions and nothing else"),
])
def test_bad_dict_rules_name_the_clause_by_path(rule, where, message):
    with pytest.raises(lang.RuleError) as error:
        lang.rule_from_dict(rule, SCHEMA)
    assert (error.value.where, error.value.message) == (where, message)


def test_amount_formula_must_be_a_number():
    node = lang.parse_amount("min(0.1 * rd_expense, 200)", SCHEMA)
    assert lang.value_of(node, {"rd_expense": 1500}, TODAY) == 150.0
    assert lang.value_of(node, {"rd_expense": 5000}, TODAY) == 200.0
    assert lang.value_of(node, {"rd_expense": None}, TODAY) is None
    with pytest.raises(lang.RuleError, match="an amount must be a number"):
        lang.parse_amount("revenue > 1", SCHEMA)


def test_kleene_logic_and_division_by_zero_unknown():
    record = {"revenue": None, "staff": 0, "rd_expense": 10}
    assert lang.evaluate(lang.parse_rule("revenue > 1 or staff < 5", SCHEMA), record, TODAY) is True
    assert lang.evaluate(lang.parse_rule("revenue > 1 and staff < 5", SCHEMA), record, TODAY) is None
    assert lang.evaluate(lang.parse_rule("revenue > 1 and staff > 5", SCHEMA), record, TODAY) is False
    assert lang.evaluate(lang.parse_rule("not (revenue > 1)", SCHEMA), record, TODAY) is None
    assert lang.evaluate(lang.parse_rule("rd_expense / staff > 1", SCHEMA), record, TODAY) is None


def test_dates_and_certificates():
    record = {"registered_on": dt.date(2025, 6, 30), "hnte": (dt.date(2023, 12, 12), dt.date(2026, 12, 11))}
    assert lang.evaluate(lang.parse_rule("registered_on <= today - 365", SCHEMA), record, TODAY) is True
    assert lang.evaluate(lang.parse_rule('registered_on < "2025-06-30"', SCHEMA), record, TODAY) is False
    assert lang.evaluate(lang.parse_rule('has_cert("hnte", on=today + 164)', SCHEMA), record, TODAY) is True
    assert lang.evaluate(lang.parse_rule('has_cert("hnte", on=today + 165)', SCHEMA), record, TODAY) is False
    assert lang.evaluate(lang.parse_rule('has_cert("hnte")', SCHEMA), {"hnte": None}, TODAY) is False


def test_explain_gives_the_gap():
    rule = lang.parse_rule("revenue >= 2000 and staff between 10 and 500 and listed", SCHEMA)
    unmet = lang.explain(rule, {"revenue": 1650, "staff": 600, "listed": None}, TODAY)
    assert unmet == [lang.Unmet("revenue >= 2000", "false", 350.0), lang.Unmet("staff between 10 and 500", "false", -100.0),
                     lang.Unmet("listed", "unknown", None)]
    assert lang.unmet_count(rule, {"revenue": 1650, "staff": 600, "listed": None}, TODAY) == 3


def test_messages_in_the_users_language():
    from django.utils import translation

    from sciencecity.engines.rules.i18n import translating

    with translation.override("zh-hans"), translating(translation.gettext):
        with pytest.raises(lang.RuleError) as error:
            lang.parse_rule("revenue >= 2000 and name >= 5", SCHEMA)
    assert (error.value.where, error.value.clause, error.value.message) == ("第 21 列", "name >= 5", "将文本与数字比较")
    with translation.override("zh-hans"), translating(translation.gettext):
        with pytest.raises(lang.RuleError) as error:
            lang.parse_rule("revnue >= 1", SCHEMA)
    assert error.value.message == "未知字段 revnue（是否指 revenue？）"
