"""Forms of the marketplace listings, feedback and topic watch. Plain forms: the services validate
and write (their ValidationErrors land on these fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.registry.models import Sector
from sciencecity.transfer.choices import (
    FeedbackLabel,
    IpStatus,
    IpType,
    ListingStatus,
    TransferMode,
    Visibility,
)
from sciencecity.transfer.models import Achievement, TechDemand


def _sector_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Fields"), queryset=Sector.objects.all(), to_field_name="code", required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("The plan's domains and the national high-tech fields; hold Ctrl to pick several."))


def _modes_field(label: Any, *, required: bool = False) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(label=label, choices=TransferMode.choices, required=required,
                                     widget=forms.CheckboxSelectMultiple)


class ListingForm(forms.Form):
    """Shared by both listing forms: ``initial_from`` fills the form from an existing row."""

    def to_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["sectors"] = [s.code for s in data.get("sectors") or []]
        return data

    @classmethod
    def initial_from(cls, obj: Any) -> dict[str, Any]:
        initial = {name: getattr(obj, name) for name in cls.base_fields if hasattr(obj, name)}
        initial["sectors"] = list(obj.sectors.all())
        return initial


class AchievementForm(ListingForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    abstract = forms.CharField(label=_("Abstract"), widget=forms.Textarea(attrs={"rows": 5}),
                               help_text=_("Public: anyone who may see the listing reads it."))
    sectors = _sector_field()
    keywords = forms.CharField(label=_("Keywords"), max_length=300, required=False)
    trl = forms.TypedChoiceField(label=_("Technology readiness level (TRL 1–9)"), coerce=int,
                                 choices=[(n, str(n)) for n in range(1, 10)])
    ip_type = forms.ChoiceField(label=_("IP type"), choices=IpType.choices, initial=IpType.NONE)
    ip_number = forms.CharField(label=_("IP number"), max_length=64, required=False)
    ip_status = forms.ChoiceField(label=_("IP status"), choices=[("", "—"), *IpStatus.choices], required=False)
    ip_holders = forms.CharField(label=_("IP holders"), max_length=300, required=False)
    inventors = forms.CharField(label=_("Inventors"), max_length=300, required=False)
    modes = _modes_field(_("Transfer modes"), required=True)
    asking_terms = forms.CharField(label=_("Asking terms"), max_length=300, required=False)
    contact_name = forms.CharField(label=_("Contact"), max_length=100, required=False,
                                   help_text=_("Never shown on the page: shared in a deal with your consent."))
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32, required=False)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices, initial=Visibility.PUBLIC)
    invited = forms.CharField(label=_("Invited organisations"), required=False,
                              help_text=_("Registry codes separated by ; (for invited visibility)."))

    def clean_invited(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["invited"].replace("；", ";").replace(",", ";").split(";")
                if c.strip()]

    @classmethod
    def initial_from(cls, obj: Achievement) -> dict[str, Any]:
        initial = super().initial_from(obj)
        initial["invited"] = "; ".join(obj.invited.values_list("code", flat=True))
        return initial


class DemandForm(ListingForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    public_summary = forms.CharField(label=_("Public summary"), widget=forms.Textarea(attrs={"rows": 3}),
                                     help_text=_("Shown to everyone."))
    description = forms.CharField(label=_("Full description"), widget=forms.Textarea(attrs={"rows": 6}),
                                  required=False)
    confidential = forms.BooleanField(
        label=_("Confidential: the full description only for the parties of a deal"), required=False)
    sectors = _sector_field()
    keywords = forms.CharField(label=_("Keywords"), max_length=300, required=False)
    budget_min = forms.DecimalField(label=_("Budget from (10k CNY)"), required=False, max_digits=12,
                                    decimal_places=2)
    budget_max = forms.DecimalField(label=_("Budget to (10k CNY)"), required=False, max_digits=12, decimal_places=2)
    deadline = forms.DateField(label=_("Needed by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    modes = _modes_field(_("Preferred modes"))
    min_trl = forms.TypedChoiceField(label=_("Minimum TRL"), coerce=int, empty_value=None, required=False,
                                     choices=[("", "—"), *[(n, str(n)) for n in range(1, 10)]])


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ListingStatus.choices)


class FeedbackForm(forms.Form):
    label = forms.ChoiceField(label=_("Feedback"), choices=FeedbackLabel.choices)
    demand = forms.ModelChoiceField(queryset=TechDemand.objects.all(), required=False)
    achievement = forms.ModelChoiceField(queryset=Achievement.objects.all(), required=False)
    next = forms.CharField(required=False)


class WatchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    query = forms.CharField(label=_("Query"), max_length=300,
                            help_text=_("Words in Chinese or English; synonyms are included."))
    sector = forms.ModelChoiceField(label=_("Field"), queryset=Sector.objects.all(), required=False,
                                    to_field_name="code")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=300, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("achievements", _("Achievements")),
                                                       ("demands", _("Demands"))], required=False)
    sector = forms.ModelChoiceField(label=_("Field"), queryset=Sector.objects.all(), required=False,
                                    to_field_name="code")
