"""Record the cut-over to the keyed audit MAC: events written so far keep their plain SHA-256.

Existing events are NOT rehashed: rehashing would bless whatever the rows say now, including any
tampering. They stay verifiable with the legacy scheme up to ``legacy_until_id``; every later event
must carry a keyed MAC.
"""

from django.db import migrations
from django.db.models import Max


def record_cutover(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    db = schema_editor.connection.alias
    events = AuditEvent.objects.using(db)
    last = events.aggregate(last=Max("id"))["last"] or 0
    head = AuditChainHead.objects.using(db).filter(pk=1).first()
    if head is None:
        return
    head.legacy_until_id = last
    head.appended = events.filter(id__gt=head.anchor_event_id).count()
    head.save(update_fields=["legacy_until_id", "appended"])
    newest = events.order_by("-id").first()
    if newest is None:
        return
    # Record the cut-over outside the database at once, so that moving it later is detected.
    from django.utils import timezone

    from sciencecity.core.audit import CHECKPOINT_VERSION, _canonical_time, append_checkpoint

    append_checkpoint({
        "v": CHECKPOINT_VERSION, "time": _canonical_time(timezone.now()), "reason": "upgrade",
        "last_id": newest.pk, "last_hash": newest.hash, "count": head.appended,
        "anchor_event_id": head.anchor_event_id, "anchor_hash": head.anchor_hash,
        "legacy_until_id": last,
    })


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_audit_keyed_mac"),
    ]

    operations = [
        migrations.RunPython(record_cutover, migrations.RunPython.noop),
    ]
