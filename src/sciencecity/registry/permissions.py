"""Actions on the registry of organisations and people, registered at ``RegistryConfig.ready``."""

from __future__ import annotations

from sciencecity.core import permissions


def register() -> None:
    permissions.register_many(
        "registry", view=permissions.can_view_registry,
        create_organisation=permissions.can_create_organisation,
        edit_organisation=permissions.can_edit_organisation,
        edit_certified_fields=permissions.can_edit_certified_fields,
        export=permissions.can_export_registry,
        create_person=permissions.can_create_person, edit_person=permissions.can_edit_person,
        view_person_contact=permissions.can_view_person_contact,
    )
    permissions.register("registry.import", permissions.can_import_registry)  # a keyword: not a verb=rule
