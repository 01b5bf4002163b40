"""The user's notifications: list (newest first, unread marked), mark one or all as read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.core import notifications as service
from sciencecity.core.models import Notification

PAGE_SIZE = 50


@login_required
def notification_list(request):
    if request.method == "POST":
        count = service.notification_read(user=request.user)
        messages.success(request, _("%(count)s notification(s) marked as read.") % {"count": count})
        return redirect("notifications:list")
    page = Paginator(service.notifications(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/notification_list.html", {"page": page, "query": ""})


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and go to its page (the link of the notification list)."""
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    service.notification_read(user=request.user, ids=[note.pk])
    target = note.url if url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()}) else ""
    return redirect(target or "notifications:list")
