"""Forms of deals, technology-contract registration and the incubation pipeline (validation of
shape only; the rules live in the services)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sciencecity.registry.models import Organisation
from sciencecity.transfer import selectors
from sciencecity.transfer.choices import ContractType, IncubationStage
from sciencecity.transfer.models import Achievement, TechDemand
from sciencecity.transfer.services import deals as deal_services
from sciencecity.transfer.services import incubation as incubation_services

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OrganisationCodeField(forms.CharField):
    """An organisation by its registry code or unified social credit code (the registry can be large)."""

    def __init__(self, *, kinds=(), **kwargs):
        self.kinds = kinds
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", _("The registry code or the unified social credit code."))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        qs = Organisation.objects.filter(kind__in=self.kinds) if self.kinds else Organisation.objects.all()
        found = qs.filter(code=value).first() or qs.filter(credit_code=value.upper()).first()
        if found is None:
            raise forms.ValidationError(_("No organisation in the registry has the code %(code)s.") % {"code": value})
        return found


def _broker_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=_("Technology broker (技术经纪人)"), required=False,
                                  queryset=selectors.brokers(),
                                  help_text=_("The broker credited with bringing this deal, if any."))


class InterestForm(forms.Form):
    """意向: the buyer's message, optionally from one of its demands, optionally through a broker."""

    message = forms.CharField(label=_("Message to the owner"), widget=forms.Textarea(attrs={"rows": 4}),
                              max_length=2000)
    demand = forms.ModelChoiceField(label=_("For our demand"), required=False, queryset=TechDemand.objects.none())

    def __init__(self, *args, buyer_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["demand"].queryset = TechDemand.objects.filter(organisation_id__in=buyer_ids)
        self.fields["broker"] = _broker_field()


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Negotiation note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class BrokerForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["broker"] = _broker_field()


class ContractForm(forms.Form):
    """技术合同认定登记. Buyer and seller come from the deal when there is one."""

    contract_type = forms.ChoiceField(label=_("Contract type"), choices=[("", "—"), *ContractType.choices])
    title = forms.CharField(label=_("Contract title"), max_length=200)
    seller = forms.ModelChoiceField(label=_("Seller"), queryset=Organisation.objects.none())
    buyer = OrganisationCodeField(label=_("Buyer"))
    amount = forms.DecimalField(label=_("Contract amount (10k CNY)"), max_digits=14, decimal_places=2)
    technical_income = forms.DecimalField(label=_("Technical income (技术性收入, 10k CNY)"), max_digits=14,
                                          decimal_places=2)
    registration_number = forms.CharField(label=_("Registration number"), max_length=40)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    registered_on = forms.DateField(label=_("Registered on"), widget=DATE, initial=timezone.localdate)
    contract_file = forms.FileField(label=_("Written contract (PDF, Word or image, ≤ 20 MB)"), required=False)

    def __init__(self, *args, deal=None, seller_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        if deal is not None:
            del self.fields["seller"], self.fields["buyer"]
            self.initial.setdefault("title", deal.achievement.title if deal.achievement else "")
        else:
            self.fields["seller"].queryset = Organisation.objects.filter(pk__in=seller_ids)
            if len(seller_ids) == 1:
                self.initial.setdefault("seller", next(iter(seller_ids)))

    def service_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in deal_services.CONTRACT_FIELDS}


class StartupMoveForm(forms.Form):
    organisation = OrganisationCodeField(label=_("Start-up"), kinds=("enterprise",))
    stage = forms.ChoiceField(label=_("Stage"), choices=IncubationStage.choices)
    carrier = forms.ModelChoiceField(label=_("Carrier"), required=False,
                                     queryset=Organisation.objects.filter(kind__in=incubation_services.CARRIER_KINDS))
    entered_on = forms.DateField(label=_("From"), widget=DATE, initial=timezone.localdate)
    achievement = forms.ModelChoiceField(label=_("Spun off from achievement (code)"), required=False,
                                         to_field_name="code", widget=forms.TextInput,
                                         queryset=Achievement.objects.all())

    def __init__(self, *args, carrier_ids=None, **kwargs):
        super().__init__(*args, **kwargs)
        if carrier_ids is not None:
            self.fields["carrier"].queryset = self.fields["carrier"].queryset.filter(pk__in=carrier_ids)
