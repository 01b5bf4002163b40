from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.plans import sources
from sciencecity.plans.choices import Attribute, Comparator, Direction, ProjectStatus
from sciencecity.plans.models import Task
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation


def _departments():
    return Organisation.objects.filter(kind=OrganisationKind.GOVERNMENT_DEPARTMENT).order_by("name")


class PlanUploadForm(forms.Form):
    file = forms.FileField(label=_("Plan document (.pdf, .docx, .html, .md, .txt)"),
                           help_text=_("A saved web page or Markdown copy with its pictures can be uploaded as "
                                       "one .zip."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.html,.htm,.md,.txt,.zip",
                                                                  "data-testid": "plan-file"}))
    period_first = forms.IntegerField(label=_("First year of the plan period"), required=False, min_value=1990,
                                      max_value=2100,
                                      help_text=_("Leave empty to use the period stated in the document."))
    period_last = forms.IntegerField(label=_("Last year of the plan period"), required=False, min_value=1990,
                                     max_value=2100)

    def clean(self):
        data = super().clean()
        first, last = data.get("period_first"), data.get("period_last")
        if (first is None) != (last is None):
            raise forms.ValidationError(_("Give both years of the plan period, or neither."))
        if first is not None and not first <= last <= first + 15:
            raise forms.ValidationError(_("The plan period must run from a first to a last year, "
                                          "at most 15 years apart."))
        return data

    def period(self) -> tuple[int, int] | None:
        first, last = self.cleaned_data.get("period_first"), self.cleaned_data.get("period_last")
        return (first, last) if first is not None and last is not None else None


class TaskDecompositionForm(forms.ModelForm):
    lead_department = forms.ModelChoiceField(label=_("Lead department"), queryset=_departments(), required=False)
    supporting_departments = forms.ModelMultipleChoiceField(
        label=_("Supporting departments"), queryset=_departments(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}))
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=300)

    class Meta:
        model = Task
        fields = ["lead_department", "supporting_departments", "deadline", "deliverables", "weight"]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "deliverables": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].queryset = _departments()
        self.fields["supporting_departments"].queryset = _departments()

    def _post_clean(self):
        pass


class ProgressReportForm(forms.Form):
    period = forms.CharField(label=_("Period"), max_length=20, help_text=_("For example 2024, 2024-H1 or 2024-Q3."))
    as_of = forms.DateField(label=_("As of"), widget=forms.DateInput(attrs={"type": "date"}))
    percent = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    narrative = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 4}))
    evidence = forms.FileField(label=_("Evidence file"), required=False,
                               help_text=_("PDF, Word, Excel or image, at most 10 MB."))

    ALLOWED = (".pdf", ".docx", ".doc", ".xlsx", ".xls", ".png", ".jpg", ".jpeg")

    def clean_evidence(self):
        file = self.cleaned_data.get("evidence")
        if file:
            if not file.name.lower().endswith(self.ALLOWED):
                raise forms.ValidationError(_("Upload a PDF, Word, Excel or image file."))
            if file.size > 10 * 1024 * 1024:
                raise forms.ValidationError(_("The file is larger than 10 MB."))
        return file


class ValueForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1990, max_value=2100)
    value = forms.FloatField(label=_("Value"), min_value=-1e15, max_value=1e15)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ProjectUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ProjectStatus.choices)
    planned_investment = forms.DecimalField(label=_("Planned investment (10k CNY)"), required=False, min_value=0)
    actual_investment = forms.DecimalField(label=_("Investment to date (10k CNY)"), required=False, min_value=0)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Update"), widget=forms.Textarea(attrs={"rows": 3}))


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200)
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))


class IndicatorMetadataForm(forms.Form):
    """An indicator's metadata and target (bureau officers)."""

    unit = forms.CharField(label=_("Unit"), max_length=30, required=False)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    comparator = forms.ChoiceField(label=_("Comparator"), choices=Comparator.choices)
    target_value = forms.FloatField(label=_("Target value"), required=False,
                                    help_text=_("For every comparator except a range."))
    target_low = forms.FloatField(label=_("Target range: low"), required=False)
    target_high = forms.FloatField(label=_("Target range: high"), required=False)
    target_year = forms.IntegerField(label=_("Target year"), min_value=1990, max_value=2100, required=False)
    attribute = forms.ChoiceField(label=_("Attribute"), choices=Attribute.choices, required=False)
    data_source = forms.CharField(label=_("Data source"), max_length=200, required=False)
    owner_department = forms.ModelChoiceField(label=_("Owner department"), queryset=_departments(), required=False)
    source_key = forms.ChoiceField(label=_("Registry computation"), required=False)
    plausible_min = forms.FloatField(label=_("Plausible minimum"), required=False, min_value=-1e15, max_value=1e15,
                                     help_text=_("Values below are refused as typing errors. Empty: derived "
                                                 "from the unit."))
    plausible_max = forms.FloatField(label=_("Plausible maximum"), required=False, min_value=-1e15, max_value=1e15,
                                     help_text=_("Values above are refused as typing errors. Empty: derived "
                                                 "from the unit."))
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False,
                             help_text=_("Required when the target changes."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_department"].queryset = _departments()
        self.fields["source_key"].choices = [("", _("None: values are entered"))] + [
            (source.key, f"{source.label} ({source.key})") for source in sources.all_sources()]

    @classmethod
    def initial_for(cls, indicator, target) -> dict:
        initial = {name: getattr(indicator, name) for name in (
            "unit", "direction", "comparator", "target_year", "attribute", "data_source", "owner_department",
            "source_key", "plausible_min", "plausible_max")}
        if target is not None:
            initial.update(target_value=target.value, target_low=target.low, target_high=target.high)
        return initial
