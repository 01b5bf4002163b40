"""Form helpers shared by all apps."""

from django import forms


def apply_validation_error(form: forms.Form, exc) -> None:
    """Put a service's ValidationError on the form fields it names (the rest on the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields and field != "__all__" else None, errors)
    else:
        form.add_error(None, exc.messages)


def guard_model_choice_overflow() -> None:
    """A choice of a record by an id beyond 64 bits is an invalid choice, not a server error.

    Django's ``ModelChoiceField`` and ``ModelMultipleChoiceField`` turn ``ValueError``/``TypeError`` from
    the lookup into "select a valid choice", but SQLite raises ``OverflowError`` for such an id, which
    escaped as a 500 on every form with a record picker (29 of them). One guard here covers them all.
    """
    from django import forms
    from django.core.exceptions import ValidationError

    if getattr(forms.ModelChoiceField, "_overflow_guarded", False):
        return
    single, multiple = forms.ModelChoiceField.to_python, forms.ModelMultipleChoiceField._check_values

    def to_python(self, value):
        try:
            return single(self, value)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None

    def check_values(self, value):
        try:
            return list(multiple(self, value))
        except OverflowError:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                  params={"value": ""}) from None

    forms.ModelChoiceField.to_python = to_python
    forms.ModelMultipleChoiceField._check_values = check_values
    forms.ModelChoiceField._overflow_guarded = True
