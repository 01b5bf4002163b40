"""Profile, API tokens, acting organisation, user management (系统管理员) and roles (安全管理员).

Placeholder views: filled in by the accounts work package.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("not yet", status=501)


profile = token_list = token_revoke = acting_organisation_set = _todo
user_list = user_create = user_detail = role_list = role_grant = role_revoke = _todo
