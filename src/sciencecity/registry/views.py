"""Registry pages: organisation and people lists with filters and search, detail, create, edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.core.pagination import lazy_page
from sciencecity.registry import selectors, services
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.choices import Level, OrganisationKind, OrganisationStatus, PersonCategory
from sciencecity.registry.forms import OrganisationForm, PersonForm
from sciencecity.registry.models import Affiliation, Organisation, Person, Sector

PAGE_SIZE = 50


def _require_registry(request) -> None:
    permissions.require(permissions.can_view_registry(request.user))


def _page(request, queryset):
    return lazy_page(request, queryset, PAGE_SIZE)


@login_required
def organisation_list(request):
    _require_registry(request)
    params = {k: v for k, v in request.GET.items() if v and k != "page"}
    queryset = selectors.organisation_queryset(params).prefetch_related("sectors")
    page, query = _page(request, queryset)
    return render(request, "registry/organisation_list.html", {
        "page": page, "query": query, "params": params,
        "kinds": OrganisationKind.choices, "levels": Level.choices, "statuses": OrganisationStatus.choices,
        "sectors": Sector.objects.all(),
        "can_create": permissions.can_create_organisation(request.user),
        "can_import": permissions.can_import_registry(request.user),
        "can_export": permissions.can_export_registry(request.user),
    })


@login_required
def organisation_detail(request, pk: int):
    _require_registry(request)
    # no prefetch: the related rows are read by the page's block, and not at all when it is cached
    org = get_object_or_404(Organisation, pk=pk)
    people = (
        Affiliation.objects.filter(organisation=org).select_related("person").order_by("end_date", "person__name")[:100]
    )
    return render(request, "registry/organisation_detail.html", {
        "org": org,
        "relations_out": org.relations_out.select_related("target"),
        "relations_in": org.relations_in.select_related("source"),
        "affiliations": people,
        "can_edit": permissions.can_edit_organisation(request.user, org),
    })


@login_required
def organisation_create(request):
    permissions.require(permissions.can_create_organisation(request.user))
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(actor=request.user, data=form.service_data(),
                                               acting_organisation=acting_organisation(request))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Organisation “%(name)s” created.") % {"name": org.name})
            return redirect("registry:organisation_detail", pk=org.pk)
    return render(request, "registry/organisation_form.html", {"form": form, "org": None})


@login_required
def organisation_edit(request, pk: int):
    _require_registry(request)
    org = get_object_or_404(Organisation, pk=pk)
    permissions.require(permissions.can_edit_organisation(request.user, org))
    certified = permissions.can_edit_certified_fields(request.user, org)
    form = OrganisationForm(request.POST or None, instance=org, certified_editable=certified)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        reason = form.cleaned_data.get("reason", "")
        try:
            changes = services.organisation_update(actor=request.user, organisation=org, data=data, reason=reason,
                                                   acting_organisation=acting_organisation(request))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if changes:
                messages.success(request, _("Saved: %(fields)s.") % {"fields": ", ".join(changes)})
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("registry:organisation_detail", pk=org.pk)
    return render(request, "registry/organisation_form.html", {"form": form, "org": org})


# --- people
@login_required
def person_list(request):
    _require_registry(request)
    params = {k: v for k, v in request.GET.items() if v and k != "page"}
    queryset = selectors.person_queryset(params).prefetch_related(
        Prefetch("affiliations", queryset=Affiliation.objects.select_related("organisation"))
    )
    page, query = _page(request, queryset)
    return render(request, "registry/person_list.html", {
        "page": page, "query": query, "params": params, "categories": PersonCategory.choices,
        "sectors": Sector.objects.all(),
        "can_create": permissions.can_create_person(request.user),
        "can_import": permissions.can_import_registry(request.user),
        "can_export": permissions.can_export_registry(request.user),
    })


@login_required
def person_detail(request, pk: int):
    _require_registry(request)
    person = get_object_or_404(
        Person.objects.prefetch_related(
            "sectors", Prefetch("affiliations", queryset=Affiliation.objects.select_related("organisation"))
        ),
        pk=pk,
    )
    return render(request, "registry/person_detail.html", {
        "person": person,
        "show_contact": permissions.can_view_person_contact(request.user, person),
        "can_edit": permissions.can_edit_person(request.user, person),
    })


@login_required
def person_create(request):
    permissions.require(permissions.can_create_person(request.user))
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Person “%(name)s” created.") % {"name": person.name})
            return redirect("registry:person_detail", pk=person.pk)
    return render(request, "registry/person_form.html", {"form": form, "person": None})


@login_required
def person_edit(request, pk: int):
    _require_registry(request)
    person = get_object_or_404(Person, pk=pk)
    permissions.require(permissions.can_edit_person(request.user, person))
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.person_update(actor=request.user, person=person, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved: %(fields)s.") % {"fields": ", ".join(changes)} if changes
                             else _("Nothing changed."))
            return redirect("registry:person_detail", pk=person.pk)
    return render(request, "registry/person_form.html", {"form": form, "person": person})
