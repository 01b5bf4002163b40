from django.urls import path

from sciencecity.core import views_notifications

app_name = "notifications"
urlpatterns = [
    path("", views_notifications.notification_list, name="list"),
    path("<int:pk>/open/", views_notifications.notification_open, name="open"),
]
