"""Marketplace pages: index with recommendations, achievements and demands (list, detail with
explained matches, create, edit), search, feedback on suggestions, notifications and topic watch.
Thin: permission (selectors), form, service, render. Public listings are readable anonymously."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sciencecity.core import explain, permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.core.pagination import lazy_page
from sciencecity.registry.acting import acting_organisation_among
from sciencecity.registry.models import Sector
from sciencecity.transfer import forms, selectors
from sciencecity.transfer import permissions as access
from sciencecity.transfer.choices import FeedbackLabel, ListingStatus, TransferMode
from sciencecity.transfer.models import Achievement, TechDemand, TopicWatch
from sciencecity.transfer.services import listings, matching, watch

PAGE_SIZE = 50


def _page(request, queryset):
    return lazy_page(request, queryset, PAGE_SIZE)


def _params(request) -> dict[str, str]:
    return {k: v for k, v in request.GET.items() if v and k != "page"}


def _mode_labels(modes: list[str]) -> list[str]:
    labels = dict(TransferMode.choices)
    return [labels.get(m, m) for m in modes]


def _visible(request, queryset, may_view, pk: int):
    """The listing ``pk`` when the user may see it; 404 otherwise (as if it did not exist)."""
    listing = get_object_or_404(queryset, pk=pk)
    if not may_view(request.user, listing):
        raise Http404
    return listing


def _visible_achievement(request, pk: int) -> Achievement:
    return _visible(request, Achievement.objects.select_related("owner"), access.can_view_achievement, pk)


def _visible_demand(request, pk: int) -> TechDemand:
    return _visible(request, TechDemand.objects.select_related("organisation"), access.can_view_demand, pk)


FILTER_LABELS = {"trl": gettext_lazy("minimum TRL"), "modes": gettext_lazy("transfer modes"),
                 "sectors": gettext_lazy("field")}
"""Names of the hard matching filters, as the explanation of an empty list shows them."""
LIST_FILTER_LABELS = {"q": gettext_lazy("Title or keyword"), "sector": gettext_lazy("field"),
                      "mine": gettext_lazy("Only my organisation's")}


def _relax(request) -> list[str]:
    return [name for name in request.GET.getlist("relax") if name in matching.RELAXABLE]


def _match_removals(request, counts: dict[str, int]) -> list[explain.Removal]:
    """One removal per filter that emptied the list, each with a link that relaxes it (largest first)."""
    rows = [explain.Removal(str(FILTER_LABELS[name]), n, explain.url_adding(request, "relax", name))
            for name, n in counts.items()]
    return sorted(rows, key=lambda r: -r.count)


def _relax_all_url(request, counts: dict[str, int]) -> str:
    query = request.GET.copy()
    query.setlist("relax", sorted(set(_relax(request)) | set(counts)))
    return f"{request.path}?{query.urlencode()}"


def _list_explanation(request, params: dict[str, str], selector) -> dict:
    """Context of an empty filtered list: which filter removed how many, with relax links."""
    return {
        "removals": explain.list_removals(request, params, LIST_FILTER_LABELS,
                                          lambda relaxed: selector(request.user, relaxed).count()),
        "filters": explain.active_filters(params, LIST_FILTER_LABELS),
    }


def _listing_list(request, *, name: str, select, can_create: bool):
    """The list page of one side: filters, a page of rows, why an empty list is empty."""
    params = _params(request)
    page, query = _page(request, select(request.user, params))
    empty = SimpleLazyObject(lambda: _list_explanation(request, params, select) if not page.object_list else {})
    # the model's audit label, and the importer's kind under which a bulk import is audited
    own = {"achievement": ("transfer.achievement",), "demand": ("transfer.techdemand", "transfer.demand")}[name]
    return render(request, f"transfer/{name}_list.html", {
        "page": page, "query": query, "params": params, "sectors": Sector.objects.all(), "empty": empty,
        "business": access.can_use_marketplace(request.user), "can_create": can_create,
        "cache_areas": (*own, "registry.organisation", "registry.sector"),
    })


def _matches_context(request, *, is_owner: bool, listing, find, removed, other: str) -> dict:
    """The explained matches of a listing (for its owner) and, when none are left, what removed them."""
    relax = _relax(request)
    matches = find(listing, user=request.user, relax=relax) if is_owner else None
    counts = removed(listing, user=request.user, relax=relax) if matches and not matches[other] else {}
    return {
        "is_owner": is_owner, "mode_labels": _mode_labels(listing.modes),
        "matches": matches, "relaxed": [str(FILTER_LABELS[n]) for n in relax],
        "removals": _match_removals(request, counts), "relax_all_url": _relax_all_url(request, counts),
        "feedback_labels": FeedbackLabel.choices, "can_feedback": access.can_use_marketplace(request.user),
    }


# --- index
def index(request):
    user = request.user
    business = access.can_use_marketplace(user)
    return render(request, "transfer/index.html", {
        "recent_achievements": selectors.achievement_list(user, {}).filter(status=ListingStatus.ACTIVE)[:5],
        "recent_demands": selectors.demand_list(user, {}).filter(status=ListingStatus.ACTIVE)[:5],
        "recommendations": matching.recommendations(user) if business else [],
        "unread": selectors.unread_notification_count(user) if business else 0,
        "business": business,
        "can_create_achievement": access.can_create_achievement(user),
        "can_create_demand": access.can_create_demand(user),
        "search_form": forms.SearchForm(),
    })


# --- achievements
def achievement_list(request):
    return _listing_list(request, name="achievement", select=selectors.achievement_list,
                         can_create=access.can_create_achievement(request.user))


def achievement_detail(request, pk: int):
    achievement = _visible_achievement(request, pk)
    user = request.user
    return render(request, "transfer/achievement_detail.html", {
        "achievement": achievement,
        "show_details": access.can_read_achievement_details(user, achievement),
        "can_express_interest": access.can_express_interest(user),
        **_matches_context(request, is_owner=access.can_edit_achievement(user, achievement), listing=achievement,
                           find=matching.matches_for_achievement, removed=matching.achievement_removals,
                           other="demands"),
    })


def _create(request, *, form_class, create, organisation, name: str, saved: str):
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            obj = create(actor=request.user, organisation=organisation, data=form.to_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, saved)
            return redirect(f"transfer:{name}_detail", obj.pk)
    return render(request, f"transfer/{name}_form.html", {"form": form, "organisation": organisation})


def _edit(request, obj, *, form_class, update, name: str, saved: str, organisation):
    form = form_class(request.POST or None, initial=form_class.initial_from(obj))
    status_form = forms.StatusForm(request.POST or None, initial={"status": obj.status}, prefix="s")
    if request.method == "POST" and form.is_valid() and status_form.is_valid():
        data = form.to_data() | {"status": status_form.cleaned_data["status"]}
        try:
            update(request.user, obj, data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, saved)
            return redirect(f"transfer:{name}_detail", obj.pk)
    return render(request, f"transfer/{name}_form.html", {
        "form": form, "status_form": status_form, name: obj, "organisation": organisation})


@login_required
def achievement_create(request):
    permissions.require(access.can_create_achievement(request.user))
    return _create(request, form_class=forms.AchievementForm, create=listings.achievement_create,
                   organisation=acting_organisation_among(request, permissions.organisation_ids(request.user)), name="achievement",
                   saved=_("The achievement was posted."))


@login_required
def achievement_edit(request, pk: int):
    achievement = get_object_or_404(Achievement, pk=pk)
    permissions.require(access.can_edit_achievement(request.user, achievement))
    return _edit(request, achievement, form_class=forms.AchievementForm, name="achievement",
                 update=lambda actor, obj, data: listings.achievement_update(actor=actor, achievement=obj, data=data),
                 saved=_("The achievement was saved."), organisation=achievement.owner)


# --- demands
def demand_list(request):
    return _listing_list(request, name="demand", select=selectors.demand_list,
                         can_create=access.can_create_demand(request.user))


def demand_detail(request, pk: int):
    demand = _visible_demand(request, pk)
    user = request.user
    return render(request, "transfer/demand_detail.html", {
        "demand": demand,
        "show_description": access.can_read_demand_description(user, demand),
        **_matches_context(request, is_owner=access.can_edit_demand(user, demand), listing=demand,
                           find=matching.matches_for_demand, removed=matching.demand_removals,
                           other="achievements"),
    })


@login_required
def demand_create(request):
    permissions.require(access.can_create_demand(request.user))
    return _create(request, form_class=forms.DemandForm, create=listings.demand_create,
                   organisation=acting_organisation_among(request, access.enterprise_organisation_ids(request.user)),
                   name="demand", saved=_("The demand was posted."))


@login_required
def demand_edit(request, pk: int):
    demand = get_object_or_404(TechDemand, pk=pk)
    permissions.require(access.can_edit_demand(request.user, demand))
    return _edit(request, demand, form_class=forms.DemandForm, name="demand",
                 update=lambda actor, obj, data: listings.demand_update(actor=actor, demand=obj, data=data),
                 saved=_("The demand was saved."), organisation=demand.organisation)


# --- search, feedback, notifications
def search(request):
    form = forms.SearchForm(request.GET or None)
    results = None
    removals: list[explain.Removal] = []
    if form.is_valid() and form.cleaned_data["q"]:
        sector = form.cleaned_data["sector"]
        kind = form.cleaned_data["kind"] or "achievements"
        results = matching.search(form.cleaned_data["q"], kind=kind, user=request.user, limit=30,
                                  sector=sector.code if sector else "")
        if not results and sector:
            without = len(matching.search(form.cleaned_data["q"], kind=kind, user=request.user, limit=30))
            if without:
                removals = [explain.Removal(str(FILTER_LABELS["sectors"]), without,
                                            explain.url_without(request, "sector"))]
    return render(request, "transfer/search.html", {"form": form, "results": results, "removals": removals,
                                                    "can_feedback": access.can_use_marketplace(request.user),
                                                    "feedback_labels": FeedbackLabel.choices})


@login_required
@require_POST
def feedback(request):
    form = forms.FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The feedback could not be saved."))
    else:
        try:
            listings.feedback_set(actor=request.user, label=form.cleaned_data["label"],
                                  demand=form.cleaned_data["demand"], achievement=form.cleaned_data["achievement"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you: your suggestions will take this into account."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "transfer:index")


@login_required
def notifications(request):
    """The marketplace's notifications are the user's notifications (one list for every app)."""
    return redirect("notifications:list")


# --- topic watch
@login_required
def watch_list(request):
    permissions.require(access.can_use_marketplace(request.user))
    form = forms.WatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = watch.watch_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("The topic is watched."))
            return redirect("transfer:watch_detail", created.pk)
    return render(request, "transfer/watch_list.html", {"form": form, "watches": selectors.watches(request.user)})


@login_required
def watch_detail(request, pk: int):
    permissions.require(access.can_use_marketplace(request.user))
    topic = get_object_or_404(TopicWatch.objects.select_related("sector"), pk=pk, user=request.user)
    if request.method == "POST":
        watch.watch_delete(actor=request.user, watch=topic)
        messages.success(request, _("The topic is no longer watched."))
        return redirect("transfer:watch_list")
    return render(request, "transfer/watch_detail.html", {
        "watch": topic, "items": watch.watch_items(topic, user=request.user),
        "trends": watch.watch_trends(topic, user=request.user),
    })
