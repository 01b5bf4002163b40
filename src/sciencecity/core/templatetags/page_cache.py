"""``{% pagecache "area" ... %}…{% endpagecache %}``: a cached block of a page, stale on any write it shows.

    {% load page_cache %}
    {% pagecache "registry.organisation" "registry.sector" %} … the table … {% endpagecache %}

The arguments (strings, or a list or tuple of them) name the object types (audit ``object_type``, ``app.model``) whose data the block shows;
any audited write of one of them changes the key (:mod:`sciencecity.core.data_versions`). The key also
holds the signed-in user and the roles (with their organisations) read for this request (never another
user's block, nor one drawn before a role was granted or revoked: what a page shows depends on roles,
organisations and ownership), the language and the full path with its query string. Blocks expire
after ``PAGE_CACHE_SECONDS`` (0 turns the cache off). Anything that must be fresh on every request —
CSRF tokens, flash messages, the unread count — stays outside the block.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django import template
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from sciencecity.core import data_versions

register = template.Library()


def block_key(request, areas: list[str], name: str = "") -> str:
    """The cache key of one block on this request's page (``name`` tells apart blocks of one page that
    show the same object types)."""
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        # the roles as read on this request (no extra query: permissions read the same rows), so a role
        # granted or revoked changes the key at once instead of after PAGE_CACHE_SECONDS
        who = f"{user.pk}:{sorted(user.membership_rows(), key=str)}"
    else:
        who = "anonymous"
    raw = "\x1f".join([who, get_language() or "", request.get_full_path(), name, ",".join(areas),
                       data_versions.key(*areas, request=request)])
    return "pagecache:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_html(request, areas: list[str], render: Callable[[], str], name: str = "") -> str:
    """The block's HTML from the cache, else ``render()`` stored there (``PAGE_CACHE_SECONDS`` 0: always
    ``render()``). ``areas`` are the object types whose data the block shows."""
    seconds = getattr(settings, "PAGE_CACHE_SECONDS", 0)
    if not seconds or request is None:
        return render()
    key = block_key(request, areas, name)
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html, seconds)
    return html


class PageCacheNode(template.Node):
    def __init__(self, nodelist: template.NodeList, areas: list[template.base.FilterExpression]) -> None:
        self.nodelist = nodelist
        self.areas = areas

    def render(self, context) -> str:
        request = context.get("request")
        areas: list[str] = []
        for expression in self.areas:  # a string, or a list of them from the view
            value = expression.resolve(context)
            areas.extend(str(v) for v in value) if isinstance(value, list | tuple) else areas.append(str(value))
        return cached_html(request, areas, lambda: self.nodelist.render(context))


@register.tag("pagecache")
def pagecache(parser, token) -> PageCacheNode:
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("pagecache needs at least one object type, e.g. \"registry.organisation\"")
    nodelist = parser.parse(("endpagecache",))
    parser.delete_first_token()
    return PageCacheNode(nodelist, [parser.compile_filter(bit) for bit in bits])
