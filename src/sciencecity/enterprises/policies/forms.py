"""Forms of the policy library (the rule itself is checked by the service, naming the clause)."""

from __future__ import annotations

from django import forms

from sciencecity.enterprises.policies.models import Policy
from sciencecity.enterprises.policies.services import POLICY_FIELDS


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = list(POLICY_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
            "application_opens": forms.DateInput(attrs={"type": "date"}),
            "application_closes": forms.DateInput(attrs={"type": "date"}),
            "benefit": forms.Textarea(attrs={"rows": 3}),
            "materials": forms.Textarea(attrs={"rows": 3}),
            "rule": forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"}),
        }
