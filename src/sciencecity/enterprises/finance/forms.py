"""Forms of tech finance."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.enterprises.finance.choices import ProductKind
from sciencecity.enterprises.finance.models import FinancialProduct
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation

PROVIDER_KINDS = (OrganisationKind.BANK, OrganisationKind.INVESTMENT_FUND, OrganisationKind.SERVICE_AGENCY)


class ProductForm(forms.ModelForm):
    class Meta:
        model = FinancialProduct
        fields = ["code", "name", "kind", "provider", "min_amount", "max_amount", "term_months", "rate_note",
                  "description", "rule", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "rule": forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"})}

    def __init__(self, *args, providers=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Organisation.objects.filter(kind__in=PROVIDER_KINDS)
        if providers is not None:
            qs = qs.filter(pk__in=providers)
        self.fields["provider"].queryset = qs.order_by("name")


class NeedForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Enterprise"), queryset=Organisation.objects.none())
    kind = forms.ChoiceField(label=_("Kind of product wanted"), required=False,
                             choices=[("", _("Any"))] + list(ProductKind.choices))
    amount = forms.DecimalField(label=_("Amount (10k CNY)"), max_digits=16, decimal_places=2, min_value=0.01)
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=organisations).order_by("name")


class FundForm(forms.Form):
    amount = forms.DecimalField(label=_("Funded amount (10k CNY)"), max_digits=16, decimal_places=2, min_value=0.01)
    funded_on = forms.DateField(label=_("Funded on"), widget=forms.DateInput(attrs={"type": "date"}))


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
