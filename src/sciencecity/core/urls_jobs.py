from django.urls import path

from sciencecity.core import views_jobs

app_name = "jobs"
urlpatterns = [
    path("<int:pk>/", views_jobs.job_detail, name="detail"),
    path("<int:pk>/status/", views_jobs.job_status_fragment, name="status"),
    path("<int:pk>/cancel/", views_jobs.job_cancel, name="cancel"),
    path("<int:pk>/file/", views_jobs.job_file, name="file"),
]
