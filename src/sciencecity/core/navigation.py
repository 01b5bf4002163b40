"""The navigation and home-widget registries: each app contributes, core lists no app.

An app registers its entries from ``AppConfig.ready()``, by convention in ``<app>/navigation.py``
(``registers = ("permissions", "navigation")`` on a ``RegisteringAppConfig``; an example is in
``docs/architecture.md``): ``register_menu_item(MenuItem(key, label, order, visible, url_name))``
and ``register_home_widget(HomeWidget(key, template, order, visible, context))``.

Menu items are shown in ``order`` (lower first; the numbers in use step by 100 per app, leave room).
``group`` optionally names a :class:`MenuGroup`: ``base.html`` shows a group as one disclosure button
(at the group's ``order``) opening the list of its entries, so the header keeps to one row; a group
with one visible entry, and an entry without a group, is a plain link (:func:`grouped`). The groups
are the header's areas, registered by core (``navigation_entries``) so that any app may file into them. Home widgets are rendered by the portal's home
page, in ``order``, each with its own template and the context its callable returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

#: ``visible(user)`` → whether the entry is shown to this user (anonymous users included).
Visible = Callable[[Any], bool]


def always(user: Any) -> bool:
    return True


@dataclass(frozen=True)
class MenuGroup:
    """A heading the menu items of one area can be gathered under."""

    key: str
    label: Any
    order: int = 0


@dataclass(frozen=True)
class MenuItem:
    """One link in the main navigation. Give ``url_name`` (reversed per request) or a literal ``url``."""

    key: str
    label: Any
    order: int
    visible: Visible = always
    url_name: str = ""
    url: str = ""
    group: str = ""

    def href(self) -> str:
        return reverse(self.url_name) if self.url_name else self.url


@dataclass(frozen=True)
class HomeWidget:
    """One block on the home page: a template, its context, and who sees it."""

    key: str
    template: str
    order: int
    visible: Visible = always
    context: Callable[[Any], dict] = field(default=lambda request: {})
    #: static paths of scripts the widget needs (loaded once at the end of the page)
    scripts: tuple[str, ...] = ()
    #: the object types (audit ``object_type``) whose data the block shows: when given, the rendered block
    #: is cached like a ``{% pagecache %}`` block (per user, roles, language; stale on any audited write of
    #: one of them), and its ``context`` is not computed on a cached request. Empty: rendered every time.
    shows: tuple[str, ...] = ()


_MENU_ITEMS: dict[str, MenuItem] = {}
_MENU_GROUPS: dict[str, MenuGroup] = {}
_HOME_WIDGETS: dict[str, HomeWidget] = {}


def register_menu_group(group: MenuGroup) -> None:
    _MENU_GROUPS[group.key] = group


def register_menu_item(item: MenuItem) -> None:
    """Add (or, under the same key, replace) a navigation entry."""
    if not (item.url_name or item.url):
        raise ImproperlyConfigured(f"menu item {item.key!r} needs url_name or url")
    if item.group and item.group not in _MENU_GROUPS:
        raise ImproperlyConfigured(f"menu item {item.key!r} names unknown group {item.group!r}")
    _MENU_ITEMS[item.key] = item


def register_home_widget(widget: HomeWidget) -> None:
    """Add (or, under the same key, replace) a home-page block."""
    _HOME_WIDGETS[widget.key] = widget


def menu_items(user: Any) -> list[MenuItem]:
    """The entries ``user`` sees, in order."""
    return [item for item in sorted(_MENU_ITEMS.values(), key=lambda i: (i.order, i.key)) if item.visible(user)]


def menu_groups() -> list[MenuGroup]:
    return sorted(_MENU_GROUPS.values(), key=lambda g: (g.order, g.key))


def grouped(entries: list[dict], groups: list[MenuGroup] | None = None) -> list[dict]:
    """The header's top row from the flat entries (dicts with ``key``, ``label``, ``url``, ``active``, ``group``).

    Each element is either an entry (a link) or ``{"key", "label", "entries", "active"}`` for a group of two
    or more visible entries, placed at the group's ``order`` among the entries' own orders; a group's
    ``active`` says that the current page is one of its entries.
    """
    groups_by_key = {g.key: g for g in (menu_groups() if groups is None else groups)}
    orders = {key: item.order for key, item in _MENU_ITEMS.items()}
    members: dict[str, list[dict]] = {}
    for entry in entries:
        if entry.get("group") in groups_by_key:
            members.setdefault(entry["group"], []).append(entry)
    row: list[tuple[tuple[int, int, str], dict]] = []
    placed: set[str] = set()
    for position, entry in enumerate(entries):
        key = entry.get("group")
        if key in members and len(members[key]) > 1:
            if key not in placed:
                placed.add(key)
                group = groups_by_key[key]
                row.append(((group.order, position, key), {
                    "key": key, "label": group.label, "entries": members[key],
                    "active": any(e["active"] for e in members[key])}))
        else:
            row.append(((orders.get(entry["key"], 0), position, entry["key"]), entry))
    return [slot for _, slot in sorted(row, key=lambda pair: pair[0])]


def home_widgets(user: Any) -> list[HomeWidget]:
    """The home-page blocks ``user`` sees, in order."""
    return [w for w in sorted(_HOME_WIDGETS.values(), key=lambda w: (w.order, w.key)) if w.visible(user)]
