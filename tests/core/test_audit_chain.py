import pytest
from django.core.management import call_command
from django.db import connection

from sciencecity.core.audit import audit_record, audit_verify
from sciencecity.core.models import AuditEvent


@pytest.mark.django_db
def test_chain_verifies_and_detects_a_direct_database_edit(capsys):
    events = [audit_record(action="create", object_type="x.y", object_id=i, changes={"n": [None, i]}) for i in range(5)]
    assert audit_verify().ok
    assert audit_verify().checked == 5
    target = events[2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET object_repr = %s WHERE id = %s", ["tampered", target.pk]
        )
    result = audit_verify()
    assert not result.ok
    assert result.broken_event_id == target.pk
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify")
    assert exc.value.code == 1
    out = capsys.readouterr()
    assert f"#{target.pk}" in out.out + out.err


@pytest.mark.django_db
def test_chain_detects_a_deleted_event():
    events = [audit_record(action="update", object_type="x.y", object_id=i) for i in range(4)]
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    result = audit_verify()
    assert not result.ok
    assert result.broken_event_id == events[2].pk
