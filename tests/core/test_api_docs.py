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
