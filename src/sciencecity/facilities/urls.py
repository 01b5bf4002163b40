from django.urls import path

from sciencecity.facilities import views
from sciencecity.facilities.beamtime.urls import urlpatterns as beamtime_urlpatterns

app_name = "facilities"
urlpatterns = [
    path("", views.instrument_list, name="index"),
    path("instruments/<str:code>/", views.instrument_detail, name="instrument_detail"),
]
urlpatterns += beamtime_urlpatterns
