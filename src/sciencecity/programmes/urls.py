from django.urls import path

from sciencecity.programmes import views, views_projects, views_review

app_name = "programmes"
urlpatterns = [
    # calls, demands, topics, applications, integrity list (views.py)
    path("", views.index, name="index"),
    path("demands/", views.demand_list, name="demand_list"),
    path("demands/new/", views.demand_create, name="demand_create"),
    path("demands/<int:pk>/", views.demand_detail, name="demand_detail"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/new/", views.topic_create, name="topic_create"),
    path("calls/", views.call_list, name="call_list"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/state/", views.call_transition, name="call_transition"),
    path("calls/<int:pk>/apply/", views.application_create, name="application_create"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/<str:action>/", views.application_action, name="application_action"),
    path("integrity/", views.integrity_list, name="integrity_list"),
    # experts, assignment and review (views_review.py)
    path("experts/", views_review.expert_list, name="expert_list"),
    path("experts/<int:pk>/", views_review.expert_detail, name="expert_detail"),
    path("calls/<int:pk>/assignment/", views_review.assignment_overview, name="assignment_overview"),
    path("calls/<int:pk>/assignment/run/", views_review.assignment_run, name="assignment_run"),
    path("assignment-jobs/<int:pk>/", views_review.assignment_job_status, name="assignment_job_status"),
    path("calls/<int:pk>/assignment/release/", views_review.assignment_release, name="assignment_release"),
    path("assignments/<int:pk>/edit/", views_review.assignment_edit, name="assignment_edit"),
    path("reviews/", views_review.my_reviews, name="my_reviews"),
    path("reviews/<int:pk>/", views_review.review_form, name="review_form"),
    path("attachments/<int:pk>/download/", views_review.attachment_download, name="attachment_download"),
    path("reviews/<int:pk>/decline/", views_review.review_decline, name="review_decline"),
    path("calls/<int:pk>/ranking/", views_review.ranking, name="ranking"),
    # panel, decisions, disclosure, funded projects (views_projects.py)
    path("calls/<int:pk>/panel/", views_projects.panel, name="panel"),
    path("disclosure/", views_projects.disclosure, name="disclosure"),
    path("projects/", views_projects.project_list, name="project_list"),
    path("projects/<int:pk>/", views_projects.project_detail, name="project_detail"),
    path("projects/<int:pk>/milestones/<int:milestone>/<str:action>/", views_projects.milestone_action,
         name="milestone_action"),
    path("calls/<int:pk>/race-round/", views_projects.race_round, name="race_round"),
]
