from django.urls import path

from sciencecity.enterprises import views

app_name = "enterprises"
urlpatterns = [
    path("", views.index, name="index"),
]
