"""The REST API: one NinjaAPI, one router per app, OpenAPI at /api/openapi.json, docs at /api/docs."""

import threading

from ninja import NinjaAPI

from sciencecity.core import ops
from sciencecity.core.api import SessionAuth, StrictJSONRenderer, TokenAuth, install_error_handlers


class CachedSchemaAPI(NinjaAPI):
    """The OpenAPI schema is generated once per process and path prefix (it took ≈1 s per load of
    the API docs); the routes cannot change while the process runs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[str, object] = {}
        self._schema_lock = threading.Lock()

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        with self._schema_lock:
            if path_prefix not in self._schemas:
                self._schemas[path_prefix] = super().get_openapi_schema(path_prefix=path_prefix)
            return self._schemas[path_prefix]


api = CachedSchemaAPI(
    title="sciencecity API",
    version="1.0",
    description=(
        "REST API of the science-city platform. Authenticate with a personal API token "
        "(`Authorization: Bearer sct_…`, created under Account → API tokens) or the browser session. "
        "Errors have one shape: `{\"error\": {\"code\", \"message\", \"details\"}}`."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    renderer=StrictJSONRenderer(),
)
install_error_handlers(api)

from sciencecity.accounts.api import router as accounts_router  # noqa: E402
from sciencecity.core.audit_api import router as audit_router  # noqa: E402
from sciencecity.core.jobs_api import router as jobs_router  # noqa: E402
from sciencecity.enterprises.api import router as enterprises_router  # noqa: E402
from sciencecity.facilities.api import router as facilities_router  # noqa: E402
from sciencecity.plans.api import router as plans_router  # noqa: E402
from sciencecity.programmes.api import router as programmes_router  # noqa: E402
from sciencecity.registry.api import router as registry_router  # noqa: E402
from sciencecity.transfer.api import router as transfer_router  # noqa: E402

api.add_router("/accounts", accounts_router)
api.add_router("/audit", audit_router)
api.add_router("/jobs", jobs_router)
api.add_router("/registry", registry_router)
api.add_router("/plans", plans_router)
api.add_router("/programmes", programmes_router)
api.add_router("/transfer", transfer_router)
api.add_router("/facilities", facilities_router)
api.add_router("/enterprises", enterprises_router)


def _warm_openapi() -> None:
    """Build (and cache for the process) the OpenAPI schema before the first visitor of the API docs."""
    api.get_openapi_schema(path_prefix="/api/")


ops.register_warmer("openapi", _warm_openapi)
