"""Forms of the facilities pages (the services validate; the forms only parse)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.facilities.choices import VOUCHER_FIELDS

LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BookingForm(forms.Form):
    start = forms.DateTimeField(label=_("Start"), widget=LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    end = forms.DateTimeField(label=_("End"), widget=LOCAL, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    purpose = forms.CharField(label=_("Purpose"), max_length=300, required=False)
    occurrences = forms.IntegerField(label=_("Repeat weekly, occurrences (1 = once)"), min_value=1, max_value=52,
                                     initial=1)
    waitlist = forms.BooleanField(label=_("Join the waitlist if the slot is taken"), required=False)


class RedeemForm(forms.Form):
    voucher = forms.CharField(label=_("Voucher"), max_length=40)
    amount = forms.DecimalField(label=_("Amount (CNY, empty = the most allowed)"), max_digits=12, decimal_places=2,
                                required=False, min_value=0)


class VoucherApplyForm(forms.Form):
    requested = forms.DecimalField(label=_("Amount requested (CNY)"), max_digits=12, decimal_places=2, min_value=0)
    employees = forms.IntegerField(label=_("Employees"), min_value=0, max_value=10**7)
    revenue = forms.DecimalField(label=_("Revenue last year (10k CNY)"), max_digits=14, decimal_places=2, min_value=0)
    total_assets = forms.DecimalField(label=_("Total assets (10k CNY)"), max_digits=14, decimal_places=2,
                                      min_value=0, required=False)
    registered_in_district = forms.BooleanField(label=_("Registered in Guangming District"), required=False)

    def facts(self) -> dict:
        data = self.cleaned_data
        return {k: (float(data[k]) if k not in ("registered_in_district",) and data.get(k) is not None else data.get(k))
                for k in VOUCHER_FIELDS if k in data}
