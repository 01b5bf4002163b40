"""Reads of the policy library: every enterprise as columns for the rules engine, and the results.

``enterprise_table`` builds one ``vector.Table`` over all enterprise profiles (the h-ent profile
selector gives the typed profiles; district, tier, certificates and growth score are added here),
so one columnar pass answers the editor's preview, an enterprise's "my policies" and a policy's
免申即享 list.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from sciencecity.engines.rules import fields, growth, vector
from sciencecity.engines.rules.lang import RuleError
from sciencecity.enterprises.choices import Tier
from sciencecity.enterprises.models import EnterpriseProfile, TierMembership
from sciencecity.enterprises.policies.choices import PolicyStatus
from sciencecity.enterprises.policies.models import Policy
from sciencecity.enterprises.selectors import LoadedProfile, load_profiles

#: The highest open tier names an enterprise's tier in rules.
TIER_RANK = [Tier.UNICORN, Tier.GAZELLE, Tier.CHUFENG, Tier.RESERVE]


@dataclass
class EnterpriseColumns:
    """All enterprises in one table; row ``i`` is organisation ``organisation_ids[i]``."""

    organisation_ids: list[int]
    names: list[str]
    codes: list[str]
    table: vector.Table
    today: dt.date
    #: How many enterprises this build read from the database (all of them, or only the changed ones).
    reloaded: int = 0

    def index_of(self, organisation_id: int) -> int | None:
        try:
            return self.organisation_ids.index(organisation_id)
        except ValueError:
            return None


def _tiers(organisation_ids: Iterable[int]) -> dict[int, str]:
    found: dict[int, list[str]] = {}
    for org_id, tier in TierMembership.objects.filter(organisation_id__in=list(organisation_ids),
                                                      left_at__isnull=True).values_list("organisation_id", "tier"):
        found.setdefault(org_id, []).append(tier)
    return {org: min(tiers, key=lambda t: TIER_RANK.index(t) if t in TIER_RANK else 99) for org, tiers in found.items()}


def enterprise_records(loaded: Sequence[LoadedProfile]) -> list[dict]:
    """The rule-language record of each loaded profile (district, tier, certificates, growth score added)."""
    tiers = _tiers(p.organisation_id for p in loaded)
    return [fields.policy_record(p.record, district=p.district or None, tier=tiers.get(p.organisation_id),
                                 certificates=p.certificates, growth_score=growth.growth_score(p.record).total_points)
            for p in loaded]


def _sources() -> list[tuple[QuerySet, str]]:
    """Every table the enterprise table reads, with the path from a row to its organisation."""
    from sciencecity.enterprises.models import FiscalYear, Incident, IntellectualProperty, MonthlyStaff
    from sciencecity.registry.models import Certification, Organisation

    return [(EnterpriseProfile.objects.all(), "organisation_id"), (FiscalYear.objects.all(), "profile__organisation_id"),
            (MonthlyStaff.objects.all(), "fiscal_year__profile__organisation_id"),
            (IntellectualProperty.objects.all(), "profile__organisation_id"),
            (Incident.objects.all(), "profile__organisation_id"), (TierMembership.objects.all(), "organisation_id"),
            # a stay closed by ``bulk_update`` keeps its ``updated_at``: the open stays are counted too
            (TierMembership.objects.filter(left_at__isnull=True), "organisation_id"),
            (Certification.objects.all(), "organisation_id"), (Organisation.objects.all(), "id")]


def data_version(today: dt.date) -> tuple:
    """A stamp that changes whenever anything the table reads changes: the row count and the latest
    change of every table involved (a deletion changes a count, an edit an ``updated_at``)."""
    stamp: list = [today.toordinal()]
    for rows, _path in _sources():
        agg = rows.aggregate(n=Count("id"), last=Max("updated_at"))
        stamp.append((agg["n"], agg["last"]))
    return tuple(stamp)


def source_signatures(positions: Iterable[int] | None = None) -> dict[int, dict[int, tuple]]:
    """Per source of ``_sources`` (all, or those at ``positions``) and organisation, the (rows, latest
    change) of its own rows: which enterprises changed since a build."""
    sources = _sources()
    found: dict[int, dict[int, tuple]] = {}
    for position in range(len(sources)) if positions is None else positions:
        rows, path = sources[position]
        grouped = rows.order_by().values(path).annotate(n=Count("id"), last=Max("updated_at"))
        found[position] = {org_id: (n, last) for org_id, n, last in grouped.values_list(path, "n", "last")}
    return found


#: Above this share of changed enterprises the table is built again in full rather than patched.
PATCH_SHARE = 0.25

#: The table built in this process: (``data_version``, columns, ``source_signatures``). After a change
#: only the sources whose stamp moved are grouped by organisation again, and only the enterprises whose
#: rows changed are read again (``_patched``), so the live preview after an edit does not wait for the
#: whole table; a new day builds it in full (ages, validity and the latest fiscal year move with it).
_cache: dict[str, tuple[tuple, EnterpriseColumns, dict[int, dict[int, tuple]]]] = {}
_cache_lock = threading.Lock()


def enterprise_table(*, today: dt.date | None = None, organisation_ids: Iterable[int] | None = None
                     ) -> EnterpriseColumns:
    """Every enterprise profile (or those of ``organisation_ids``) as columns, as of ``today``. The
    full table is cached per process and brought up to date when ``data_version`` changes."""
    today = today or timezone.localdate()
    if organisation_ids is not None:
        return _build_table(today, organisation_ids)
    version = data_version(today)
    with _cache_lock:
        cached = _cache.get("all")
        if cached is not None and cached[0] == version:
            return cached[1]
        columns = None
        if cached is not None and cached[1].today == today:
            moved = [i for i in range(len(version) - 1) if version[i + 1] != cached[0][i + 1]]
            # grouped before the rows are read: a change in between is seen (again) next time
            signatures = cached[2] | source_signatures(moved)
            changed = {org_id for i in moved for org_id in cached[2][i].keys() | signatures[i].keys()
                       if cached[2][i].get(org_id) != signatures[i].get(org_id)}
            columns = _patched(cached[1], changed)
        else:
            signatures = source_signatures()
        if columns is None:
            columns = _build_table(today, None)
        _cache["all"] = (version, columns, signatures)
        return columns


def _patched(old: EnterpriseColumns, changed: set[int]) -> EnterpriseColumns | None:
    """``old`` with the ``changed`` organisations read again (appended at the end), or None when so many
    changed that a full build is as quick."""
    if len(changed) > max(100, PATCH_SHARE * old.table.n):
        return None
    keep = [i for i, org_id in enumerate(old.organisation_ids) if org_id not in changed]
    loaded = load_profiles(assessed_on=old.today, organisation_ids=changed) if changed else []
    return EnterpriseColumns(
        organisation_ids=[old.organisation_ids[i] for i in keep] + [p.organisation_id for p in loaded],
        names=[old.names[i] for i in keep] + [p.record.name for p in loaded],
        codes=[old.codes[i] for i in keep] + [p.record.id for p in loaded],
        table=old.table.replace_rows(keep, enterprise_records(loaded)), today=old.today, reloaded=len(loaded))


def _build_table(today: dt.date, organisation_ids: Iterable[int] | None) -> EnterpriseColumns:
    loaded = load_profiles(assessed_on=today, organisation_ids=organisation_ids)
    return EnterpriseColumns(
        organisation_ids=[p.organisation_id for p in loaded], names=[p.record.name for p in loaded],
        codes=[p.record.id for p in loaded],
        table=vector.Table.from_records(enterprise_records(loaded), fields.SCHEMA), today=today,
        reloaded=len(loaded))


def compile_policy(policy: Policy) -> vector.Policy:
    return vector.compile_policy(str(policy.pk), policy.rule, fields.SCHEMA, policy.amount_formula or None)


def compile_policies(policies: Iterable[Policy]) -> tuple[list[Policy], list[vector.Policy]]:
    """The policies whose rules still compile (a rule saved before a field was renamed is skipped)."""
    kept, compiled = [], []
    for policy in policies:
        try:
            compiled.append(compile_policy(policy))
        except RuleError:
            continue
        kept.append(policy)
    return kept, compiled


def published_policies(today: dt.date | None = None) -> QuerySet[Policy]:
    """Published policies in force on ``today``."""
    today = today or timezone.localdate()
    return Policy.objects.filter(status=PolicyStatus.PUBLISHED, valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today))


def preview(rule: str, amount_formula: str = "", *, columns: EnterpriseColumns | None = None) -> dict:
    """How many enterprises a rule would reach; raises ``RuleError`` naming the clause."""
    columns = columns or enterprise_table()
    compiled = vector.compile_policy("preview", rule, fields.SCHEMA, amount_formula or None)
    result = vector.evaluate_all([compiled], columns.table, columns.today)
    truth, unmet = result.truth[0], result.unmet[0]
    eligible = result.eligible(0)
    amounts = [a for a in result.amounts[0][1].tolist() if a == a]
    return {"eligible": int(len(eligible)), "unknown": int((truth == vector.UNKNOWN).sum()),
            "nearly": int(((unmet >= 1) & (unmet <= 1)).sum()),
            "enterprises": columns.table.n, "total_amount": round(sum(amounts), 2) if amounts else None,
            # the first ten by name (rows updated after a change sit at the end of the table)
            "sample": heapq.nsmallest(10, (columns.names[i] for i in eligible.tolist()))}


@dataclass(frozen=True)
class EligibleRow:
    organisation_id: int
    code: str
    name: str
    amount: float | None


def eligible_enterprises(policy: Policy, *, columns: EnterpriseColumns | None = None) -> list[EligibleRow]:
    """The 免申即享 list of ``policy``: every enterprise its rule holds for, with the estimated amount."""
    columns = columns or enterprise_table()
    compiled = compile_policy(policy)
    result = vector.evaluate_all([compiled], columns.table, columns.today, costs=False)
    indices, amounts = result.amounts[0]
    rows = [EligibleRow(columns.organisation_ids[i], columns.codes[i], columns.names[i],
                        None if a != a else round(float(a), 2)) for i, a in zip(indices.tolist(), amounts.tolist(),
                                                                                 strict=True)]
    return sorted(rows, key=lambda r: r.name)


@dataclass(frozen=True)
class MyPolicy:
    policy: Policy
    amount: float | None
    unmet: tuple = ()


def policies_for(organisation_id: int, *, max_unmet: int = 2) -> tuple[list[MyPolicy], list[MyPolicy]]:
    """One enterprise's eligible policies (largest amount first) and nearly-eligible ones with the
    unmet clauses (fewest first)."""
    columns = enterprise_table(organisation_ids=[organisation_id])
    if not columns.organisation_ids:
        return [], []
    policies, compiled = compile_policies(published_policies(columns.today))
    if not compiled:
        return [], []
    result = vector.evaluate_all(compiled, columns.table, columns.today)
    matches = result.for_entity(columns.table, 0, columns.today, max_unmet=max_unmet)
    by_id = {str(p.pk): p for p in policies}
    eligible = [MyPolicy(by_id[e.policy], None if e.amount is None else round(e.amount, 2)) for e in matches.eligible]
    nearly = [MyPolicy(by_id[n.policy], None, n.unmet) for n in matches.nearly]
    return eligible, nearly


def calendar(year: int) -> list[tuple[int, list[Policy]]]:
    """The published policies whose application window touches each month of ``year``."""
    policies = list(Policy.objects.filter(status=PolicyStatus.PUBLISHED, application_opens__isnull=False)
                    .filter(Q(application_closes__isnull=True) | Q(application_closes__gte=dt.date(year, 1, 1)))
                    .filter(application_opens__lte=dt.date(year, 12, 31)).order_by("application_opens", "code"))
    months = []
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
        months.append((month, [p for p in policies
                               if p.application_opens <= last and (p.application_closes is None
                                                                   or p.application_closes >= first)]))
    return months
