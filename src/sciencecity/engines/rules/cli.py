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
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    try:
        # Decimals keep the amounts exact (0.1 stays 1/10) for the boundary comparisons.
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None


def render_text(output: dict, names: dict[str, str]) -> str:
    lines = []
    for result in output["results"]:
        h, t = result["hnte"], result["tech_sme"]
        title = f"{result['id']} {names.get(result['id'], '')}".rstrip()
        lines.append(f"== {title}")
        lines.append(f"高新技术企业 HNTE: {h['verdict']}   score {h['score']['min']}–{h['score']['max']} "
                     f"(" + ", ".join(f"{p['code']} {p['min']}–{p['max']}" for p in h["score"]["parts"]) + ")")
        for c in h["conditions"]:
            lines.append(f"  {c['code']} {c['status']:<7} {c['message']}")
        if h["improvements"]:
            lines.append("  improvements (most valuable first):")
            lines += [f"    {i}. {text}" for i, text in enumerate(h["improvements"], 1)]
        verdict = "qualifies" if t["qualifies"] else "does not qualify"
        route = f", direct route {t['direct_route']}" if t["direct_route"] else ""
        parts = ", ".join(f"{k} {v if v is not None else '?'}" for k, v in t["parts"].items())
        lines.append(f"科技型中小企业 tech-SME: {verdict}   score {t['score'] if t['score'] is not None else '?'} "
                     f"({parts}){route}")
        for c in t["conditions"]:
            lines.append(f"  {c['code']} {c['status']:<7} {c['message']}")
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
        stderr.write(f"error: {error}\n")
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
