from django.urls import path

from sciencecity.enterprises import views

app_name = "enterprises"
urlpatterns = [
    path("", views.index, name="index"),
]

# Policies (政策找人 / 免申即享) and tech finance
from sciencecity.enterprises.finance.urls import urlpatterns as finance_urls  # noqa: E402
from sciencecity.enterprises.policies.urls import urlpatterns as policy_urls  # noqa: E402

urlpatterns += policy_urls + finance_urls
