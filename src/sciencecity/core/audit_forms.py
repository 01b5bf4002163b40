"""The audit-trail filter, validated the same way for the pages and the ``audit export`` command."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import AuditAction

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


def _to_bool(value: str) -> bool:
    return value == "true"


class AuditEventFilterForm(forms.Form):
    """Filters of :func:`sciencecity.core.selectors.audit_events`; every field is optional."""

    q = forms.CharField(label=_("Search object or reason"), required=False, max_length=200)
    since = forms.DateTimeField(
        label=_("From"), required=False, input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        label=_("Until"), required=False, input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    actor = forms.CharField(label=_("Actor username"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("Any"))] + list(AuditAction.choices))
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100,
                                  widget=forms.TextInput(attrs={"placeholder": "registry.organisation"}))
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    success = forms.TypedChoiceField(
        label=_("Outcome"), required=False, coerce=_to_bool, empty_value=None,
        choices=[("", _("Any")), ("true", _("Succeeded")), ("false", _("Failed"))],
    )
    request_id = forms.CharField(label=_("Request id"), required=False, max_length=64)
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the time range is before its start."))
        return cleaned

    def filters(self) -> dict:
        """The valid, non-empty filters (call after ``is_valid()``)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
