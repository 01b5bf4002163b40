"""Forms of the calls side: demands, topics, calls (with the rubric and the extra-question editor),
applications (budget table, team, answers, representative works), attachments, integrity list."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sciencecity.programmes.choices import Mechanism
from sciencecity.programmes.models import Call, Demand, Topic, TopicList
from sciencecity.registry.choices import Level, OrganisationKind
from sciencecity.registry.models import Organisation, Person

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _ServiceValidated(forms.ModelForm):
    """Model validation happens in the service (which also needs fields the form does not have)."""

    def _post_clean(self):
        pass

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class DemandForm(_ServiceValidated):
    class Meta:
        model = Demand
        fields = ["title", "description", "sector", "expected_results", "budget", "deadline"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5}),
                   "expected_results": forms.Textarea(attrs={"rows": 3}), "deadline": DATE}


class TopicListForm(_ServiceValidated):
    class Meta:
        model = TopicList
        fields = ["name", "kind", "year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class TopicForm(_ServiceValidated):
    demands = forms.ModelMultipleChoiceField(
        label=_("Demands behind the topic"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Demand.objects.select_related("organisation").order_by("-created_at"))

    class Meta:
        model = Topic
        fields = ["topic_list", "title", "description", "sector", "acceptance_criteria", "reward", "demands"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}),
                   "acceptance_criteria": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["demands"].label_from_instance = lambda d: f"{d.code} {d.title}（{d.organisation.name}）"

    def service_data(self) -> dict:
        data = super().service_data()
        data.pop("demands")
        data.pop("topic_list")
        return data


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n;；,，、]+", text or "") if part.strip()]


class CallForm(_ServiceValidated):
    eligible_kinds = forms.MultipleChoiceField(label=_("Eligible organisation kinds"), required=False,
                                               choices=OrganisationKind.choices, widget=forms.CheckboxSelectMultiple,
                                               help_text=_("None ticked: every kind may apply."))
    eligible_levels = forms.MultipleChoiceField(label=_("Eligible levels"), required=False, choices=Level.choices,
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text=_("None ticked: every level may apply."))
    eligible_districts = forms.CharField(label=_("Eligible districts"), required=False,
                                         help_text=_("Separate districts with commas; empty: anywhere."))

    class Meta:
        model = Call
        fields = ["title", "description", "mechanism", "topic", "opens_on", "closes_on", "review_until", "panel_on",
                  "notify_on", "eligible_kinds", "eligible_levels", "eligible_districts", "max_request",
                  "total_budget", "reviews_per_application", "min_load", "max_load", "require_senior", "blind_review",
                  "conflict_years", "alliance_conflicts", "normalise_scores", "reward", "acceptance_criteria",
                  "teams_funded", "keep_per_round"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "acceptance_criteria": forms.Textarea(
            attrs={"rows": 3}), "opens_on": DATE, "closes_on": DATE, "review_until": DATE, "panel_on": DATE,
            "notify_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.select_related("topic_list")

    def clean_eligible_districts(self):
        return _split(self.cleaned_data.get("eligible_districts", ""))

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_on"), data.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error("closes_on", _("The call closes after it opens."))
        if (data.get("min_load") or 0) > (data.get("max_load") or 0):
            self.add_error("min_load", _("The minimum load cannot exceed the maximum load."))
        mechanism, topic = data.get("mechanism"), data.get("topic")
        if mechanism == Mechanism.OPEN_COMPETITION:
            if not data.get("reward") and not (topic and topic.reward):
                self.add_error("reward", _("A 揭榜挂帅 call states the reward paid on acceptance."))
            if not (data.get("acceptance_criteria") or "").strip() and not (topic and topic.acceptance_criteria):
                self.add_error("acceptance_criteria", _("A 揭榜挂帅 call states its acceptance criteria."))
        if mechanism == Mechanism.HORSE_RACE:
            funded, kept = data.get("teams_funded") or 0, data.get("keep_per_round") or 0
            if funded < 2:
                self.add_error("teams_funded", _("A horse race funds at least two teams in parallel."))
            elif not 1 <= kept < funded:
                self.add_error("keep_per_round", _("Keep at least one team and fewer than the teams funded."))
        return data


class FormFieldForm(forms.Form):
    """One extra question of a call's application form."""

    name = forms.SlugField(label=_("Name"), max_length=40,
                           help_text=_("Letters, digits, hyphens or underscores."))
    label = forms.CharField(label=_("Question"), max_length=200)
    required = forms.BooleanField(label=_("Required"), required=False)


class CriterionForm(forms.Form):
    name = forms.CharField(label=_("Criterion"), max_length=100)
    weight = forms.DecimalField(label=_("Weight"), max_digits=5, decimal_places=2, min_value=Decimal("0.01"))
    max_score = forms.IntegerField(label=_("Maximum score"), min_value=1, max_value=100, initial=10)
    descriptors = forms.CharField(label=_("Descriptors"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class _UniqueNames(forms.BaseFormSet):
    def clean(self):
        super().clean()
        names = [f.cleaned_data["name"] for f in self.forms if f.cleaned_data.get("name")]
        if len(names) != len(set(names)):
            raise forms.ValidationError(_("Each row needs a different name."))


FormFieldFormSet = formset_factory(FormFieldForm, formset=_UniqueNames, extra=2)
CriterionFormSet = formset_factory(CriterionForm, formset=_UniqueNames, extra=2, min_num=1, validate_min=True)


class ApplicationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    abstract = forms.CharField(label=_("Abstract"), widget=forms.Textarea(attrs={"rows": 6}))
    keywords = forms.CharField(label=_("Keywords"), max_length=300, required=False,
                               help_text=_("Separate keywords with commas."))
    requested_amount = forms.DecimalField(label=_("Requested amount (10k CNY)"), max_digits=12, decimal_places=2,
                                          min_value=Decimal("0"))
    applicant = forms.ModelChoiceField(label=_("Applicant (person)"), queryset=Person.objects.all(), required=False,
                                       widget=forms.HiddenInput)
    members = forms.ModelMultipleChoiceField(label=_("Team members"), queryset=Person.objects.all(), required=False,
                                             widget=forms.MultipleHiddenInput)

    def __init__(self, *args, call: Call, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.question_fields = []
        for question in call.form_fields or []:
            key = f"answer_{question['name']}"
            self.fields[key] = forms.CharField(
                label=question.get("label") or question["name"], required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Required for submission.") if question.get("required") else "")
            self.question_fields.append(key)

    def answers(self) -> dict[str, str]:
        return {key.removeprefix("answer_"): self.cleaned_data.get(key, "") for key in self.question_fields}

    def main_fields(self):
        return [self[name] for name in ("title", "abstract", "keywords", "requested_amount")]

    def question_bound_fields(self):
        return [self[name] for name in self.question_fields]


class BudgetLineForm(forms.Form):
    category = forms.CharField(label=_("Category"), max_length=100)
    amount = forms.DecimalField(label=_("Amount (10k CNY)"), max_digits=12, decimal_places=2, min_value=Decimal("0"))


class WorkForm(forms.Form):
    """代表作: one representative work and why it represents the applicant."""

    title = forms.CharField(label=_("Title"), max_length=300)
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2100)
    venue = forms.CharField(label=_("Venue"), max_length=200, required=False)
    why = forms.CharField(label=_("Why it is representative"), widget=forms.Textarea(attrs={"rows": 2}))


BudgetLineFormSet = formset_factory(BudgetLineForm, extra=3)
WorkFormSet = formset_factory(WorkForm, extra=2, max_num=5, validate_max=True)


CENTS = Decimal("0.01")


def budget_total(formset) -> Decimal:
    return sum((f.cleaned_data["amount"] for f in formset.forms if f.cleaned_data), Decimal(0)).quantize(CENTS)


def budget_lines(formset) -> list[dict[str, str]]:
    return [{"category": f.cleaned_data["category"], "amount": str(f.cleaned_data["amount"].quantize(CENTS))}
            for f in formset.forms if f.cleaned_data]


def works(formset) -> list[dict]:
    return [dict(f.cleaned_data) for f in formset.forms if f.cleaned_data]


class AttachmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(label=_("File"), help_text=_("PDF, Word (.docx), Excel (.xlsx), PNG or JPEG; at most 20 MB."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class IntegrityEntryForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=Person.objects.all(), required=False,
                                    widget=forms.HiddenInput)
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.all(),
                                          required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    source = forms.CharField(label=_("Source"), max_length=300,
                             help_text=_("The decision or document that puts the entry on the list."))
    start_date = forms.DateField(label=_("From"), widget=DATE)
    end_date = forms.DateField(label=_("Until"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if not data.get("person") and not data.get("organisation"):
            raise forms.ValidationError(_("Name the person or the organisation."))
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The entry ends after it starts."))
        return data


class IntegrityEndForm(forms.Form):
    end_date = forms.DateField(label=_("Ends on"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=500)


# --- the panel page (评审会): one form per action
def panel_pool():
    """People offered as panel members and project managers: the expert pool and account holders."""
    from django.db.models import Q

    return Person.objects.filter(Q(expert_profile__isnull=False) | Q(users__isnull=False)).distinct().order_by("name")


class PanelForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    members = forms.ModelMultipleChoiceField(label=_("Panel members"), queryset=Person.objects.none(),
                                             required=False)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = panel_pool()


class NotifyForm(forms.Form):
    start_date = forms.DateField(label=_("Projects start"), widget=DATE)
    end_date = forms.DateField(label=_("Projects end"), widget=DATE)


class _ErrorText:
    def error_text(self) -> str:
        """The errors in one line, each named by its field's label (for the page's message)."""
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return "; ".join(parts)


VOTE_FIELDS = ("votes_for", "votes_against", "votes_abstain")


class DecisionForm(_ErrorText, forms.Form):
    """One decision: outcome, amount (10k CNY), vote counts (empty means 0) and the rationale."""

    outcome = forms.CharField(label=_("Outcome"), max_length=20, required=False)
    amount = forms.DecimalField(label=_("Amount (10k CNY)"), max_digits=14, decimal_places=2,
                                min_value=Decimal("0"), required=False)
    votes_for = forms.IntegerField(label=_("Votes for"), min_value=0, max_value=32767, required=False)
    votes_against = forms.IntegerField(label=_("Votes against"), min_value=0, max_value=32767, required=False)
    votes_abstain = forms.IntegerField(label=_("Abstentions"), min_value=0, max_value=32767, required=False)
    rationale = forms.CharField(label=_("Rationale"), required=False)

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("application", None)
        for name in VOTE_FIELDS:
            data[name] = data[name] or 0
        return data


class PanelDecisionForm(DecisionForm):
    """A decision on one application of the panel page."""

    application = forms.IntegerField(label=_("Application"), min_value=1)


class PromoteForm(_ErrorText, forms.Form):
    """Promote an application from the reserve list with an amount and a reason."""

    application = forms.IntegerField(label=_("Application"), min_value=1)
    amount = forms.DecimalField(label=_("Amount (10k CNY)"), max_digits=14, decimal_places=2,
                                min_value=Decimal("0"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False)
