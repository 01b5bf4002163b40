"""One page of a list, read only when the page is rendered (so a cached page block costs no query)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import SimpleLazyObject


def lazy_page(request, queryset, per_page: int):
    """(the page ``?page=`` asks for, the query string without ``page``); the page's count and rows are
    queried on first use, so a list whose ``{% pagecache %}`` block is cached runs neither."""
    paginator = Paginator(queryset, per_page)
    page = SimpleLazyObject(lambda: paginator.get_page(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
