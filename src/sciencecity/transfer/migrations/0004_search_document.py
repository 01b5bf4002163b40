"""The PostgreSQL full-text search backend's tables (services/search_backends.py): created on PostgreSQL
only — on SQLite the backend cannot be chosen (``check`` says so) and nothing is created."""

from django.db import migrations

CREATE = [
    """CREATE TABLE IF NOT EXISTS transfer_search_document (
        source varchar(32) NOT NULL,
        listing_id bigint NOT NULL,
        kind varchar(64) NOT NULL DEFAULT '',
        trl smallint NOT NULL DEFAULT 0,
        modes text[] NOT NULL DEFAULT '{}',
        sectors text[] NOT NULL DEFAULT '{}',
        organisation_id bigint NULL,
        length integer NOT NULL,
        terms tsvector NOT NULL,
        PRIMARY KEY (source, listing_id))""",
    "CREATE INDEX IF NOT EXISTS transfer_search_document_terms ON transfer_search_document USING GIN (terms)",
    """CREATE TABLE IF NOT EXISTS transfer_search_state (
        source varchar(32) PRIMARY KEY,
        documents bigint NOT NULL,
        total_length bigint NOT NULL,
        seen_count bigint NOT NULL,
        seen_last timestamptz NULL)""",
    """CREATE TABLE IF NOT EXISTS transfer_search_term (
        source varchar(32) NOT NULL,
        term text NOT NULL,
        df bigint NOT NULL,
        PRIMARY KEY (source, term))""",
]
DROP = ["DROP TABLE IF EXISTS transfer_search_term", "DROP TABLE IF EXISTS transfer_search_state", "DROP TABLE IF EXISTS transfer_search_document"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('transfer', '0003_listing_vectors'),
    ]

    operations = [
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
