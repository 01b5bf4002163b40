from django.urls import path

from sciencecity.enterprises import views, views_import

app_name = "enterprises"
urlpatterns = [
    path("", views.index, name="index"),
    # the enterprise's own pages
    path("my/", views.profile, name="profile"),
    path("my/edit/", views.profile_edit, name="profile_edit"),
    path("my/years/new/", views.year_edit, name="year_new"),
    path("my/years/<int:year>/", views.year_edit, name="year_edit"),
    path("my/ip/new/", views.ip_new, name="ip_new"),
    path("my/incidents/new/", views.incident_new, name="incident_new"),
    path("my/assessment/", views.assessment, name="assessment"),
    path("my/tech-sme/", views.tech_sme, name="tech_sme"),
    # the same pages of one enterprise, for authorised officers (reads audited)
    path("e/<str:code>/", views.profile, name="profile_of"),
    path("e/<str:code>/edit/", views.profile_edit, name="profile_edit_of"),
    path("e/<str:code>/years/new/", views.year_edit, name="year_new_of"),
    path("e/<str:code>/years/<int:year>/", views.year_edit, name="year_edit_of"),
    path("e/<str:code>/ip/new/", views.ip_new, name="ip_new_of"),
    path("e/<str:code>/incidents/new/", views.incident_new, name="incident_new_of"),
    path("e/<str:code>/assessment/", views.assessment, name="assessment_of"),
    path("e/<str:code>/tech-sme/", views.tech_sme, name="tech_sme_of"),
    path("items/<str:kind>/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<str:kind>/<int:pk>/delete/", views.item_delete, name="item_delete"),
    path("certificates/<int:pk>/annual-report/", views.annual_report_file, name="annual_report_file"),
    # import
    path("import/", views_import.upload, name="import"),
    path("import/template.xlsx", views_import.template, name="import_template"),
    path("import/<int:pk>/", views_import.batch_detail, name="import_batch"),
    # the bureau
    path("pool/", views.pool, name="pool"),
    path("tiers/", views.tiers, name="tiers"),
    path("tiers/history/", views.history, name="history"),
    path("tiers/recompute/", views.recompute, name="recompute"),
]

# Policies (政策找人 / 免申即享) and tech finance
from sciencecity.enterprises.finance.urls import urlpatterns as finance_urls  # noqa: E402
from sciencecity.enterprises.policies.urls import urlpatterns as policy_urls  # noqa: E402

urlpatterns += policy_urls + finance_urls
