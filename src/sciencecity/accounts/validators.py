"""Password rules (GB/T 22239-2019 8.1.4.1 a: complexity; assessor practice: upper, lower, digit, special)."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least one upper-case letter, one lower-case letter, one digit and one other character."""

    def validate(self, password: str, user=None) -> None:
        missing = []
        if not any(c.isupper() for c in password):
            missing.append(_("an upper-case letter"))
        if not any(c.islower() for c in password):
            missing.append(_("a lower-case letter"))
        if not any(c.isdigit() for c in password):
            missing.append(_("a digit"))
        if all(c.isalnum() for c in password):
            missing.append(_("a special character"))
        if missing:
            raise ValidationError(
                _("The password must contain %(missing)s.") % {"missing": _(", ").join(missing)},
                code="password_character_classes",
            )

    def get_help_text(self) -> str:
        return _("Use upper- and lower-case letters, digits and a special character.")


class NotReusedValidator:
    """The new password differs from the current one and the last five."""

    history = 5

    def validate(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        hashes = [user.password, *getattr(user, "previous_password_hashes", [])[: self.history]]
        if any(h and check_password(password, h) for h in hashes):
            raise ValidationError(_("The password was used recently; choose another."), code="password_reused")

    def get_help_text(self) -> str:
        return _("Do not reuse one of your last five passwords.")


class UsernameNotInPasswordValidator:
    """The password does not contain the user name, in any letter case (a guess an attacker tries first).

    User names shorter than ``min_length`` (default 3) are ignored: a one- or two-letter name inside a
    password is no guess, and refusing it would forbid half the alphabet.
    """

    def __init__(self, min_length: int = 3):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        username = (getattr(user, "username", "") or "").strip() if user is not None else ""
        if len(username) >= self.min_length and username.casefold() in (password or "").casefold():
            raise ValidationError(_("The password must not contain the user name."), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("Do not put your user name in the password.")
