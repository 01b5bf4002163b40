"""Excel/CSV import and export of the registry (placeholder until the import work package lands)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


organisation_export = organisation_import = person_export = person_import = _todo
import_template = import_batch_detail = _todo
