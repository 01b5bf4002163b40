from django.urls import include, path

from sciencecity.config.api import api
from sciencecity.core import views_ops

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("healthz", views_ops.healthz, name="healthz"),
    path("readyz", views_ops.readyz, name="readyz"),
    path("metrics", views_ops.metrics, name="metrics"),
    path("accounts/", include("sciencecity.accounts.urls")),
    path("audit/", include("sciencecity.core.urls")),
    path("jobs/", include("sciencecity.core.urls_jobs")),
    path("notifications/", include("sciencecity.core.urls_notifications")),
    path("registry/", include("sciencecity.registry.urls")),
    path("plan/", include("sciencecity.plans.urls")),
    path("programmes/", include("sciencecity.programmes.urls")),
    path("transfer/", include("sciencecity.transfer.urls")),
    path("facilities/", include("sciencecity.facilities.urls")),
    path("enterprises/", include("sciencecity.enterprises.urls")),
    path("", include("sciencecity.portal.urls")),
]
