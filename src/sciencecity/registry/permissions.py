"""Actions on the registry of organisations and people, registered at ``RegistryConfig.ready``."""

from __future__ import annotations

from sciencecity.core import permissions


def register() -> None:
    permissions.register("registry.view", permissions.can_view_registry)
    permissions.register("registry.create_organisation", permissions.can_create_organisation)
    permissions.register("registry.edit_organisation", permissions.can_edit_organisation)
    permissions.register("registry.edit_certified_fields", permissions.can_edit_certified_fields)
    permissions.register("registry.import", permissions.can_import_registry)
    permissions.register("registry.export", permissions.can_export_registry)
    permissions.register("registry.create_person", permissions.can_create_person)
    permissions.register("registry.edit_person", permissions.can_edit_person)
    permissions.register("registry.view_person_contact", permissions.can_view_person_contact)
