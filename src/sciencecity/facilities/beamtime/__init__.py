"""机时 (facility time): proposal rounds per facility, feasibility and scientific review, ranking, allocation of
shifts with ``engines.beamtime``, the schedule and experiment reports."""
