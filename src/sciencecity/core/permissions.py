"""One permission module for the web UI and the API, and the registry of named actions.

Two layers live here:

* **The action registry** (NetBox's pattern). Each app declares its actions in its own
  ``<app>/permissions.py`` and registers them from ``AppConfig.ready()``::

      # myapp/permissions.py
      from sciencecity.core import permissions

      def can_edit_widget(user, widget) -> bool: ...

      def register() -> None:
          permissions.register("myapp.edit_widget", can_edit_widget)
          permissions.register("myapp.view_widget", permissions.is_business_user,
                               scope=lambda user, qs: qs.filter(owner__in=permissions.organisation_ids(user)))

  Views, API endpoints, selectors and services then ask by name:
  ``permissions.has_perm(user, "myapp.edit_widget", widget)`` (a boolean),
  ``permissions.require(user, "myapp.edit_widget", widget)`` (raises ``PermissionDenied``), and
  ``Widget.objects.restrict(user, "myapp.view_widget")`` on a model whose manager is built from
  :class:`sciencecity.core.querysets.RestrictedQuerySet`.

* **Shared predicates** about roles (:func:`has_role`, :func:`is_business_user`, ...) that the
  apps' rules are written with. They answer one question about one user.

``require(allowed)`` with a single boolean is the older form, kept so code written before the
registry keeps working; new code passes ``(user, action, obj)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from sciencecity.accounts.choices import ADMIN_ROLES, BUSINESS_ROLES, Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

#: ``rule(user)`` for actions on no object, ``rule(user, obj)`` for actions on one object.
Rule = Callable[..., bool]
#: ``scope(user, queryset)`` → the rows of ``queryset`` the user may act on.
Scope = Callable[[Any, "QuerySet"], "QuerySet"]


@dataclass(frozen=True)
class Action:
    """One registered action: its name (``"<app>.<verb>_<noun>"``), its rule and, optionally, its scope."""

    name: str
    rule: Rule
    scope: Scope | None = None
    takes_object: bool = False
    needs_object: bool = False


_ACTIONS: dict[str, Action] = {}


def _arity(rule: Rule) -> tuple[bool, bool]:
    """(takes an object, must be given one) from the rule's positional parameters after ``user``."""
    try:
        params = [
            p
            for p in inspect.signature(rule).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False, False
    if len(params) < 2:
        return False, False
    return True, params[1].default is inspect.Parameter.empty


def register(name: str, rule: Rule, *, scope: Scope | None = None) -> None:
    """Register ``rule`` (and optionally a queryset ``scope``) under the action ``name``.

    Call it from the app's ``AppConfig.ready()`` (through its ``permissions.register``). Registering
    the same name again with the same function (a reloaded module) replaces it; a different
    function under a taken name is a configuration error, so two apps cannot silently share one.
    """
    if "." not in name:
        raise ImproperlyConfigured(f"permission action {name!r} must be named '<app>.<action>'")
    existing = _ACTIONS.get(name)
    if existing is not None and (existing.rule.__module__, existing.rule.__qualname__) != (
        rule.__module__,
        rule.__qualname__,
    ):
        raise ImproperlyConfigured(f"permission action {name!r} is already registered by {existing.rule.__module__}")
    takes_object, needs_object = _arity(rule)
    _ACTIONS[name] = Action(name, rule, scope, takes_object, needs_object)


def register_many(app: str, **rules: Rule) -> None:
    """``register(f"{app}.{verb}", rule)`` for each ``verb=rule`` (the actions of one app, without scopes)."""
    for verb, rule in rules.items():
        register(f"{app}.{verb}", rule)


def action(name: str) -> Action:
    """The registered action ``name``; an unknown name is a programming error, not a denial."""
    try:
        return _ACTIONS[name]
    except KeyError:
        raise ImproperlyConfigured(f"unknown permission action {name!r}; is its app's permissions registered?") from None


def registered_actions() -> list[str]:
    return sorted(_ACTIONS)


def has_perm(user: Any, name: str, obj: Any = None) -> bool:
    """Whether ``user`` may do the action ``name`` (on ``obj`` when the action is about one object)."""
    registered = action(name)
    if obj is None:
        if registered.needs_object:
            raise TypeError(f"permission action {name!r} is decided per object; pass obj")
        return bool(registered.rule(user))
    if not registered.takes_object:
        raise TypeError(f"permission action {name!r} takes no object")
    return bool(registered.rule(user, obj))


def require(subject: Any, name: str | None = None, obj: Any = None, *, message: str = "") -> None:
    """Raise ``PermissionDenied`` unless ``subject`` (a user) may do the action ``name`` on ``obj``.

    ``require(allowed)`` — one argument, already decided — is the older form and still works.
    """
    allowed = bool(subject) if name is None else has_perm(subject, name, obj)
    if not allowed:
        raise PermissionDenied(message or "permission_denied")


def restrict(queryset: QuerySet, user: Any, name: str) -> QuerySet:
    """The rows of ``queryset`` on which ``user`` may do the action ``name``.

    An action registered with a ``scope`` filters through it; an action about no object keeps all
    rows or none; an action decided per object with no scope cannot be turned into a filter.
    """
    registered = action(name)
    if registered.scope is not None:
        return registered.scope(user, queryset)
    if registered.needs_object:
        raise ImproperlyConfigured(f"permission action {name!r} has no scope; register one to restrict a queryset")
    return queryset if registered.rule(user) else queryset.none()


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def organisation_ids(user: Any) -> set[int]:
    """Organisations the user acts for (through business roles)."""
    if not _active(user):
        return set()
    cached = getattr(user, "_organisation_ids_cache", None)
    if cached is None:
        cached = {organisation for role, organisation in user.membership_rows()
                  if organisation is not None and role in BUSINESS_ROLES}
        user._organisation_ids_cache = cached
    return cached


def has_role(user: Any, *roles: str) -> bool:
    return _active(user) and user.has_role(*roles)


def is_administrator(user: Any) -> bool:
    return has_role(user, *ADMIN_ROLES)


def is_business_user(user: Any) -> bool:
    return has_role(user, *BUSINESS_ROLES)


def is_bureau_officer(user: Any) -> bool:
    return has_role(user, Role.BUREAU_OFFICER)


def is_officer(user: Any) -> bool:
    return has_role(user, Role.BUREAU_OFFICER, Role.DEPARTMENT_OFFICER)


# --- accounts and administration (三员分立)
def can_manage_users(user: Any) -> bool:
    """系统管理员: create, deactivate and reset accounts."""
    return has_role(user, Role.SYSTEM_ADMIN)


def can_manage_roles(user: Any) -> bool:
    """安全管理员: grant and revoke roles; read the login policy."""
    return has_role(user, Role.SECURITY_ADMIN)


def is_administrator_account(account: Any) -> bool:
    """Whether ``account`` holds one of the three administrator roles (active or not)."""
    return bool(account is not None and getattr(account, "pk", None) and account.role_set() & set(ADMIN_ROLES))


def can_change_account_alone(user: Any, account: Any) -> bool:
    """The system administrator resets, (de)activates and edits ordinary accounts on their own.

    An administrator's credentials and state change only with two people (三员分立, GB/T 22239-2019
    8.1.4.2 d): see :func:`can_request_admin_change` and :func:`can_approve_admin_change`.
    """
    return can_manage_users(user) and not is_administrator_account(account)


def can_request_admin_change(user: Any, account: Any) -> bool:
    """The security administrator asks for a change to another administrator's account."""
    return can_manage_roles(user) and is_administrator_account(account) and account.pk != user.pk


def can_approve_admin_change(user: Any, change: Any) -> bool:
    """A second administrator, neither the requester nor the target, approves (and so carries out) the change."""
    return is_administrator(user) and user.pk not in (change.requested_by_id, change.target_id)


def can_unlock_logins(user: Any) -> bool:
    """The security administrator (who owns the lockout policy) and the system administrator lift login locks."""
    return can_manage_roles(user) or can_manage_users(user)


def can_read_audit(user: Any) -> bool:
    """审计管理员: read and export the audit trail, nothing else."""
    return has_role(user, Role.AUDIT_ADMIN)


# --- registry
def can_view_registry(user: Any) -> bool:
    """Every business role reads the registry; administrators do not handle business data."""
    return is_business_user(user)


def can_create_organisation(user: Any) -> bool:
    return is_bureau_officer(user)


def can_edit_organisation(user: Any, organisation: Any) -> bool:
    """The bureau edits any organisation; members edit their own organisation's profile."""
    return is_bureau_officer(user) or (is_business_user(user) and organisation.pk in organisation_ids(user))


def can_edit_certified_fields(user: Any, organisation: Any) -> bool:
    """Kind, level, status and credit code are certified facts: only the bureau changes them."""
    return is_bureau_officer(user)


def can_import_registry(user: Any) -> bool:
    return is_bureau_officer(user)


def can_export_registry(user: Any) -> bool:
    return is_officer(user)


def _person_organisation_ids(person: Any) -> set[int]:
    return {a.organisation_id for a in person.affiliations.all() if a.is_current()}


def can_view_person_contact(user: Any, person: Any) -> bool:
    """E-mail and phone (personal information): officers, the person, and colleagues."""
    if not is_business_user(user):
        return False
    if is_officer(user) or getattr(user, "person_id", None) == person.pk:
        return True
    return bool(_person_organisation_ids(person) & organisation_ids(user))


def can_create_person(user: Any) -> bool:
    return is_bureau_officer(user)


def can_edit_person(user: Any, person: Any) -> bool:
    if is_bureau_officer(user):
        return True
    if not is_business_user(user):
        return False
    return getattr(user, "person_id", None) == person.pk or bool(
        _person_organisation_ids(person) & organisation_ids(user)
    )


# --- plan monitoring
def can_view_plan(user: Any) -> bool:
    """The plan's structure (chapters, tasks, indicators, boxes) is a public document."""
    return not is_administrator(user)


def can_view_monitoring(user: Any) -> bool:
    """Values, progress, the dashboard and the evaluation report: every business user."""
    return is_business_user(user)


def can_manage_plan(user: Any) -> bool:
    """Import plans, decompose tasks, approve rounds, update projects: the S&T bureau."""
    return is_bureau_officer(user)


def is_department_officer(user: Any) -> bool:
    return has_role(user, Role.DEPARTMENT_OFFICER)


def can_view_job(user: Any, job: Any) -> bool:
    """A background job is seen and cancelled by the person who started it."""
    return _active(user) and job.created_by_id is not None and job.created_by_id == user.pk
