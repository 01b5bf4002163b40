"""Indexes for list ordering and, on PostgreSQL, trigram indexes for substring search.

``search_text LIKE '%term%'`` cannot use a B-tree; pg_trgm's GIN index serves it for terms of
three or more characters. Creating the extension needs a privileged role: when it is refused the
migration logs why and continues (search still works, only slower at national scale).
"""

import logging

from django.db import migrations, models, transaction

logger = logging.getLogger(__name__)

TRIGRAM_INDEXES = [
    ("registry_organisation", "registry_org_search_trgm"),
    ("registry_person", "registry_person_search_trgm"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - no privilege: keep going without the index
        logger.warning("pg_trgm not available (%s); substring search will scan", exc)
        return
    for table, name in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_text gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_seed_sectors")]

    operations = [
        migrations.AddIndex(
            model_name="organisation", index=models.Index(fields=["name", "id"], name="org_name_id_idx")
        ),
        migrations.AddIndex(model_name="person", index=models.Index(fields=["name", "id"], name="person_name_id_idx")),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
