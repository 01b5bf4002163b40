"""Form helpers shared by all apps."""

from django import forms


def apply_validation_error(form: forms.Form, exc) -> None:
    """Put a service's ValidationError on the form fields it names (the rest on the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields and field != "__all__" else None, errors)
    else:
        form.add_error(None, exc.messages)
