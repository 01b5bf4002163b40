"""Facility time URLs, included by the facilities app under ``beamtime/``."""

from django.urls import path

from sciencecity.facilities.beamtime import views

urlpatterns = [
    path("beamtime/", views.round_list, name="beamtime_rounds"),
    path("beamtime/proposals/<str:reference>/", views.proposal_detail, name="beamtime_proposal"),
    path("beamtime/proposals/<str:reference>/<slug:action>/", views.proposal_action, name="beamtime_proposal_action"),
    path("beamtime/<str:code>/", views.round_detail, name="beamtime_round"),
    path("beamtime/<str:code>/propose/", views.proposal_create, name="beamtime_propose"),
    path("beamtime/<str:code>/schedule/", views.schedule, name="beamtime_schedule"),
    path("beamtime/<str:code>/<slug:action>/", views.round_action, name="beamtime_round_action"),
]
