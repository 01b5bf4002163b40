import pytest

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user


def test_home_shows_registry_and_incubation_for_business_users(client, bureau):
    make_organisation(name="合成孵化器", kind="incubator", is_synthetic=True)
    client.force_login(bureau)
    html = client.get("/").content.decode()
    assert 'data-testid="stage-incubator"' in html and "badge-synthetic" in html


@pytest.mark.django_db
def test_home_hides_business_data_from_administrators(client):
    client.force_login(make_user(Role.AUDIT_ADMIN))
    html = client.get("/").content.decode()
    assert "stage-incubator" not in html


@pytest.mark.django_db
def test_experts_get_a_reviews_link(client):
    expert = make_user(Role.EXPERT)
    client.force_login(expert)
    assert "/programmes/reviews/" in client.get("/").content.decode()
