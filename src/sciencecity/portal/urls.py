from django.urls import path

from sciencecity.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    path("search/", views.search, name="search"),
]
