from django.urls import path

from sciencecity.registry import views, views_import

app_name = "registry"
urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/export/", views_import.organisation_export, name="organisation_export"),
    path("organisations/import/", views_import.organisation_import, name="organisation_import"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.organisation_edit, name="organisation_edit"),
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/export/", views_import.person_export, name="person_export"),
    path("people/import/", views_import.person_import, name="person_import"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("import/template/<str:kind>.xlsx", views_import.import_template, name="import_template"),
    path("import/<int:pk>/", views_import.import_batch_detail, name="import_batch_detail"),
]
