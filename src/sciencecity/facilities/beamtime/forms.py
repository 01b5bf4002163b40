"""Forms of the facility time pages (validation of the shape; the services check the rest)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.engines.beamtime import MAX_SHIFTS
from sciencecity.facilities.beamtime.choices import AllocationPolicy, Feasibility
from sciencecity.facilities.models import Instrument
from sciencecity.registry.models import Organisation, Person


class RoundForm(forms.Form):
    code = forms.RegexField(label=_("code"), max_length=40, regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title = forms.CharField(label=_("title"), max_length=200)
    facility = forms.ModelChoiceField(label=_("facility"), queryset=Organisation.objects.none())
    closes_on = forms.DateField(label=_("proposals close on"), widget=forms.DateInput(attrs={"type": "date"}))
    schedule_starts_on = forms.DateField(label=_("first day of the scheduled shifts"),
                                         widget=forms.DateInput(attrs={"type": "date"}))
    reviews_per_proposal = forms.IntegerField(label=_("reviews per proposal"), min_value=1, max_value=9, initial=2)
    max_load = forms.IntegerField(label=_("maximum reviews per expert"), min_value=1, max_value=200, initial=6)

    def __init__(self, *args, facilities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities if facilities is not None else Organisation.objects.none()


class CapacityForm(forms.Form):
    instrument = forms.ModelChoiceField(label=_("beamline"), queryset=Instrument.objects.none())
    shifts = forms.IntegerField(label=_("available shifts"), min_value=0, max_value=MAX_SHIFTS)
    reserved_shifts = forms.IntegerField(label=_("shifts reserved for priority access"), min_value=0,
                                         max_value=MAX_SHIFTS, initial=0)

    def __init__(self, *args, instruments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].queryset = instruments if instruments is not None else Instrument.objects.none()


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=300)
    abstract = forms.CharField(label=_("scientific case"), widget=forms.Textarea(attrs={"rows": 5}))
    keywords = forms.CharField(label=_("keywords"), max_length=300, required=False)
    team = forms.CharField(label=_("team (registry person codes, comma separated)"), max_length=1000, required=False)
    samples = forms.CharField(label=_("samples"), widget=forms.Textarea(attrs={"rows": 3}))
    hazards = forms.CharField(label=_("hazards (chemical, biological, radioactive, none)"), max_length=2000)
    priority = forms.BooleanField(label=_("industry rapid access (priority shifts)"), required=False)
    safety_declared = forms.BooleanField(label=_("I declare the samples and hazards completely and will follow the "
                                                 "facility's safety rules"), required=True)

    def __init__(self, *args, beamlines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.beamline_fields = []
        for line in beamlines:
            name = f"shifts_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=_("shifts on %(beamline)s") % {"beamline": line.instrument}, min_value=0, max_value=MAX_SHIFTS,
                required=False, initial=0)
            self.beamline_fields.append((name, line))

    def clean_team(self):
        codes = [c.strip() for c in self.cleaned_data.get("team", "").replace("，", ",").split(",") if c.strip()]
        people = {p.code: p for p in Person.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in people]
        if unknown:
            raise forms.ValidationError(_("Unknown person code(s): %(codes)s") % {"codes": ", ".join(unknown[:5])})
        return [people[c] for c in dict.fromkeys(codes)]

    def requests(self):
        return [(line, self.cleaned_data[name]) for name, line in self.beamline_fields if self.cleaned_data.get(name)]


class FeasibilityForm(forms.Form):
    feasibility = forms.ChoiceField(label=_("technical feasibility"), choices=[
        c for c in Feasibility.choices if c[0] != Feasibility.PENDING])
    shifts_granted = forms.IntegerField(label=_("shifts granted (when partly feasible)"), min_value=1,
                                        max_value=MAX_SHIFTS, required=False)
    feasibility_note = forms.CharField(label=_("feasibility comment"), widget=forms.Textarea(attrs={"rows": 2}),
                                       required=False, max_length=4000)


class ReviewForm(forms.Form):
    score = forms.DecimalField(label=_("score (1–5, 5 best)"), min_value=1, max_value=5, decimal_places=1)
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea(attrs={"rows": 4}), max_length=8000)


class AllocateForm(forms.Form):
    policy = forms.ChoiceField(label=_("allocation policy"), choices=AllocationPolicy.choices)


class ReportForm(forms.Form):
    summary = forms.CharField(label=_("summary"), widget=forms.Textarea(attrs={"rows": 4}), max_length=8000)
    results = forms.CharField(label=_("results"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              max_length=8000)
    publications = forms.CharField(label=_("publications and data sets"), widget=forms.Textarea(attrs={"rows": 2}),
                                   required=False, max_length=4000)
    shifts_used = forms.IntegerField(label=_("shifts used"), min_value=0, max_value=MAX_SHIFTS)
