"""Notifications are no longer the marketplace's own: every app notifies through ``core``. The
rows are copied to ``core_notification`` (read state and times kept) before the old table goes."""

from django.db import migrations


def copy_to_core(apps, schema_editor):
    db = schema_editor.connection.alias  # the database being migrated (a restore drill migrates another)
    old = apps.get_model("transfer", "Notification")
    new = apps.get_model("core", "Notification")
    originals = list(old.objects.using(db).order_by("pk"))
    rows = [new(user_id=n.user_id, message=n.message, url=n.url, read_at=n.read_at, category="match")
            for n in originals]
    created = new.objects.using(db).bulk_create(rows, batch_size=1000)
    # auto_now_add set the creation times to now: put the original ones back
    for row, original in zip(created, originals, strict=True):
        new.objects.using(db).filter(pk=row.pk).update(created_at=original.created_at, updated_at=original.updated_at)


class Migration(migrations.Migration):

    dependencies = [
        ("transfer", "0001_marketplace_models"),
        ("core", "0009_notifications"),
    ]

    operations = [
        migrations.RunPython(copy_to_core, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
