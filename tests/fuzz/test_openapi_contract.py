"""What schemathesis found against the live server, kept as fast tests."""

from __future__ import annotations

import pytest
from django.test import Client
from ninja import Schema

from sciencecity.accounts import services as account_services
from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user


def _schema_classes(cls=Schema):
    for sub in cls.__subclasses__():
        yield sub
        yield from _schema_classes(sub)


def test_every_api_schema_has_a_unique_component_name():
    """Two classes named ``ProjectOut`` (plans, programmes) became one OpenAPI component: the documented
    response of the plan's major projects was the funded projects' schema."""
    import sciencecity.config.api  # noqa: F401  (imports every router)

    seen: dict[str, str] = {}
    clashes = []
    for cls in _schema_classes():
        if not cls.__module__.startswith("sciencecity."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if "." in cls.__qualname__:  # nested Input/Output classes of paginators and the like
            continue
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append((seen[cls.__name__], where))
        seen.setdefault(cls.__name__, where)
    assert not clashes


def test_documented_major_project_schema_is_the_plans_one(client):
    spec = client.get("/api/openapi.json").json()
    ref = spec["paths"]["/api/plans/projects/{project_id}"]["patch"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert set(spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]) >= {"box", "host_match"}


@pytest.mark.parametrize("url", ["/api/plans/import", "/api/transfer/contracts"])
def test_multipart_without_boundary_is_a_400_not_a_500(db, url):
    officer = make_user(Role.BUREAU_OFFICER, make_organisation(code="GOV-KCJ", kind="government_department"))
    _token, raw = account_services.api_token_create(user=officer, name="multipart")
    client = Client(raise_request_exception=False)
    response = client.post(url, data=b"--x\r\n", content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "bad_request"
