"""Markers are words, not emoji (issue 11, observation 8: "🔒 renders as an empty box without an emoji font").

Government desktops in the field often have no colour-emoji font; a pictograph from the emoji blocks then
shows as an empty box and says nothing to a screen reader. The confidential and locked markers are text
badges, and no template (nor a translation a template shows) may bring an emoji back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user
from tests.transfer.conftest import make_demand

SRC = Path(__file__).resolve().parents[2] / "src" / "sciencecity"
#: U+1F300–1FAFF (pictographs, emoticons, transport, supplemental symbols), U+2600–27BF (miscellaneous
#: symbols, dingbats) and U+FE0F (the selector that asks for the emoji presentation of any character)
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]")
#: U+26A0 ⚠ (marks OCR cells read with low confidence; the cell also carries aria-invalid): its default
#: presentation is text (Unicode Emoji_Presentation=No) and the CJK fonts the site names carry it
#: (Noto Sans CJK SC, Microsoft YaHei, PingFang SC), so it is drawn as a glyph, not an empty box.
ALLOWED = {"\u26A0"}


def emoji_in(text: str) -> list[str]:
    return sorted({c for c in EMOJI.findall(text) if c not in ALLOWED})


def test_emoji_finder_finds_the_lock_and_friends():
    assert emoji_in("已审核 🔒 ✅ ☎ ⚠\uFE0F ok ⚠") == ["\u260E", "\u2705", "\uFE0F", "\U0001F512"]


def test_no_template_and_no_translation_contains_an_emoji():
    templates = [p for p in SRC.rglob("*") if p.is_file() and "templates" in p.relative_to(SRC).parts]
    catalogues = list(SRC.glob("locale/*/LC_MESSAGES/django.po"))
    assert len(templates) > 100 and catalogues
    found = {str(p.relative_to(SRC)): chars for p in templates + catalogues
             if (chars := emoji_in(p.read_text(encoding="utf-8", errors="replace")))}
    assert not found, f"emoji (drawn as an empty box without an emoji font): {found}"


BADGE = re.compile(r'<span class="badge">([^<]*)</span>')


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "word"), [("zh-hans", "保密"), ("en", "Confidential")])
def test_confidential_marker_is_a_text_badge_on_the_demand_list_and_page(client, language, word):
    owner = make_organisation(name="需求企业")
    demand = make_demand(owner, title="保密需求", public_summary="公开摘要", description="详细", confidential=True)
    client.force_login(make_user(Role.ENTERPRISE_USER, owner))
    client.cookies["django_language"] = language
    for url in (reverse("transfer:demand_list"), reverse("transfer:demand_detail", args=[demand.pk])):
        html = client.get(url).content.decode()
        assert word in BADGE.findall(html), url  # the badge's text is its accessible name
        assert not emoji_in(html), url
