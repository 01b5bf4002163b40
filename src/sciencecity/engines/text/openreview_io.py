"""Files of the affinity command, in the openreview-expertise layout, and the command itself.

- experts: a directory with one ``<expertId>.jsonl`` per expert, one publication a line:
  ``{"id": ..., "content": {"title": ..., "abstract": ...}}`` (a field may also be
  ``{"value": ...}`` as in OpenReview API v2);
- submissions: one JSON object ``{submissionId: {"content": {"title": ..., "abstract": ...}}}``;
- scores: CSV rows ``submissionId,expertId,score`` without a header, as openreview-expertise writes.

Run: ``python -m sciencecity.engines.text affinity --experts DIR --submissions FILE --out scores.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .affinity import affinity_scores


@dataclass(frozen=True, slots=True)
class Paper:
    """A publication or a submission: title and abstract."""

    id: str
    title: str = ""
    abstract: str = ""

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.abstract}".strip()


def _field(content: Mapping[str, object], name: str) -> str:
    value = content.get(name) or ""
    if isinstance(value, Mapping):
        value = value.get("value") or ""
    return str(value)


def _paper(paper_id: str, record: Mapping[str, object]) -> Paper:
    content = record.get("content") or {}
    if not isinstance(content, Mapping):
        raise ValueError(f"{paper_id}: 'content' must be an object")
    return Paper(paper_id, _field(content, "title"), _field(content, "abstract"))


def read_experts(directory: str | Path) -> dict[str, list[Paper]]:
    """``{expertId: [publications]}`` from ``<expertId>.jsonl`` files, sorted by expert id."""
    experts: dict[str, list[Paper]] = {}
    for path in sorted(Path(directory).glob("*.jsonl")):
        papers = []
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path.name}:{line_number}: not JSON ({error.msg})") from error
                papers.append(_paper(str(record.get("id", f"{path.stem}-{line_number}")), record))
        experts[path.stem] = papers
    return experts


def read_submissions(path: str | Path) -> dict[str, Paper]:
    """``{submissionId: Paper}`` from the submissions JSON object."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise ValueError("submissions file must hold one JSON object {submissionId: {content: ...}}")
    return {str(key): _paper(str(key), value) for key, value in data.items()}


def write_experts(directory: str | Path, experts: Mapping[str, Sequence[Paper]]) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for expert_id, papers in experts.items():
        lines = [
            json.dumps(
                {"id": p.id, "content": {"title": p.title, "abstract": p.abstract}}, ensure_ascii=False
            )
            for p in papers
        ]
        (target / f"{expert_id}.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_submissions(path: str | Path, submissions: Mapping[str, Paper]) -> None:
    data = {key: {"content": {"title": p.title, "abstract": p.abstract}} for key, p in submissions.items()}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def write_scores(path: str | Path, rows: Iterable[tuple[str, str, float]]) -> int:
    """Write ``submissionId,expertId,score`` rows; returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for submission_id, expert_id, score in rows:
            writer.writerow([submission_id, expert_id, f"{score:.6f}"])
            count += 1
    return count


def read_scores(path: str | Path) -> list[tuple[str, str, float]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [(row[0], row[1], float(row[2])) for row in csv.reader(handle) if row]


def main(argv: Sequence[str] | None = None) -> int:
    """``affinity --experts DIR --submissions FILE --out scores.csv [--aggregate max|mean] [--top N]``."""
    parser = argparse.ArgumentParser(prog="affinity", description="Expert–submission affinity from texts.")
    parser.add_argument("--experts", required=True, help="directory of <expertId>.jsonl publication files")
    parser.add_argument("--submissions", required=True, help="JSON object {submissionId: {content: ...}}")
    parser.add_argument("--out", required=True, help="CSV to write: submissionId,expertId,score")
    parser.add_argument("--aggregate", choices=("max", "mean"), default="max")
    parser.add_argument("--top", type=int, default=None, help="keep the best N experts per submission")
    args = parser.parse_args(argv)
    experts = read_experts(args.experts)
    submissions = read_submissions(args.submissions)
    result = affinity_scores(
        {e: [p.text for p in papers] for e, papers in experts.items()},
        {s: p.text for s, p in submissions.items()},
        aggregate=args.aggregate,
    )
    count = write_scores(args.out, result.rows(top_n=args.top))
    print(f"{count} scores for {len(submissions)} submissions × {len(experts)} experts → {args.out}")
    return 0
