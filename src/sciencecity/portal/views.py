from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from sciencecity.accounts.choices import Role
from sciencecity.core import navigation
from sciencecity.core.templatetags.page_cache import cached_html
from sciencecity.portal import search as global_search


def home(request):
    """The home page: the blocks the apps registered (:mod:`sciencecity.core.navigation`) that the user sees."""
    shown = navigation.home_widgets(request.user)
    widgets = [mark_safe(_widget_html(request, w)) for w in shown]  # noqa: S308 - our templates' output
    scripts = list(dict.fromkeys(s for w in shown for s in w.scripts))
    return render(request, "portal/home.html", {"widgets": widgets, "widget_scripts": scripts})


def _widget_html(request, widget: navigation.HomeWidget) -> str:
    def draw() -> str:
        return render_to_string(widget.template, {"widget": widget.context(request)}, request)

    return cached_html(request, list(widget.shows), draw, name=f"home:{widget.key}") if widget.shows else draw()


#: The user guide's section for each kind of account (the roles without a section of their own share one).
HELP_SECTIONS = {
    "enterprise_user": "role-enterprise_user", "expert": "role-expert", "department_officer": "role-department_officer",
    "bureau_officer": "role-bureau_officer", "academic_user": "role-others", "investor": "role-others",
    "facility_manager": "role-others", "incubator_operator": "role-others", "system_admin": "role-administrators",
    "security_admin": "role-administrators", "audit_admin": "role-administrators",
}


def help_page(request):
    """The user guide: a short guide per role in the current language, the reader's own roles first.

    Open to everyone (the header links to it from every page); the guide of each role a signed-in user
    holds is listed at the top."""
    user = request.user
    own = []
    if user.is_authenticated:
        held = set(user.memberships.values_list("role", flat=True))
        own = [(HELP_SECTIONS[role], Role(role).label) for role in HELP_SECTIONS if role in held]
    language = "en" if (get_language() or "").startswith("en") else "zh"
    return render(request, "portal/help.html", {"own_roles": own, "guide": f"portal/help/guide_{language}.html"})


@login_required
def search(request):
    query = request.GET.get("q", "")
    groups = global_search.search_all(request.user, query)
    return render(request, "portal/search.html", {"query": " ".join(query.split())[:global_search.MAX_QUERY],
                                                  "groups": groups})
