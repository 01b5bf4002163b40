from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


organisation_list = organisation_create = organisation_detail = organisation_edit = _todo
person_list = person_create = person_detail = person_edit = _todo
