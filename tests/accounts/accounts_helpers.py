"""Helpers for the accounts tests (imported by the test modules and conftest)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client

from sciencecity.core.models import AuditEvent


class ApiClient:
    """A test client that sends ``Authorization: Bearer <token>`` (or nothing) to /api/."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, data=None, **query):
        kwargs = {"headers": self.headers}
        if data is not None:
            kwargs.update(data=json.dumps(data), content_type="application/json")
        if query:
            path = f"{path}?{urlencode(query)}"
        return getattr(self.client, method)(f"/api/accounts{path}", **kwargs)

    def get(self, path: str, **query):
        return self.request("get", path, **query)

    def post(self, path: str, data=None):
        return self.request("post", path, data)

    def delete(self, path: str, data=None, **query):
        return self.request("delete", path, data, **query)


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))
