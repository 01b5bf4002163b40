"""Forms of the accounts pages: login, password, profile, API tokens, users and roles."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sciencecity.accounts import selectors
from sciencecity.accounts.choices import ADMIN_ROLES, AdminChangeKind, Role
from sciencecity.accounts.models import User
from sciencecity.registry.models import Organisation


class LoginForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"),
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label=_("New password"),
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_again = forms.CharField(label=_("New password again"),
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password"].help_text = " ".join(str(t) for t in password_validators_help_texts())

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


# --- helpers
def add_service_errors(form: forms.Form, exc: ValidationError, *, default_field: str | None = None) -> None:
    """Show a service's ``ValidationError`` on the form: per field where the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(default_field if default_field in form.fields else None, exc.messages)


class ReasonForm(forms.Form):
    """A reason for a change that needs one (deactivation, role revocation)."""

    reason = forms.CharField(label=_("Reason"), max_length=500)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


# --- profile and API tokens
class ActingOrganisationForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Acting organisation"), queryset=Organisation.objects.none(),
                                          empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = selectors.acting_organisation_choices(user)


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. the script or system that uses it."))
    expires_on = forms.DateField(label=_("Valid until (inclusive)"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Leave empty for a token that does not expire."))

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value and value < timezone.localdate():
            raise ValidationError(_("The date is in the past."))
        return value

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in the current time zone."""
        day = self.cleaned_data.get("expires_on")
        if not day:
            return None
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


# --- users (系统管理员)
class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("User name, name, e-mail or phone")}))
    active = forms.ChoiceField(label=_("State"), required=False,
                               choices=[("", _("All")), ("yes", _("Active")), ("no", _("Inactive"))])

    def active_filter(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("active") or "")


class PersonCodeField(forms.CharField):
    """A registry person given by code (e.g. DEMO-PER-0000012); empty means none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Registry person (code)"))
        kwargs.setdefault("help_text", _("Links the account to a person of the registry, e.g. an expert who "
                                         "reviews: give their code, such as DEMO-PER-0000012. Leave empty for none."))
        super().__init__(max_length=40, required=False, **kwargs)

    def clean(self, value):
        from sciencecity.registry.models import Person

        code = (super().clean(value) or "").strip()
        if not code:
            return None
        person = Person.objects.filter(code=code).first()
        if person is None:
            raise forms.ValidationError(_("No person of the registry has the code “%(code)s”."), params={"code": code})
        return person


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    person = PersonCodeField()


class UserPersonForm(OptionalReasonForm):
    person = PersonCodeField()
    field_order = ["person", "reason"]


class UserActiveForm(ReasonForm):
    active = forms.TypedChoiceField(label=_("State"), coerce=lambda v: v == "yes",
                                    choices=[("yes", _("Active")), ("no", _("Inactive"))])
    field_order = ["active", "reason"]


# --- roles (安全管理员)
class MembershipFilterForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices])
    user_q = forms.CharField(label=_("Account"), required=False,
                             widget=forms.TextInput(attrs={"type": "search"}))
    organisation_q = forms.CharField(label=_("Organisation"), required=False,
                                     widget=forms.TextInput(attrs={"type": "search"}))


class RoleGrantSearchForm(forms.Form):
    """Narrows the account and organisation pickers of :class:`RoleGrantForm` (GET)."""

    user_q = forms.CharField(label=_("Find account"), required=False,
                             widget=forms.TextInput(attrs={"type": "search"}))
    # Typing narrows the organisation picker below at once (htmx swaps in the page's own picker).
    organisation_q = forms.CharField(label=_("Find organisation"), required=False,
                                     widget=forms.TextInput(attrs={
                                         "type": "search", "hx-get": reverse_lazy("accounts:role_grant"),
                                         "hx-trigger": "input changed delay:300ms, search",
                                         "hx-target": "#id_organisation", "hx-select": "#id_organisation",
                                         "hx-swap": "outerHTML", "autocomplete": "off"}),
                                     help_text=_("Name, English name, alias, code or credit code."))


class RoleGrantForm(forms.Form):
    """Grant a role. The pickers list only search matches (the registry is large); any id validates."""

    user = forms.ModelChoiceField(label=_("Account"), queryset=User.objects.all(),
                                  help_text=_("Find the account above to list it here."))
    # No role is chosen in advance (issue 11: the form defaulted to 系统管理员).
    role = forms.ChoiceField(label=_("Role"), choices=[("", "---------"), *Role.choices])
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.all(), required=False,
        help_text=_("Find the organisation above to list it here. Administrator roles are held without an "
                    "organisation; an expert may have none."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, user_query: str = "", organisation_query: str = "", initial_user: int | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        selected_user = int_or_none(self.data.get("user") if self.is_bound else initial_user)
        selected_organisation = int_or_none(self.data.get("organisation") if self.is_bound else None)
        if initial_user and not self.is_bound:
            self.initial["user"] = initial_user
        self.fields["user"].choices = [("", "---------")] + [
            (u.pk, f"{u.username} · {u.display_name}" if u.display_name else u.username)
            for u in selectors.user_choices(user_query, selected_id=selected_user)
        ]
        self.fields["organisation"].choices = [("", _("(none)"))] + [
            (o.pk, f"{o.name} ({o.code})")
            for o in selectors.organisation_choices(organisation_query, selected_id=selected_organisation)
        ]

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if role in ADMIN_ROLES and data.get("organisation") is not None:
            self.add_error("organisation", _("Administrator roles are held without an organisation."))
        return data


def int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# --- administrator accounts: two people (三员分立)
class AdminChangeRequestForm(forms.Form):
    """The security administrator asks for a change to another administrator's account."""

    target = forms.ModelChoiceField(label=_("Administrator account"), queryset=User.objects.none())
    kind = forms.ChoiceField(label=_("Change"), choices=AdminChangeKind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, requester: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = selectors.administrator_accounts().exclude(pk=requester.pk)
        self.fields["target"].label_from_instance = lambda u: f"{u.username} · {u}"


# --- two-factor authentication
class TwoFactorCodeForm(forms.Form):
    """A 6-digit code from the authenticator app, or (at login) a recovery code."""

    code = forms.CharField(label=_("Verification code"), max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True}),
                           help_text=_("The 6-digit code your authenticator app shows now."))


class TwoFactorLoginForm(TwoFactorCodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The 6-digit code your authenticator app shows now, or one of your "
                                          "recovery codes.")
        self.fields["code"].widget.attrs.pop("inputmode", None)


class ReauthenticateForm(forms.Form):
    password = forms.CharField(label=_("Password"),
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                                                 "autofocus": True}))
    code = forms.CharField(label=_("Verification code"), max_length=32, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
                           help_text=_("The 6-digit code your authenticator app shows now, or a recovery code."))

    def __init__(self, *args, with_code: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if with_code:
            self.fields["code"].required = True
        else:
            del self.fields["code"]
