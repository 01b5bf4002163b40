"""Marketplace reads and the visibility rules of listings (the same for the UI, the API and the CLI).

Achievements: ``public`` ones are seen by anyone (anonymous visitors see the title and abstract),
``registered`` ones by logged-in business users, ``invited`` ones by the owner and the invited
organisations. Demands: the title and public summary are public; the full description of a
confidential demand is shown only to the owner and to the parties of a deal on it. Closed listings
are seen by their owner only. Contacts are never on a listing page: a deal shares them with the
owner's consent. Parties of a deal on a listing always keep seeing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from sciencecity.core import permissions
from sciencecity.core.models import Notification
from sciencecity.registry.models import Person
from sciencecity.transfer.choices import OPEN_STATES, DealState, ListingStatus, Visibility
from sciencecity.transfer.models import Achievement, Deal, TechContract, TechDemand, TopicWatch


def _orgs(user: Any) -> set[int]:
    return permissions.organisation_ids(user)


# --- permissions of listings (UI, API and CLI share them)


def _deal_party(orgs: set[int], **listing: Any) -> Q:
    return Q(**listing) & (Q(seller_id__in=orgs) | Q(buyer_id__in=orgs))


def achievement_queryset(user: Any) -> QuerySet[Achievement]:
    """Achievements ``user`` may see (title, abstract and the non-contact details)."""
    qs = Achievement.objects.all()
    active = Q(status=ListingStatus.ACTIVE)
    if not permissions.is_business_user(user):
        return qs.filter(active, visibility=Visibility.PUBLIC)
    orgs = _orgs(user)
    dealt = Exists(Deal.objects.filter(_deal_party(orgs, achievement=OuterRef("pk"))))
    invited = Exists(Achievement.invited.through.objects.filter(achievement_id=OuterRef("pk"),
                                                                organisation_id__in=orgs))
    return qs.filter(
        Q(owner_id__in=orgs) | dealt
        | (active & (Q(visibility__in=[Visibility.PUBLIC, Visibility.REGISTERED])
                     | (Q(visibility=Visibility.INVITED) & invited)))
    )


def demand_queryset(user: Any) -> QuerySet[TechDemand]:
    """Demands ``user`` may see (title and public summary; see :func:`can_read_demand_description`)."""
    qs = TechDemand.objects.all()
    active = Q(status=ListingStatus.ACTIVE)
    if not permissions.is_business_user(user):
        return qs.filter(active)
    orgs = _orgs(user)
    dealt = Exists(Deal.objects.filter(_deal_party(orgs, demand=OuterRef("pk"))))
    return qs.filter(active | Q(organisation_id__in=orgs) | dealt)


def visible_ids(user: Any, kind: str, ids: list[int]) -> set[int]:
    """Which of ``ids`` (achievements or demands) ``user`` may see: one query."""
    qs = achievement_queryset(user) if kind == "achievements" else demand_queryset(user)
    return set(qs.filter(pk__in=ids).values_list("pk", flat=True))


# --- lists
def _listing_list(qs: QuerySet, user: Any, params: dict[str, str], *, owner: str) -> QuerySet:
    """The list filters both sides share: ``mine`` (the user's organisations), ``sector`` (a code), ``q``."""
    model = qs.model
    qs = qs.select_related(owner).prefetch_related("sectors")
    if params.get("mine") and permissions.is_business_user(user):
        qs = qs.filter(**{f"{owner}_id__in": _orgs(user)})
    if params.get("sector"):
        through = model.sectors.through
        qs = qs.filter(pk__in=through.objects.filter(sector__code=params["sector"])
                       .values(f"{model._meta.model_name}_id"))
    if params.get("q"):
        qs = qs.filter(Q(title__icontains=params["q"]) | Q(keywords__icontains=params["q"]))
    # No DISTINCT: every filter is a subquery, so a row comes once (DISTINCT over every column, text
    # included, and its COUNT were most of the list's time at city scale).
    return qs


def achievement_list(user: Any, params: dict[str, str]) -> QuerySet[Achievement]:
    return _listing_list(achievement_queryset(user), user, params, owner="owner")


def demand_list(user: Any, params: dict[str, str]) -> QuerySet[TechDemand]:
    return _listing_list(demand_queryset(user), user, params, owner="organisation")


def own_listings(user: Any) -> tuple[list[Achievement], list[TechDemand]]:
    """The user's organisations' active listings (for recommendations)."""
    orgs = _orgs(user)
    if not orgs:
        return [], []
    achievements = list(Achievement.objects.filter(owner_id__in=orgs, status=ListingStatus.ACTIVE)[:20])
    demands = list(TechDemand.objects.filter(organisation_id__in=orgs, status=ListingStatus.ACTIVE)[:20])
    return achievements, demands


def unread_notification_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def watches(user: Any) -> QuerySet[TopicWatch]:
    return TopicWatch.objects.filter(user=user).select_related("sector")


# --- brokers (技术经纪人)
def brokers() -> QuerySet[Person]:
    return Person.objects.filter(categories__icontains='"broker"')


@dataclass
class BrokerFigures:
    person: Person
    by_state: dict[str, int] = field(default_factory=dict)
    registered: int = 0
    amount: Decimal = Decimal("0.00")

    @property
    def counts(self) -> list[int]:
        """Deals per state, in the order of :class:`DealState`."""
        return [self.by_state.get(s, 0) for s in DealState.values]

    @property
    def open_deals(self) -> int:
        return sum(self.by_state.get(s, 0) for s in OPEN_STATES)


def broker_figures(people: QuerySet[Person] | None = None) -> list[BrokerFigures]:
    """Each broker's pipeline (deals by state) and figures (deals registered, contract amount brokered)."""
    people = list(people if people is not None else brokers())
    rows = {p.pk: BrokerFigures(person=p, by_state={s: 0 for s in DealState.values}) for p in people}
    counts = (Deal.objects.filter(broker_id__in=rows).values("broker_id", "state").annotate(n=Count("id")))
    for row in counts:
        rows[row["broker_id"]].by_state[row["state"]] = row["n"]
    amounts = (TechContract.objects.filter(deal__broker_id__in=rows).values("deal__broker_id")
               .annotate(n=Count("id"), total=Sum("amount")))
    for row in amounts:
        figures = rows[row["deal__broker_id"]]
        figures.registered = row["n"]
        figures.amount = Decimal(row["total"] or 0).quantize(Decimal("0.01"))
    return list(rows.values())
