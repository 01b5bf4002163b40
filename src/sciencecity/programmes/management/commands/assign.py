"""``sciencecity assign --scores scores.csv [--constraints c.csv] --per-submission K --min-load A
--max-load B [--max-loads m.csv] --out assignment.json`` (OpenReview matcher formats).

Scores ``paperID,userID,score``; constraints ``paperID,userID,-1|1|0`` (conflict, forced, none);
max loads ``userID,max``. The output is ``{submissionId: [[expertId, score], ...]}``. The answer is
the exact optimum (engines.assignment); an infeasible instance exits with status 1 and says what
to change.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from sciencecity.engines.assignment import (
    AssignmentInfeasible,
    problem_from_csv,
    solve_assignment,
    write_assignment_json,
)


class Command(BaseCommand):
    help = "Optimal conflict-free reviewer assignment from OpenReview matcher CSV files."

    def add_arguments(self, parser):
        parser.add_argument("--scores", required=True, metavar="FILE", help="paperID,userID,score rows.")
        parser.add_argument("--constraints", metavar="FILE", help="paperID,userID,-1|1|0 rows (conflict/forced).")
        parser.add_argument("--per-submission", type=int, required=True, metavar="K", help="Reviewers per submission.")
        parser.add_argument("--min-load", type=int, default=0, metavar="A", help="Minimum submissions per expert.")
        parser.add_argument("--max-load", type=int, required=True, metavar="B", help="Maximum submissions per expert.")
        parser.add_argument("--max-loads", metavar="FILE", help="userID,max rows: per-expert maximum loads.")
        parser.add_argument("--out", required=True, metavar="FILE", help="JSON to write.")

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            problem = problem_from_csv(options["scores"], options["constraints"], options["max_loads"],
                                       per_submission=options["per_submission"], min_load=options["min_load"],
                                       max_load=options["max_load"])
            assignment = solve_assignment(problem)
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        except AssignmentInfeasible as infeasible:
            raise CommandError("no assignment is possible:\n" + "\n".join(
                f"- {issue.message}" for issue in infeasible.issues)) from infeasible
        write_assignment_json(assignment, options["out"])
        self.stdout.write(f"total affinity {assignment.total_score:.6f}; {len(assignment)} assignments for "
                          f"{problem.submission_count} submissions; {time.perf_counter() - started:.3f} s "
                          f"→ {options['out']}")
