from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.registry.choices import PersonCategory
from sciencecity.registry.models import Organisation, Person, Sector
from sciencecity.registry.services import CERTIFIED_FIELDS


def _split(text: str) -> list[str]:
    import re

    return [part.strip() for part in re.split(r"[\n;；,，、]+", text or "") if part.strip()]


class OrganisationForm(forms.ModelForm):
    sectors = forms.ModelMultipleChoiceField(
        label=_("Sectors"), queryset=Sector.objects.all(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    aliases = forms.CharField(label=_("Other names"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Former names, abbreviations; one per line."))
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=300)

    class Meta:
        model = Organisation
        fields = ["name", "name_en", "kind", "level", "status", "credit_code", "founded_on", "sectors",
                  "district", "address", "website", "keywords", "description"]
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, certified_editable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("aliases", "\n".join(self.instance.aliases.values_list("name", flat=True)))
        else:
            del self.fields["reason"]
        if not certified_editable:
            for name in CERTIFIED_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Only the S&T bureau changes this certified field.")

    def _post_clean(self):
        # Model validation happens in the service (it also checks credit-code uniqueness with a clear message).
        pass

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields if name != "sectors"}
        data["sectors"] = list(self.cleaned_data.get("sectors") or [])
        data["aliases"] = _split(self.cleaned_data.get("aliases", ""))
        data["credit_code"] = data.get("credit_code") or None
        return data


class PersonForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(label=_("Categories"), choices=PersonCategory.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    expertise_text = forms.CharField(label=_("Expertise keywords"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text=_("Separate keywords with commas or new lines."))
    sectors = forms.ModelMultipleChoiceField(label=_("Sectors"), queryset=Sector.objects.all(), required=False,
                                             widget=forms.SelectMultiple(attrs={"size": 6}))

    class Meta:
        model = Person
        fields = ["name", "name_en", "title", "categories", "email", "phone", "sectors", "biography"]
        widgets = {"biography": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("expertise_text", ", ".join(self.instance.expertise or []))
        self.order_fields(["name", "name_en", "title", "categories", "expertise_text", "email", "phone", "sectors"])

    def _post_clean(self):
        pass

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields if name != "sectors"}
        data["sectors"] = list(self.cleaned_data.get("sectors") or [])
        data["expertise"] = _split(self.cleaned_data.get("expertise_text", ""))
        return data

