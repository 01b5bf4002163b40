"""Deterministic synthetic demo data for shared instruments (``sciencecity demo-facilities``).

Built on the registry's demo organisations (``sciencecity demo`` first): instruments and end-stations on the
demo laboratories, platforms and facilities with price lists; a voucher scheme with approved vouchers of
demo enterprises; completed bookings with usage records and fees over the 90 days before the reference day
(``core.demo.demo_as_of``), some paid in part by vouchers, and confirmed bookings in the next two weeks.
Everything is marked synthetic; the run writes one audit event (``generate``, ``facilities.demo``). Re-running
changes nothing (the rows exist)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.facilities.models import (
    Blackout,
    Booking,
    Instrument,
    InstrumentPrice,
    UsageRecord,
    Voucher,
    VoucherRedemption,
    VoucherScheme,
)
from sciencecity.facilities.services.usage import billed_minutes, fee_for
from sciencecity.registry.demo import ORGANISATION_CODE_PREFIX
from sciencecity.registry.models import Organisation

CODE_PREFIX = "DEMO-INS-"
DEMO_USERNAME = "demo_facilities"
SEED = 2021
HOST_KINDS = ("laboratory", "major_facility", "research_platform", "university", "research_institute",
              "new_rd_institution")

#: (name, English name, kind, model, capabilities, keywords, internal/academic/enterprise/SME price per hour)
CATALOGUE = [
    ("场发射扫描电子显微镜", "Field-emission scanning electron microscope", "instrument", "Zeiss Sigma 300",
     "二次电子与背散射成像，分辨率 1.2 nm；能谱 EDS 成分分析", "SEM 形貌 EDS 材料", (150, 300, 600, 450)),
    ("透射电子显微镜", "Transmission electron microscope", "instrument", "JEOL JEM-F200",
     "高分辨 TEM、STEM、电子衍射", "TEM 晶体结构 纳米", (300, 600, 1200, 900)),
    ("X射线衍射仪", "X-ray diffractometer", "instrument", "Bruker D8 Advance", "物相分析、晶粒尺寸、织构",
     "XRD 物相 晶体", (80, 160, 320, 240)),
    ("液相色谱-质谱联用仪", "LC-MS/MS", "instrument", "Thermo Orbitrap Exploris 480", "高分辨质谱、蛋白组学、代谢组学",
     "质谱 蛋白 代谢 合成生物", (200, 400, 800, 600)),
    ("流式细胞分选仪", "Flow cytometer and cell sorter", "instrument", "BD FACSAria III", "多色分析、单细胞分选",
     "流式 细胞 生物医药", (120, 240, 480, 360)),
    ("高通量基因测序仪", "High-throughput sequencer", "instrument", "MGI DNBSEQ-T7", "全基因组、转录组测序",
     "测序 基因 合成生物", (250, 500, 1000, 750)),
    ("超算中心 GPU 计算节点", "Supercomputing GPU nodes", "computing", "8× A800 节点", "深度学习训练、分子动力学模拟",
     "GPU 算力 人工智能", (40, 80, 160, 120)),
    ("原子力显微镜", "Atomic force microscope", "instrument", "Bruker Dimension Icon", "表面形貌、力学、电学测量",
     "AFM 表面 纳米", (100, 200, 400, 300)),
    ("激光共聚焦显微镜", "Confocal laser scanning microscope", "instrument", "Leica STELLARIS 5", "活细胞成像、三维重构",
     "共聚焦 成像 细胞", (100, 200, 400, 300)),
    ("精密三坐标测量机", "Coordinate measuring machine", "instrument", "Hexagon GLOBAL S", "精密尺寸与形位公差测量",
     "计量 精密测量 制造", (60, 120, 240, 180)),
    ("同步辐射光源 BL01 线站", "Synchrotron beamline BL01 end-station", "end_station", "硬X射线吸收谱线站",
     "XAFS 吸收谱、原位实验", "同步辐射 线站 XAFS", (500, 1000, 2000, 1500)),
    ("脑成像 7T 磁共振", "7 T MRI for brain imaging", "instrument", "Siemens MAGNETOM Terra", "高场脑功能与结构成像",
     "脑科学 磁共振 成像", (800, 1600, 3200, 2400)),
    ("锂电池安全性能检测", "Lithium battery safety testing", "testing_service", "GB 31241 / GB 38031 检测线",
     "过充、短路、挤压、针刺、热滥用", "电池 安全 检测 认证", (200, 300, 500, 400)),
    ("医疗器械电磁兼容检测", "EMC testing of medical devices", "testing_service", "3 m 法半电波暗室",
     "YY 9706.102 电磁兼容全项", "医疗器械 EMC 检测", (300, 450, 800, 600)),
]
#: CMA / CNAS numbers of the demo testing services (synthetic)
ACCREDITATIONS = {"testing_service": ("CMA 2021190000XX（合成）", "CNAS L00000（合成）")}
CLASSES = ("internal", "academic", "enterprise", "sme")


@dataclass
class DemoResult:
    created: int = 0
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _demo_user():
    from sciencecity.accounts.models import User

    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        user = User(username=DEMO_USERNAME, display_name="演示预约用户（合成）", is_active=False,
                    password_changed_at=timezone.now())
        user.set_unusable_password()
        user.save()
    return user


@transaction.atomic
def demo_generate(*, today: dt.date | None = None, seed: int = SEED) -> DemoResult:
    demo_orgs = Organisation.objects.filter(code__startswith=ORGANISATION_CODE_PREFIX)
    hosts = list(demo_orgs.filter(kind__in=HOST_KINDS).order_by("code")[:8])
    enterprises = list(demo_orgs.filter(kind="enterprise").order_by("code")[:30])
    academics = list(demo_orgs.filter(kind__in=("university", "research_institute")).order_by("code")[:6])
    if not hosts or not enterprises:
        return DemoResult(skipped=True)
    if Instrument.objects.filter(code__startswith=CODE_PREFIX).exists():
        return DemoResult()
    today = demo_as_of(today)
    rng = random.Random(seed)
    user = _demo_user()
    tz = timezone.get_current_timezone()
    instruments, prices = [], []
    for n, (name, name_en, kind, model, caps, keywords, rates) in enumerate(CATALOGUE, start=1):
        host = hosts[(n - 1) % len(hosts)]
        always = kind in ("computing", "end_station")
        instrument = Instrument(code=f"{CODE_PREFIX}{n:03d}", name=name, name_en=name_en, kind=kind, host=host,
                                model=model, capabilities=caps, keywords=keywords,
                                location=f"光明科学城 {host.name} {100 + n} 室", always_open=always,
                                max_booking_minutes=24 * 60 if always else 8 * 60, training_required=False,
                                approval_required=n % 4 == 0, rules="首次使用须阅读安全须知；样品须提前登记。",
                                cma_number=ACCREDITATIONS.get(kind, ("", ""))[0],
                                cnas_number=ACCREDITATIONS.get(kind, ("", ""))[1],
                                accredited_scope=caps if kind in ACCREDITATIONS else "", is_synthetic=True)
        instruments.append(instrument)
        prices += [InstrumentPrice(instrument=instrument, user_class=c, hourly_rate=Decimal(r))
                   for c, r in zip(CLASSES, rates, strict=True)]
    Instrument.objects.bulk_create(instruments)
    InstrumentPrice.objects.bulk_create(prices)
    blackout_day = today + dt.timedelta(days=10)
    blackouts = [Blackout(instrument=instruments[1], reason="年度维护保养（合成）",
                          starts_at=dt.datetime.combine(blackout_day, dt.time(8), tz),
                          ends_at=dt.datetime.combine(blackout_day + dt.timedelta(days=2), dt.time(20), tz))]
    Blackout.objects.bulk_create(blackouts)
    scheme = VoucherScheme.objects.create(
        code=f"DEMO-CXQ-{today.year}", name=f"{today.year}年光明区科技创新券（合成）", budget=Decimal("2000000"),
        cap_per_enterprise=Decimal("50000"), max_share=Decimal("0.5"),
        eligibility="employees < 300 and revenue < 20000 and registered_in_district",
        valid_until=dt.date(today.year, 12, 31) + dt.timedelta(days=365), is_synthetic=True)
    voucher_orgs = enterprises[:8]
    vouchers = {}
    for n, org in enumerate(voucher_orgs, start=1):
        amount = Decimal(10000 * (1 + n % 4))
        vouchers[org.pk] = Voucher.objects.create(
            code=f"{scheme.code}-{n:05d}", scheme=scheme, organisation=org, requested=amount, granted=amount,
            balance=amount, state="approved", decided_at=timezone.now(), is_synthetic=True,
            facts={"employees": 20 + 15 * n, "revenue": 800 * n, "registered_in_district": True})
    users = [*enterprises, *academics]
    booking_rows, usage_rows = [], []
    for day_offset in range(-90, 15):
        day = today + dt.timedelta(days=day_offset)
        for instrument in instruments:
            if not instrument.always_open and day.isoweekday() > 5:
                continue
            hour = 8 if not instrument.always_open else rng.choice((0, 6, 8))
            last = 20 if not instrument.always_open else 24
            while hour < last - 1 and rng.random() < 0.55:
                hours = rng.choice((1, 2, 2, 3, 4))
                if hour + hours > last:
                    break
                start = dt.datetime.combine(day, dt.time(hour), tz)
                end = start + dt.timedelta(hours=hours)
                org = rng.choice([instrument.host, *users, *voucher_orgs])
                user_class = ("internal" if org.pk == instrument.host_id else
                              "academic" if org.kind != "enterprise" else
                              "sme" if org.pk in vouchers else "enterprise")
                past = end.date() < today
                b = Booking(instrument=instrument, user=user, organisation=org, starts_at=start, ends_at=end,
                            user_class=user_class, purpose="样品测试（合成）", is_synthetic=True,
                            state="completed" if past else "confirmed")
                if past:
                    b.checked_in_at = start + dt.timedelta(minutes=rng.randint(0, 10))
                    b.checked_out_at = end - dt.timedelta(minutes=rng.randint(0, 20))
                booking_rows.append(b)
                hour += hours + rng.choice((0, 0, 1, 2))
    Booking.objects.bulk_create(booking_rows)
    price_of = {(p.instrument.code, p.user_class): p.hourly_rate for p in prices}
    for b in booking_rows:
        if b.state != "completed":
            continue
        minutes = billed_minutes((b.checked_out_at - b.checked_in_at).total_seconds())
        rate = price_of[(b.instrument.code, b.user_class)]
        usage_rows.append(UsageRecord(booking=b, instrument=b.instrument, organisation=b.organisation,
                                      user_class=b.user_class, started_at=b.checked_in_at, ended_at=b.checked_out_at,
                                      minutes=minutes, hourly_rate=rate, fee=fee_for(rate, minutes),
                                      is_synthetic=True))
    UsageRecord.objects.bulk_create(usage_rows)
    redemptions = []
    for usage in usage_rows:
        voucher = vouchers.get(usage.organisation_id)
        if voucher is None or rng.random() < 0.3:
            continue
        amount = min((usage.fee * scheme.max_share).quantize(Decimal("0.01"), rounding=ROUND_DOWN), voucher.balance)
        if amount <= 0:
            continue
        voucher.balance -= amount
        usage.voucher_paid = amount
        redemptions.append(VoucherRedemption(voucher=voucher, usage=usage, amount=amount,
                                             settled_at=timezone.now() if usage.started_at.date() < today
                                             - dt.timedelta(days=30) else None))
    UsageRecord.objects.bulk_update([r.usage for r in redemptions], ["voucher_paid"])
    Voucher.objects.bulk_update(list(vouchers.values()), ["balance"])
    VoucherRedemption.objects.bulk_create(redemptions)
    counts = {"instruments": len(instruments), "bookings": len(booking_rows), "usage_records": len(usage_rows),
              "vouchers": len(vouchers), "voucher_redemptions": len(redemptions)}
    audit_record(action=AuditAction.GENERATE, object_type="facilities.demo", object_id=str(seed),
                 object_repr="facilities demo data (synthetic)", changes={"counts": [None, counts],
                                                                         "as_of": [None, today]})
    return DemoResult(created=sum(counts.values()), counts=counts)
