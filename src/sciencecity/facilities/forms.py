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


TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _model_fields(model, names: list[str]) -> dict[str, forms.Field]:
    """Form fields (labels from the models' translated verbose names) that only parse; the services validate."""
    fields = forms.fields_for_model(model, fields=names)
    for field in fields.values():
        for attr in ("min_value", "max_value"):
            if hasattr(field, attr):
                setattr(field, attr, None)
        field.validators = []
        if isinstance(field, forms.TimeField):
            field.widget = TIME
    return fields


class InstrumentForm(forms.Form):
    """An instrument's details, opening hours, booking rules, training and qualification requirements."""

    def __init__(self, *args, create: bool = False, hosts=None, **kwargs):
        from sciencecity.facilities.models import Instrument
        from sciencecity.facilities.services.catalogue import INSTRUMENT_FIELDS

        super().__init__(*args, **kwargs)
        if create:
            self.fields["code"] = forms.CharField(label=_("Code"), max_length=40)
            self.fields["host"] = forms.ModelChoiceField(label=_("Host organisation"), queryset=hosts)
        self.fields.update(_model_fields(Instrument, INSTRUMENT_FIELDS))

    def data_for_service(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("code", "host")}


class PriceListForm(forms.Form):
    """价格表: the price per hour of each user class (empty: no price for that class)."""

    def __init__(self, *args, **kwargs):
        from sciencecity.facilities.choices import UserClass

        super().__init__(*args, **kwargs)
        for value, label in UserClass.choices:
            self.fields[f"price_{value}"] = forms.DecimalField(label=label, required=False, max_digits=12,
                                                               decimal_places=2)

    def rates(self) -> dict:
        return {name.removeprefix("price_"): value for name, value in self.cleaned_data.items()}


class TrainingForm(forms.Form):
    username = forms.CharField(label=_("User name of the trained user"), max_length=150)
    valid_until = forms.DateField(label=_("Training valid until"), widget=forms.DateInput(attrs={"type": "date"}))


class SchemeForm(forms.Form):
    """创新券方案: budget, cap per enterprise, share of a fee, eligibility rule, validity, status."""

    def __init__(self, *args, create: bool = False, **kwargs):
        from sciencecity.facilities.models import VoucherScheme
        from sciencecity.facilities.services.vouchers import SCHEME_FIELDS

        super().__init__(*args, **kwargs)
        if create:
            self.fields["code"] = forms.CharField(label=_("Code"), max_length=40)
        self.fields.update(_model_fields(VoucherScheme, SCHEME_FIELDS))
        self.fields["valid_until"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("Photo (JPEG, PNG or WebP, at most 5 MB)"))
