"""The Simplified Chinese catalogue (the default language) is complete, consistent and compiled."""

import re
from collections import Counter
from pathlib import Path

import polib
import pytest

import sciencecity

LC_MESSAGES = Path(sciencecity.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# %(name)s with an optional conversion spec (%(seconds).1f, %(n)d), positional %s / %d, str.format {name}.
NAMED = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)[-#0 +]*\d*(?:\.\d+)?[sdfir]")
POSITIONAL = re.compile(r"(?<!%)%[-#0 +]*\d*(?:\.\d+)?[sdfir]")
BRACED = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


def _placeholders(text: str, python_format: bool) -> tuple[Counter, Counter]:
    named = Counter(m.group(0) for m in NAMED.finditer(text))
    named.update("{" + m.group(1) + "}" for m in BRACED.finditer(text))
    positional = Counter()
    if python_format:
        stripped = NAMED.sub("", text.replace("%%", ""))
        positional.update(m.group(0) for m in POSITIONAL.finditer(stripped))
    return named, positional


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO_PATH))


def _entries(po):
    return [e for e in po if not e.obsolete]


def test_header_declares_one_plural_form(po):
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert po.metadata.get("Content-Type", "").lower().endswith("charset=utf-8")


def test_every_entry_is_translated_and_not_fuzzy(po):
    entries = _entries(po)
    assert len(entries) > 900
    untranslated = [e.msgid for e in entries if not e.translated()]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:10]}"
    assert not po.metadata_is_fuzzy
    for e in entries:
        if e.msgid_plural:
            assert set(e.msgstr_plural) == {0}, e.msgid  # nplurals=1: exactly one form
            assert e.msgstr_plural[0].strip(), e.msgid
        else:
            assert e.msgstr.strip(), e.msgid


def test_placeholders_match(po):
    problems = []
    for e in _entries(po):
        python_format = "python-format" in e.flags
        if e.msgid_plural:
            pairs = [(e.msgid_plural, e.msgstr_plural[0])]
        else:
            pairs = [(e.msgid, e.msgstr)]
        for source, translation in pairs:
            src_named, src_pos = _placeholders(source, python_format)
            dst_named, dst_pos = _placeholders(translation, python_format)
            if set(src_named) != set(dst_named) or src_pos != dst_pos:
                problems.append((source, translation))
            if python_format and source.count("%%") != translation.count("%%"):
                problems.append((source, translation))
    assert not problems, problems[:10]


def test_html_tags_are_kept(po):
    tag = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b")
    problems = [
        e.msgid
        for e in _entries(po)
        if not e.msgid_plural and Counter(tag.findall(e.msgid)) != Counter(tag.findall(e.msgstr))
    ]
    assert not problems, problems


def test_compiled_catalogue_is_up_to_date(po):
    assert MO_PATH.exists(), "run compilemessages"
    mo = polib.mofile(str(MO_PATH))

    def key(e):
        return (e.msgctxt or "", e.msgid, e.msgid_plural or "")

    def value(e):
        return tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr

    compiled = {key(e): value(e) for e in mo if e.msgid}
    expected = {key(e): value(e) for e in _entries(po) if e.translated() and "fuzzy" not in e.flags}
    missing = sorted(set(expected) - set(compiled))
    stale = sorted(k for k in set(expected) & set(compiled) if expected[k] != compiled[k])
    extra = sorted(set(compiled) - set(expected))
    assert not missing and not stale and not extra, (
        f"django.mo is out of date with django.po (run compilemessages): "
        f"missing {missing[:5]}, stale {stale[:5]}, extra {extra[:5]}"
    )
