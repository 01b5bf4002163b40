from django.urls import path

from sciencecity.plans import views, views_report, views_rounds, views_tasks

app_name = "plans"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("structure/", views.structure, name="structure"),
    path("import/", views.plan_import, name="plan_import"),
    path("import/<int:pk>/", views.plan_import_review, name="plan_import_review"),
    path("import/<int:pk>/image/<int:index>/", views.plan_import_image, name="plan_import_image"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/template.xlsx", views_tasks.task_template, name="task_template"),
    path("tasks/upload/", views_tasks.task_upload, name="task_upload"),
    path("tasks/upload/<int:batch>/", views_tasks.task_upload_detail, name="task_upload_detail"),
    path("indicators/<int:pk>/", views.indicator_detail, name="indicator_detail"),
    path("indicators/<int:pk>/compute/", views.indicator_compute, name="indicator_compute"),
    path("values/<int:pk>/reopen/", views.value_reopen, name="value_reopen"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("rounds/", views_rounds.round_list, name="round_list"),
    path("rounds/<int:pk>/", views_rounds.round_detail, name="round_detail"),
    path("rounds/<int:pk>/template/<int:department>.xlsx", views_rounds.round_template, name="round_template"),
    path("rounds/<int:pk>/upload/<int:department>/", views_rounds.round_upload, name="round_upload"),
    path("rounds/upload/<int:batch>/", views_rounds.round_upload_detail, name="round_upload_detail"),
    path("rounds/<int:pk>/submissions/<int:submission>/<str:action>/", views_rounds.submission_action,
         name="submission_action"),
    path("report/", views_report.report_html, name="report"),
    path("report.pdf", views_report.report_pdf, name="report_pdf"),
    path("export.json", views_report.plan_json, name="plan_json"),
]
