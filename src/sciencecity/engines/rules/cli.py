"""``sciencecity hnte assess FILE.json [--json]``: batch self-assessment for service agencies.

Input and output as in enterprise-assessment-format.md. The whole file is read and checked
before anything is printed: a bad file gets one error line on stderr naming the enterprise and
the field, nothing on stdout, and exit status 2. Success prints everything at once, status 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from . import hnte, techsme
from .i18n import _
from .profile import EnterpriseProfile, ProfileError, profiles_from_document

BAD_INPUT = 2


class InputError(Exception):
    pass


def assess_document(document) -> dict:
    """``{"results": [...]}`` for a parsed input document (raises ``ProfileError`` on bad input)."""
    profiles = profiles_from_document(document)
    rules = techsme.load_rule_set()
    return {"results": [assess_profile(p, rules) for p in profiles]}


def assess_profile(profile: EnterpriseProfile, rules: techsme.RuleSet | None = None) -> dict:
    return {"id": profile.id, "hnte": hnte.assess(profile).to_dict(),
            "tech_sme": techsme.evaluate(profile, rules).to_dict()}


def read_document(path: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(_("%(path)s: no such file", path=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(_("%(path)s: cannot read: %(error)s", path=path, error=error)) from None
    try:
        # Decimals keep the amounts exact (0.1 stays 1/10) for the boundary comparisons.
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(_("%(path)s: not valid JSON: %(error)s at line %(line)s column %(column)s", path=path,
                           error=error.msg, line=error.lineno, column=error.colno)) from None


def render_text(output: dict, names: dict[str, str]) -> str:
    VERDICTS = {"certain": _("certain"), "possible": _("possible"), "not_yet": _("not yet")}  # noqa: N806
    STATUSES = {"pass": _("pass"), "fail": _("fail"), "review": _("to review"), "unknown": _("unknown")}  # noqa: N806
    PARTS = {"ip": _("IP"), "conversion": _("conversion"), "rd_management": _("R&D management"),  # noqa: N806
             "growth": _("growth"), "staff": _("S&T staff"), "rd": _("R&D"), "ip_sme": _("S&T results")}
    ROUTES = {"hnte_certificate": _("valid high-tech enterprise certificate"),  # noqa: N806
              "national_award_top3": _("national S&T award (top three units)"),
              "provincial_rd_institution": _("provincial or higher R&D institution"),
              "led_standard": _("led a national or industry standard")}
    lines = []
    for result in output["results"]:
        h, t = result["hnte"], result["tech_sme"]
        title = f"{result['id']} {names.get(result['id'], '')}".rstrip()
        lines.append(f"== {title}")
        parts = ", ".join(f"{PARTS.get(p['code'], p['code'])} {p['min']}–{p['max']}" for p in h["score"]["parts"])
        lines.append(_("High-tech enterprise: %(verdict)s   score %(min)s–%(max)s (%(parts)s)",
                       verdict=VERDICTS.get(h["verdict"], h["verdict"]), min=h["score"]["min"], max=h["score"]["max"],
                       parts=parts))
        for c in h["conditions"]:
            lines.append(f"  {c['code']} {STATUSES.get(c['status'], c['status'])}  {c['message']}")
        if h["improvements"]:
            lines.append("  " + _("improvements (most valuable first):"))
            lines += [f"    {i}. {text}" for i, text in enumerate(h["improvements"], 1)]
        verdict = _("qualifies") if t["qualifies"] else _("does not qualify")
        route = _(", direct route: %(route)s", route=ROUTES.get(t["direct_route"], t["direct_route"])) \
            if t["direct_route"] else ""
        parts = ", ".join(f"{PARTS.get('ip_sme' if k == 'ip' else k, k)} {v if v is not None else '?'}"
                          for k, v in t["parts"].items())
        lines.append(_("Tech-SME: %(verdict)s   score %(score)s (%(parts)s)%(route)s", verdict=verdict,
                       score=t["score"] if t["score"] is not None else "?", parts=parts, route=route))
        for c in t["conditions"]:
            lines.append(f"  {c['code']} {STATUSES.get(c['status'], c['status'])}  {c['message']}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="sciencecity hnte", description="High-tech enterprise and tech-SME "
                                     "self-assessment of a batch of enterprises.")
    sub = parser.add_subparsers(dest="action", required=True)
    assess = sub.add_parser("assess", help="Assess every enterprise of FILE.json.")
    assess.add_argument("file", metavar="FILE.json")
    assess.add_argument("--json", action="store_true", help="Machine-readable output.")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        document = read_document(args.file)
        output = assess_document(document)
    except (InputError, ProfileError) as error:
        stderr.write(_("error: %(message)s", message=error) + "\n")
        return BAD_INPUT
    if args.json:
        stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
    else:
        names = {}
        items = document.get("enterprises", [document]) if isinstance(document, dict) else []
        for item in items:
            names[str(item.get("id"))] = item.get("name", "")
        stdout.write(render_text(output, names))
    return 0
