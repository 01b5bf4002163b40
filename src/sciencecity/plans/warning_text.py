"""Parser warnings in the reader's language.

The plan-document parser (``engines/plandoc``, no Django) states each warning with a stable code and an
English sentence; the sentence is stored with the plan. Here each code has a translated title, and the
sentences of the common codes are read back into their parts and said again in the current language,
so the Chinese structure page shows no English (issue 11, item 7). A sentence that does not match its
pattern is shown as stored, marked as English."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

TITLES = {
    "no_chapters": _("No chapters recognised"),
    "chapter_numbering": _("Chapter numbering"),
    "section_numbering": _("Section numbering"),
    "task_numbering": _("Task numbering"),
    "box_numbering": _("专栏 numbering"),
    "indicator_numbering": _("Indicator numbering"),
    "indicator_target_not_numeric": _("Target is not a number"),
    "indicator_target_year_missing": _("Target year missing"),
    "target_below_baseline": _("Target below the baseline"),
    "target_above_baseline": _("Target above the baseline"),
    "commitment_conflicts_with_table": _("Text and table disagree"),
    "table_referenced_missing": _("Table not found"),
    "heading_unsure": _("Heading uncertain"),
    "image_not_read": _("Picture not read"),
    "table_empty": _("Empty table"),
    "table_read_by_ocr": _("Table read by OCR"),
    "table_unrecognised": _("Table not recognised"),
    "toc_unsure": _("Table of contents uncertain"),
}

_INDICATOR = r"indicator (?P<number>\S+) (?P<name>.+?)"
_SEQUENCE = r"expected (?P<expected>.+), found (?P<found>.+)"
PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "no_chapters": (re.compile(r"no chapter headings \(一、 / 第X章\) were recognised"),
                    _("No chapter headings (一、 / 第X章) were recognised.")),
    "chapter_numbering": (re.compile(rf"chapter numbering: {_SEQUENCE}"),
                          _("Chapter numbering: expected %(expected)s, found %(found)s.")),
    "box_numbering": (re.compile(rf"专栏 numbering: {_SEQUENCE}"),
                      _("专栏 numbering: expected %(expected)s, found %(found)s.")),
    "indicator_numbering": (re.compile(rf"表(?P<table>\S*): indicator numbering: {_SEQUENCE}"),
                            _("表%(table)s: indicator numbering: expected %(expected)s, found %(found)s.")),
    "indicator_target_not_numeric": (re.compile(rf"{_INDICATOR}: target “(?P<target>.*)” is not a number"),
                                     _("Indicator %(number)s %(name)s: the target “%(target)s” is not a number.")),
    "indicator_target_year_missing": (re.compile(rf"{_INDICATOR}: no target year in the table header"),
                                      _("Indicator %(number)s %(name)s: no target year in the table header.")),
    "target_below_baseline": (
        re.compile(rf"{_INDICATOR}: the (?P<year>\d*) ?target (?P<target>.+) is below the (?P<base_year>\d+) value "
                   r"(?P<base>.+) stated in the text"),
        _("Indicator %(number)s %(name)s: the %(year)s target %(target)s is below the %(base_year)s value "
          "%(base)s stated in the text.")),
    "target_above_baseline": (
        re.compile(rf"{_INDICATOR}: the (?P<year>\d*) ?target (?P<target>.+) is above the (?P<base_year>\d+) value "
                   r"(?P<base>.+) although lower is better"),
        _("Indicator %(number)s %(name)s: the %(year)s target %(target)s is above the %(base_year)s value "
          "%(base)s although lower is better.")),
    "commitment_conflicts_with_table": (
        re.compile(rf"{_INDICATOR}: the text says “(?P<text>.*)” but the table target is “(?P<target>.*)”"),
        _("Indicator %(number)s %(name)s: the text says “%(text)s” but the table target is “%(target)s”.")),
    "table_referenced_missing": (re.compile(r"the text refers to 表(?P<table>\S+) but no such table was read"),
                                 _("The text refers to 表%(table)s but no such table was read.")),
}


@dataclass(frozen=True)
class ShownWarning:
    code: str
    title: str
    message: str
    translated: bool  # False: ``message`` is the parser's English sentence
    line: int | None


def shown(code: str, message: str, line: int | None = None) -> ShownWarning:
    """One stored warning as the current reader should see it."""
    title = str(TITLES.get(code, code))
    pattern = PATTERNS.get(code)
    if pattern is not None:
        found = pattern[0].fullmatch(message.strip())
        if found is not None:
            parts = {key: value or "" for key, value in found.groupdict().items()}
            return ShownWarning(code, title, str(pattern[1]) % parts, True, line)
    return ShownWarning(code, title, message, False, line)
