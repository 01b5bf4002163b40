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


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/help/"])
def test_every_page_links_to_the_user_guide_from_the_header(client, path):
    html = client.get(path).content.decode()
    header = html[html.index("<header"):html.index("</header>")]
    assert 'href="/help/"' in header and 'data-testid="help-link"' in header


@pytest.mark.django_db
def test_user_guide_in_chinese_lists_the_readers_own_roles_first(client):
    department = make_organisation(name="光明区统计局", kind="government_department")
    user = make_user(Role.DEPARTMENT_OFFICER, department)
    make_user(Role.ENTERPRISE_USER, make_organisation(), username="someone_else")
    client.force_login(user)
    response = client.get("/help/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert response.status_code == 200
    own = html[html.index('data-testid="own-roles"'):]
    own = own[:own.index("</nav>")]
    assert 'href="#role-department_officer"' in own and "责任部门" in own and "#role-enterprise_user" not in own
    for section in ("role-enterprise_user", "role-expert", "role-department_officer", "role-bureau_officer",
                    "role-others", "role-administrators"):
        assert f'id="{section}"' in html
    assert "下载 Excel 模板" in html and "Download the Excel template" not in html


@pytest.mark.django_db
def test_user_guide_in_english_for_an_anonymous_reader(client):
    client.cookies["django_language"] = "en"
    html = client.get("/help/").content.decode()
    assert "User guide" in html and "Download the Excel template" in html and "下载 Excel 模板" not in html
    assert 'data-testid="own-roles"' not in html
