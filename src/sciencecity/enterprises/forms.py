"""Forms of the enterprise pages: the profile (with self-ratings), a fiscal year (with optional month
by month head counts), IP rights, incidents, tier criteria."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.engines.rules.profile import SELF_RATING_ITEMS, SELF_RATING_LETTERS
from sciencecity.enterprises.cultivation import CRITERIA_FIELDS
from sciencecity.enterprises.models import (
    EnterpriseProfile,
    FiscalYear,
    Incident,
    IntellectualProperty,
    TierCriteria,
)
from sciencecity.enterprises.services import INCIDENT_FIELDS, IP_FIELDS, MONTH_FIELDS, YEAR_FIELDS

SELF_RATING_LABELS = {
    "ip_advancedness": _("IP: technical advancedness (A–E)"),
    "ip_core_support": _("IP: core support of the main products (A–E)"),
    "ip_acquisition": _("IP: how obtained (0–6)"),
    "rd_system": _("R&D organisation and management system (0–6)"),
    "rd_institution": _("R&D institutions and cooperation (0–6)"),
    "conversion_incentives": _("Incentives for conversion (0–4)"),
    "talent_development": _("Talent training and recruitment (0–4)"),
}
BOOL_CHOICES = [("", _("Not declared")), ("true", _("Yes")), ("false", _("No"))]


def _nullable_bool(label):
    return forms.TypedChoiceField(label=label, choices=BOOL_CHOICES, required=False,
                                  coerce=lambda v: {"true": True, "false": False}.get(v), empty_value=None)


class ProfileForm(forms.ModelForm):
    resident_mainland = _nullable_bool(_("resident enterprise in mainland China"))
    forbidden_industry = _nullable_bool(_("products in a forbidden, restricted or obsolete category"))

    class Meta:
        model = EnterpriseProfile
        fields = ["technology_domain", "standards_drafted", "valuation", "resident_mainland", "forbidden_industry",
                  "incidents_declared"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rating = (self.instance.self_rating or {}) if self.instance else {}
        for key, points in SELF_RATING_ITEMS.items():
            if key in SELF_RATING_LETTERS:
                choices = [("", _("Not rated: the experts' range"))] + [(c, c) for c in "ABCDE"]
                self.fields[f"rating_{key}"] = forms.ChoiceField(label=SELF_RATING_LABELS[key], choices=choices,
                                                                 required=False, initial=rating.get(key, ""))
            else:
                self.fields[f"rating_{key}"] = forms.IntegerField(
                    label=SELF_RATING_LABELS[key], min_value=0, max_value=points, required=False,
                    initial=rating.get(key), help_text=_("Empty: the experts' range."))
        for name in ("resident_mainland", "forbidden_industry"):
            value = getattr(self.instance, name, None)
            self.initial[name] = "" if value is None else ("true" if value else "false")

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        rating = {}
        for key in SELF_RATING_ITEMS:
            value = self.cleaned_data.get(f"rating_{key}")
            if value not in (None, ""):
                rating[key] = value
        data["self_rating"] = rating
        return data


class FiscalYearForm(forms.ModelForm):
    class Meta:
        model = FiscalYear
        fields = ["year", *YEAR_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        months = {m.month: m for m in self.instance.months.all()} if self.instance.pk else {}
        for month in range(1, 13):
            for name in MONTH_FIELDS:
                field = forms.IntegerField(label=f"{month}:{name}", min_value=0, required=False,
                                           widget=forms.NumberInput(attrs={"class": "month-cell"}))
                if month in months:
                    field.initial = getattr(months[month], name)
                self.fields[f"m{month}_{name}"] = field
        if self.instance.pk:
            self.fields["year"].disabled = True

    def validate_unique(self):
        """(profile, year) is checked by the service, which knows the profile."""

    def main_fields(self):
        return [self[name] for name in self.Meta.fields]

    def month_grid(self):
        return [(month, [self[f"m{month}_{name}"] for name in MONTH_FIELDS]) for month in range(1, 13)]

    def clean(self):
        cleaned = super().clean()
        given = [cleaned.get(f"m{m}_{n}") for m in range(1, 13) for n in MONTH_FIELDS]
        if any(v is not None for v in given) and any(v is None for v in given):
            raise forms.ValidationError(_("Monthly staff: fill all twelve months (all four counts), or none."))
        return cleaned

    def months(self) -> list[dict] | None:
        if self.cleaned_data.get("m1_start") is None:
            return [] if self.instance.pk else None
        return [{name: self.cleaned_data[f"m{m}_{name}"] for name in MONTH_FIELDS} for m in range(1, 13)]

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in YEAR_FIELDS}


class IpForm(forms.ModelForm):
    class Meta:
        model = IntellectualProperty
        fields = list(IP_FIELDS)
        widgets = {"granted_on": forms.DateInput(attrs={"type": "date"})}

    def _post_clean(self):
        """The service validates the whole row (``full_clean``) and its errors go back on the fields."""


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = list(INCIDENT_FIELDS)
        widgets = {"occurred_on": forms.DateInput(attrs={"type": "date"})}

    def _post_clean(self):
        """The service validates the whole row (``full_clean``) and its errors go back on the fields."""


class TierCriteriaForm(forms.ModelForm):
    class Meta:
        model = TierCriteria
        fields = list(CRITERIA_FIELDS)

    def _post_clean(self):
        """The service validates the whole row (``full_clean``) and its errors go back on the fields."""
