"""Synthetic facility time demo (``sciencecity demo-beamtime``): one facility with four beamlines, a round
with proposals of the registry's demo enterprises, feasibility assessed, reviews by the demo experts and
the shifts allocated with the optimal policy. Everything is marked synthetic; re-running changes nothing.

Needs the registry demo (``sciencecity demo``) for the enterprises and experts. One ``generate`` audit event
(object type ``facilities.beamtime_demo``), plus the allocation's own events.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.facilities.beamtime import services
from sciencecity.facilities.beamtime.choices import Feasibility, ReviewState, RoundState
from sciencecity.facilities.beamtime.models import (
    BeamtimeProposal,
    BeamtimeReview,
    BeamtimeRound,
    RoundBeamline,
    ShiftRequest,
)
from sciencecity.facilities.models import Instrument
from sciencecity.registry.models import Organisation, Person

DEFAULT_SEED = 20261207
ROUND_CODE = "DEMO-BT2026"
FACILITY_CODE = "DEMO-FAC-SR"
AUDIT_OBJECT_TYPE = "facilities.beamtime_demo"
PROPOSALS = 24
BEAMLINES = [("DEMO-BL01", "硬X射线衍射线站（合成）", 60, 6), ("DEMO-BL02", "X射线吸收谱线站（合成）", 45, 6),
             ("DEMO-BL03", "软X射线成像线站（合成）", 30, 3), ("DEMO-BL04", "小角散射线站（合成）", 40, 4)]
TOPICS = ["催化剂原位结构", "锂电池正极材料相变", "钙钛矿薄膜缺陷", "蛋白质晶体结构", "高熵合金残余应力",
          "半导体界面化学态", "生物医用材料成像", "柔性电子器件失效分析"]


@dataclass
class DemoResult:
    seed: int
    created: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    skipped: str = ""

    def add(self, label: str, n: int) -> None:
        self.counts[label] = self.counts.get(label, 0) + n
        self.created += n


def demo_generate(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> DemoResult:
    result = DemoResult(seed=seed)
    if BeamtimeRound.objects.filter(code=ROUND_CODE).exists():
        return result
    enterprises = list(Organisation.objects.filter(is_synthetic=True, kind="enterprise").order_by("code")[:PROPOSALS])
    experts = [p for p in Person.objects.filter(is_synthetic=True).order_by("code")
               if "expert" in (p.categories or [])][:12]
    if len(enterprises) < 4 or len(experts) < 2:
        result.skipped = "no registry demo data: run `sciencecity demo` first"
        return result
    today = demo_as_of(today)
    rng = random.Random(f"{seed}:beamtime")
    with transaction.atomic():
        facility = Organisation.objects.filter(code=FACILITY_CODE).first()
        if facility is None:
            facility = Organisation.objects.create(code=FACILITY_CODE, name="光明同步辐射光源（合成）",
                                                   name_en="Guangming Synchrotron (synthetic)", kind="major_facility",
                                                   level="municipal", status="operating", is_synthetic=True)
            result.add("facilities", 1)
        round_ = BeamtimeRound.objects.create(
            code=ROUND_CODE, title="2026年度机时申请（合成）", facility=facility, state=RoundState.REVIEW,
            closes_on=today - dt.timedelta(days=14), schedule_starts_on=today + dt.timedelta(days=30),
            is_synthetic=True)
        lines = []
        for code, name, shifts, reserved in BEAMLINES:
            instrument, made = Instrument.objects.get_or_create(
                code=code, defaults={"name": name, "kind": "end_station", "host": facility, "always_open": True,
                                     "is_synthetic": True})
            result.add("beamlines", int(made))
            lines.append(RoundBeamline.objects.create(round=round_, instrument=instrument, shifts=shifts,
                                                      reserved_shifts=reserved))
        result.add("rounds", 1)
        for i in range(PROPOSALS):
            organisation = enterprises[i % len(enterprises)]
            topic = TOPICS[i % len(TOPICS)]
            proposal = BeamtimeProposal.objects.create(
                round=round_, reference=f"{ROUND_CODE}-{i + 1:04d}", organisation=organisation,
                title=f"{topic}研究（合成）", abstract=f"利用同步辐射研究{topic}。", keywords=topic,
                samples="合成样品", hazards="无", safety_declared=True, priority=rng.random() < 0.2,
                is_synthetic=True)
            chosen = rng.sample(lines, k=1 if rng.random() < 0.7 else 2)
            for line in chosen:
                requested = rng.randint(1, 6) * 3
                verdict = rng.choices([Feasibility.FEASIBLE, Feasibility.PARTLY, Feasibility.NOT_FEASIBLE],
                                      weights=[8, 2, 1])[0]
                granted = {Feasibility.FEASIBLE: requested, Feasibility.NOT_FEASIBLE: 0}.get(
                    verdict, max(1, requested // 2))
                ShiftRequest.objects.create(proposal=proposal, beamline=line, shifts_requested=requested,
                                            feasibility=verdict, shifts_granted=granted)
            for expert in rng.sample(experts, k=2):
                BeamtimeReview.objects.create(proposal=proposal, expert=expert, state=ReviewState.SUBMITTED,
                                              score=rng.choice(["2.5", "3.0", "3.5", "4.0", "4.5", "5.0"]),
                                              comment="（合成评审意见）")
        result.add("proposals", PROPOSALS)
        result.add("reviews", 2 * PROPOSALS)
        services._allocate(actor=None, round_=round_, policy="optimal")
        result.add("calendar bookings", round_.allocation["calendar_bookings"])  # the shifts on the calendars
        audit_record(action=AuditAction.GENERATE, object_type=AUDIT_OBJECT_TYPE, object_id=str(seed),
                     object_repr=f"beamtime demo seed {seed}", changes={"seed": seed, "created": dict(result.counts)},
                     reason=f"synthetic facility time demo data, seed {seed}")
    return result
