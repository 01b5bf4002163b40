from django.urls import path

from sciencecity.facilities import views

app_name = "facilities"
urlpatterns = [
    path("", views.instrument_list, name="index"),
    path("instruments/<str:code>/", views.instrument_detail, name="instrument_detail"),
]
