def test_openapi_and_docs_are_served_locally(client):
    spec = client.get("/api/openapi.json").json()
    assert spec["info"]["title"] == "sciencecity API"
    paths = spec["paths"]
    assert "/api/registry/organisations" in paths and "/api/audit/events" in paths and "/api/plans/{plan_id}" in paths
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()
    html = client.get("/api/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn." not in html and "unpkg" not in html  # no network at run time


def test_403_page_is_friendly(client, enterprise_user):
    client.force_login(enterprise_user)
    response = client.get("/accounts/users/")
    assert response.status_code == 403
    assert "<main" in response.content.decode()


def test_date_inputs_render_iso_dates_in_chinese():
    """<input type="date"> only shows YYYY-MM-DD; the zh-Hans default would render 2025/06/30."""
    import datetime

    from django import forms
    from django.utils import translation

    with translation.override("zh-hans"):
        html = forms.DateInput(attrs={"type": "date"}).render("d", datetime.date(2025, 6, 30))
        assert 'value="2025-06-30"' in html
        assert forms.DateField().clean("2025/06/30") == datetime.date(2025, 6, 30)
