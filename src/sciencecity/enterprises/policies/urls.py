from django.urls import path

from sciencecity.enterprises.policies import views

urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/preview/", views.policy_preview, name="policy_preview"),
    path("policies/calendar/", views.policy_calendar, name="policy_calendar"),
    path("policies/refresh/", views.policy_refresh, name="policy_refresh"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/eligible/", views.policy_eligible, name="policy_eligible"),
    path("policies/<int:pk>/withdraw/", views.policy_withdraw, name="policy_withdraw"),
    path("my/policies/", views.my_policies, name="my_policies"),
]
