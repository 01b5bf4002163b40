"""Deterministic synthetic demo data for the technology-transfer marketplace (``sciencecity demo-marketplace``).

Built on the registry's demo organisations and people (``sciencecity demo`` first): achievements
owned by the demo universities, institutes, new-type R&D institutions and laboratories; technology
demands of demo enterprises (some confidential); deals in every state, some with a technology
broker; registered technology contracts over 2021–2025 with a small generated PDF as the written
contract; start-ups moving through the incubation pipeline with dated stages.

Row *i* of each kind is a pure function of ``(seed, i)`` and of the registry's demo rows, so
re-running changes nothing (only missing ``DEMO-…`` codes are created) and ``small`` is a prefix of
``city``. Rows are written with ``bulk_create`` in one transaction and the run writes ONE audit
event (``generate``, object type ``transfer.demo``) with the counts.

Contract amounts (10k CNY): the first twenty contracts are the district's large registered
contracts whose yearly sums rise from about 3.8 to 8.2 亿元 (the plan's indicator 6 aims at 8.5
亿元 in 2025); the further contracts of ``city`` are small ones (20–800 万元 each).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.registry.choices import OrganisationKind, PersonCategory
from sciencecity.registry.demo import (
    DEFAULT_SEED,
    GIVEN_NAME_CHARACTERS,
    ORGANISATION_CODE_PREFIX,
    PERSON_CODE_PREFIX,
    SURNAMES,
)
from sciencecity.registry.models import Organisation, Person, Sector
from sciencecity.transfer.choices import (
    ContractType,
    DealState,
    IncubationStage,
    IpStatus,
    IpType,
    ListingStatus,
    TransferMode,
    Visibility,
)
from sciencecity.transfer.models import (
    Achievement,
    Deal,
    DealNote,
    Startup,
    StartupStage,
    TechContract,
    TechDemand,
)

BATCH_SIZE = 2000
AUDIT_OBJECT_TYPE = "transfer.demo"
ACHIEVEMENT_PREFIX = "DEMO-ACH-"
DEMAND_PREFIX = "DEMO-TD-"
DEAL_PREFIX = "DEMO-DEAL-"
CONTRACT_PREFIX = "DEMO-TC-"
TURNOVER_SOURCE = "transfer.contract_turnover"
CONTRACT_YEARS = (2021, 2022, 2023, 2024, 2025)
#: The yearly sums (10k CNY) of the first twenty (large) contracts: 3.8 → 8.2 亿元.
LARGE_CONTRACT_YEAR_TOTALS = {2021: 38_000, 2022: 46_000, 2023: 55_000, 2024: 68_000, 2025: 82_000}
LARGE_CONTRACTS = 20


@dataclass(frozen=True)
class Scale:
    name: str
    achievements: int
    demands: int
    deals: int
    contracts: int
    startups: int

    @property
    def total(self) -> int:
        return self.achievements + self.demands + self.deals + self.contracts + self.startups


#: Each scale is a prefix of the next.
SCALES: dict[str, Scale] = {
    "small": Scale("small", 60, 40, 14, 20, 15),
    "city": Scale("city", 5_000, 2_000, 300, 400, 120),
}


def achievement_code(index: int) -> str:
    return f"{ACHIEVEMENT_PREFIX}{index:06d}"


def demand_code(index: int) -> str:
    return f"{DEMAND_PREFIX}{index:06d}"


def deal_code(index: int) -> str:
    return f"{DEAL_PREFIX}{index:06d}"


def contract_number(index: int) -> str:
    """技术合同登记号-style: DEMO-TC-<year>440311<serial>."""
    return f"{CONTRACT_PREFIX}{contract_year(index)}440311{index:05d}"


def contract_year(index: int) -> int:
    return CONTRACT_YEARS[(index - 1) % len(CONTRACT_YEARS)]


# --------------------------------------------------------------------------------------------
# Vocabulary: the plan's fields with achievement titles, technical sentences and enterprise needs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    zh: str
    sectors: tuple[str, ...]
    keywords: tuple[str, ...]
    achievements: tuple[str, ...]  # titles of results
    methods: tuple[str, ...]  # what the result does (sentences)
    results: tuple[str, ...]  # figures of merit (sentences)
    uses: tuple[str, ...]  # where it applies
    needs: tuple[str, ...]  # enterprise demand titles
    pains: tuple[str, ...]  # why the enterprise needs it


TOPICS: tuple[Topic, ...] = (
    Topic("脑科学", ("RF-BRAIN", "RF-LIFE"), ("脑机接口", "神经调控", "脑电信号", "类脑计算", "神经影像"),
          ("高通量柔性脑机接口电极阵列", "非侵入式脑电信号实时解码算法", "闭环经颅磁刺激神经调控系统",
           "小动物全脑高分辨光学成像平台", "面向抑郁症的神经环路靶点筛选方法"),
          ("采用超薄柔性聚酰亚胺基底与微纳加工工艺，实现高密度电极的长期稳定植入",
           "基于深度学习的时空特征提取模型，对多通道脑电信号进行毫秒级解码",
           "结合神经影像定位与实时反馈，实现个体化的刺激参数闭环调节"),
          ("信号信噪比较现有方案提升约40%，动物实验中连续稳定记录超过180天",
           "解码准确率达到92%，延迟低于50毫秒", "已完成两轮动物实验验证并形成标准操作流程"),
          ("神经疾病诊疗", "康复医疗器械", "类脑智能研究", "脑科学基础研究仪器"),
          ("脑电采集设备低噪声前端芯片", "康复机器人运动意图识别算法", "神经调控设备临床评价方案"),
          ("现有产品信噪比不足，难以满足临床级应用", "缺少可靠的意图识别算法，产品迭代受阻")),
    Topic("合成生物", ("RF-SYNBIO", "IND-BIOMED"), ("合成生物学", "底盘细胞", "代谢工程", "生物制造", "酶工程"),
          ("高产麦角硫因工程菌株及发酵工艺", "人工设计的耐高温工业酶", "微生物合成天然产物的自动化构建平台",
           "基于无细胞体系的快速蛋白表达技术", "可编程基因线路的细胞治疗载体"),
          ("利用代谢通路重构和动态调控策略，显著提高目标产物的合成效率",
           "依托合成生物研究重大科技基础设施的自动化平台，完成数千株突变体的高通量筛选",
           "通过理性设计与定向进化相结合，获得稳定性显著提升的酶分子"),
          ("发酵产量达到每升12克，较文献报道水平提高3倍", "生产成本降低约60%，已完成50升中试",
           "菌株连续传代50代性能稳定"),
          ("化妆品原料", "食品添加剂", "医药中间体", "生物基材料"),
          ("化妆品活性原料生物合成工艺", "医药中间体绿色酶法制备", "生物基可降解材料单体生产菌株"),
          ("化学合成路线污染大、成本高", "现有供应依赖进口，交期长、价格波动大")),
    Topic("材料基因组", ("RF-MATGENOME", "RF-MATERIAL"), ("材料基因组", "高通量计算", "机器学习", "材料数据库"),
          ("高通量组合材料芯片制备与表征系统", "基于机器学习的合金成分逆向设计软件", "材料计算与实验数据一体化平台",
           "新型高熵合金快速筛选方法"),
          ("将高通量第一性原理计算与主动学习相结合，大幅缩小候选材料的搜索空间",
           "一次实验可同时制备和表征上千个成分点，实现材料研发的并行化",
           "建立覆盖十万余条记录的材料性能数据库及标准化数据接口"),
          ("新材料研发周期由平均5年缩短至1年以内", "预测误差低于8%，已在三家企业试用", "筛选效率提升两个数量级"),
          ("航空航天结构材料", "电池材料研发", "催化材料设计", "半导体材料"),
          ("耐高温合金成分快速优化", "电池材料配方的数据驱动设计", "材料研发数据管理系统"),
          ("传统试错法研发周期长、投入大", "缺少数据平台，研发经验难以沉淀")),
    Topic("新型显示", ("IND-DISPLAY",), ("新型显示", "Micro LED", "量子点", "OLED", "柔性显示"),
          ("Micro LED巨量转移与检测修复技术", "高色域量子点彩色转换膜", "柔性OLED薄膜封装材料",
           "低功耗显示驱动芯片架构", "印刷OLED发光层墨水配方"),
          ("采用激光辅助巨量转移工艺，单次转移芯片数量超过十万颗",
           "通过配体工程提升量子点的光热稳定性，实现高色域显示",
           "原子层沉积与有机层交替的复合封装结构有效阻隔水氧"),
          ("转移良率达到99.99%，修复效率提高5倍", "色域覆盖达到BT.2020标准的92%", "水汽透过率低于10⁻⁵克每平方米每天"),
          ("车载显示", "可穿戴设备", "超高清电视", "AR/VR近眼显示"),
          ("车载曲面显示模组可靠性提升", "Micro LED显示屏坏点检测与修复", "量子点膜材国产化替代"),
          ("良率偏低制约量产，成本居高不下", "关键材料依赖进口，供应链风险较大")),
    Topic("锂电池负极", ("IND-BATTERY", "RF-MATERIAL"), ("锂离子电池", "负极材料", "硅碳负极", "快充", "固态电池"),
          ("高首效硅碳复合负极材料", "快充型人造石墨负极及其制备方法", "预锂化负极工艺与装备",
           "固态电池用锂金属负极界面修饰技术", "负极材料低成本连续化石墨化工艺"),
          ("通过纳米硅均匀分散与多孔碳包覆结构，有效缓解充放电过程中的体积膨胀",
           "优化颗粒形貌与表面包覆，缩短锂离子扩散路径",
           "在负极表面构筑人工固态电解质界面层，抑制锂枝晶生长"),
          ("首次库伦效率达到90%，循环1000次容量保持率超过85%", "支持4C快充，能耗降低30%", "已完成吨级中试验证"),
          ("动力电池", "储能电站", "消费电子", "电动两轮车"),
          ("动力电池快充负极材料开发", "储能电池循环寿命提升", "负极材料生产能耗降低"),
          ("现有产品快充性能不足，难以满足整车厂要求", "能耗和成本压力大，需要工艺升级")),
    Topic("医疗器械", ("IND-MEDDEV",), ("医疗器械", "医学影像", "体外诊断", "手术机器人", "可穿戴监测"),
          ("便携式高分辨超声成像系统", "微流控化学发光体外诊断平台", "腹腔镜手术机器人力反馈系统",
           "可穿戴连续血压监测贴片", "低剂量锥形束CT重建算法"),
          ("采用全数字波束合成与深度学习降噪，在小型化设备上实现高质量成像",
           "将样本处理、反应和检测集成于一张微流控芯片，实现样本进、结果出",
           "基于多模态传感融合，实现对生理参数的连续无感监测"),
          ("图像质量达到台式设备水平，整机重量小于1千克", "检测时间缩短至15分钟，灵敏度与大型设备相当",
           "已取得二类医疗器械注册证并在三家医院开展临床试用"),
          ("基层医疗", "急诊与重症监护", "家庭健康管理", "微创外科"),
          ("基层医疗机构便携超声设备", "POCT快速检测试剂盒开发", "手术机器人关键零部件国产化"),
          ("进口设备价格高，基层难以普及", "注册检验与临床评价经验不足")),
    Topic("人工智能", ("IND-AI", "RF-INFO"), ("人工智能", "大模型", "机器视觉", "知识图谱", "强化学习"),
          ("面向工业质检的小样本视觉缺陷检测系统", "行业知识增强的大语言模型微调框架", "多机器人协同调度强化学习算法",
           "医学影像辅助诊断深度学习模型", "边缘端轻量化模型压缩工具链"),
          ("结合自监督预训练与少样本学习，仅需少量标注样本即可完成新产线部署",
           "融合行业知识图谱与检索增强生成技术，提升专业问答的准确性与可追溯性",
           "通过模型剪枝、量化与蒸馏，实现在边缘设备上的实时推理"),
          ("缺陷检出率超过99%，误报率低于0.5%", "推理速度提升8倍，模型体积压缩至原来的十分之一",
           "已在五条产线稳定运行超过一年"),
          ("智能制造", "智慧医疗", "智慧城市", "金融风控"),
          ("产线外观缺陷智能检测", "企业知识库智能问答系统", "仓储物流机器人调度优化"),
          ("人工质检效率低、漏检率高", "内部文档分散，检索困难，影响研发效率")),
    Topic("精密测量", ("RF-METROLOGY", "IND-MANUFACTURING"), ("精密测量", "光学测量", "量子计量", "校准"),
          ("纳米级光学表面形貌在线测量仪", "芯片封装翘曲三维测量系统", "基于光频梳的绝对距离测量技术"),
          ("采用白光干涉与相移算法，实现大视场纳米级形貌测量",
           "利用结构光投影与多视角融合，快速获得三维形貌数据"),
          ("测量重复性优于1纳米，单次测量时间小于2秒", "测量精度达到国际同类产品水平，价格降低一半"),
          ("半导体制造", "精密光学加工", "计量校准服务"),
          ("半导体晶圆在线检测设备", "精密零部件尺寸快速检测"),
          ("进口设备交付周期长、维护成本高",)),
)

ENTERPRISE_SUFFIX = ("", "及其制备方法", "关键技术", "的产业化应用", "系统与装置", "（第二代）")
VENUES = ("光明科学城成果发布会", "深圳国际高新技术成果交易会", "中国创新创业大赛", "高校科技成果路演")
IP_TYPES = ((IpType.INVENTION_PATENT, 55), (IpType.UTILITY_MODEL, 12), (IpType.SOFTWARE, 12),
            (IpType.KNOW_HOW, 10), (IpType.IC_LAYOUT, 3), (IpType.NONE, 8))
MODES = tuple(TransferMode.values)
RESEARCH_OWNER_KINDS = (OrganisationKind.UNIVERSITY, OrganisationKind.RESEARCH_INSTITUTE,
                        OrganisationKind.NEW_RD_INSTITUTION, OrganisationKind.LABORATORY)
#: Deal state of deal row i (cycled): most end agreed or registered, some declined or closed.
DEAL_STATES = (DealState.REGISTERED, DealState.NEGOTIATION, DealState.INTEREST, DealState.AGREED,
               DealState.CONTACT, DealState.REGISTERED, DealState.DECLINED, DealState.NEGOTIATION,
               DealState.REGISTERED, DealState.CLOSED, DealState.CONTACT, DealState.REGISTERED,
               DealState.INTEREST, DealState.AGREED)
CONTRACT_TYPE_ZH = {ContractType.DEVELOPMENT: "技术开发", ContractType.TRANSFER: "技术转让",
                    ContractType.LICENCE: "技术许可", ContractType.CONSULTING: "技术咨询",
                    ContractType.SERVICE: "技术服务"}
PIPELINE_KINDS = ((IncubationStage.CONCEPT, OrganisationKind.CONCEPT_VERIFICATION_CENTRE),
                  (IncubationStage.MAKER_SPACE, OrganisationKind.MAKER_SPACE),
                  (IncubationStage.INCUBATOR, OrganisationKind.INCUBATOR),
                  (IncubationStage.ACCELERATOR, OrganisationKind.ACCELERATOR),
                  (IncubationStage.PARK, OrganisationKind.SCIENCE_PARK))


def _rng(seed: int, what: str, index: int) -> random.Random:
    return random.Random(f"{seed}-transfer-{what}-{index}")


def _weighted(rng: random.Random, options: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([o for o, _w in options], weights=[w for _o, w in options])[0]


def _person_name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, weights=[1 / (r + 4) for r in range(len(SURNAMES))])[0][0]
    return surname + "".join(c for c, _p in rng.sample(GIVEN_NAME_CHARACTERS, 2))


def _text(parts: Sequence[str], low: int = 100, high: int = 300) -> str:
    """Join sentences until at least ``low`` characters; never more than ``high``."""
    text = ""
    for part in parts:
        if len(text) >= low:
            break
        text += part
    if len(text) > high:
        text = text[: high - 1] + "。"
    return text


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(max((end - start).days, 1)))


# --------------------------------------------------------------------------------------------
# The registry pool
# --------------------------------------------------------------------------------------------


@dataclass
class Pool:
    """Demo organisations and people the marketplace rows point at (ids, in code order)."""

    research: list[int]
    enterprises: list[int]
    carriers: dict[str, list[int]]
    brokers: list[int]
    names: dict[int, str]
    sectors: dict[int, set[str]] = field(default_factory=dict)

    def pick(self, rng: random.Random, candidates: list[int], sectors: Sequence[str]) -> int:
        """One of ``candidates``, preferring those working in one of ``sectors``."""
        fitting = [pk for pk in candidates if self.sectors.get(pk, set()) & set(sectors)]
        chosen = fitting or candidates
        return chosen[rng.randrange(len(chosen))]

    @classmethod
    def load(cls) -> Pool:
        rows = list(Organisation.objects.filter(code__startswith=ORGANISATION_CODE_PREFIX, is_synthetic=True)
                    .order_by("code").values_list("pk", "kind", "name"))
        by_kind: dict[str, list[int]] = {}
        for pk, kind, _name in rows:
            by_kind.setdefault(kind, []).append(pk)
        brokers = [pk for pk, categories in Person.objects.filter(code__startswith=PERSON_CODE_PREFIX)
                   .order_by("code").values_list("pk", "categories") if PersonCategory.BROKER in (categories or [])]
        sectors: dict[int, set[str]] = {}
        for pk, code in Organisation.sectors.through.objects.filter(
                organisation__code__startswith=ORGANISATION_CODE_PREFIX).values_list("organisation_id", "sector__code"):
            sectors.setdefault(pk, set()).add(code)
        return cls(research=[pk for kind in RESEARCH_OWNER_KINDS for pk in by_kind.get(kind, [])],
                   enterprises=by_kind.get(OrganisationKind.ENTERPRISE, []),
                   carriers={stage: by_kind.get(kind, []) for stage, kind in PIPELINE_KINDS},
                   brokers=brokers, names={pk: name for pk, _kind, name in rows}, sectors=sectors)

    @property
    def usable(self) -> bool:
        return bool(self.research) and len(self.enterprises) >= 2


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


def topic_of(seed: int, what: str, index: int) -> Topic:
    return TOPICS[_rng(seed, f"{what}-topic", index).randrange(len(TOPICS))]


def achievement_row(seed: int, index: int, pool: Pool, today: dt.date) -> tuple[dict[str, Any], tuple[str, ...]]:
    rng = _rng(seed, "achievement", index)
    topic = topic_of(seed, "achievement", index)
    owner = pool.pick(rng, pool.research, topic.sectors)
    owner_name = pool.names[owner]
    n = rng.randrange(len(topic.achievements))
    title = topic.achievements[n] + (rng.choice(ENTERPRISE_SUFFIX) if index > len(TOPICS) * 2 else "")
    abstract = _text([f"本成果由{owner_name}研发团队完成，面向{rng.choice(topic.uses)}领域。",
                      topic.methods[n % len(topic.methods)] + "。", topic.results[n % len(topic.results)] + "。",
                      f"可应用于{'、'.join(rng.sample(topic.uses, 2))}等场景，欢迎企业洽谈合作。",
                      "团队具备持续研发和技术支持能力。"])
    ip_type = _weighted(rng, IP_TYPES)
    year = rng.randint(2019, min(2025, today.year))
    ip_number, ip_status = "", ""
    if ip_type in (IpType.INVENTION_PATENT, IpType.UTILITY_MODEL):
        digit = 1 if ip_type == IpType.INVENTION_PATENT else 2
        ip_number = f"ZL{year}{digit}{rng.randint(0, 10**7 - 1):07d}.{rng.randint(0, 9)}"
        ip_status = _weighted(rng, ((IpStatus.GRANTED, 7), (IpStatus.APPLIED, 3)))
    elif ip_type == IpType.SOFTWARE:
        ip_number, ip_status = f"{year}SR{rng.randint(0, 10**7 - 1):07d}", IpStatus.GRANTED
    elif ip_type == IpType.IC_LAYOUT:
        ip_number, ip_status = f"BS.{year % 100}5{rng.randint(0, 10**6 - 1):06d}", IpStatus.GRANTED
    inventors = "、".join(_person_name(rng) for _ in range(rng.randint(2, 4)))
    modes = sorted(rng.sample(MODES, rng.randint(1, 3)))
    contact = _person_name(rng)
    fields = {
        "code": achievement_code(index), "owner_id": owner, "title": title[:200], "abstract": abstract,
        "keywords": ", ".join(rng.sample(topic.keywords, min(3, len(topic.keywords)))),
        "trl": _weighted(rng, ((3, 2), (4, 4), (5, 5), (6, 5), (7, 3), (8, 1))),
        "ip_type": ip_type, "ip_number": ip_number, "ip_status": ip_status,
        "ip_holders": owner_name if ip_type != IpType.NONE else "", "inventors": inventors, "modes": modes,
        "asking_terms": rng.choice(("面议", f"转让价格约{rng.randint(5, 60) * 10}万元", "许可费加销售提成",
                                    "作价入股，可协商")),
        "contact_name": contact, "contact_email": f"tt{index}@example.edu.cn", "contact_phone": "",
        "visibility": Visibility.REGISTERED if rng.random() < 0.2 else Visibility.PUBLIC,
        "status": ListingStatus.CLOSED if rng.random() < 0.05 else ListingStatus.ACTIVE,
    }
    return fields, topic.sectors


def demand_row(seed: int, index: int, pool: Pool, today: dt.date) -> tuple[dict[str, Any], tuple[str, ...]]:
    rng = _rng(seed, "demand", index)
    topic = topic_of(seed, "demand", index)
    organisation = pool.pick(rng, pool.enterprises, topic.sectors)
    n = rng.randrange(len(topic.needs))
    need = topic.needs[n]
    budget_min = Decimal(rng.choice((20, 50, 80, 100, 200, 300)))
    confidential = rng.random() < 0.3
    summary = _text([f"{pool.names[organisation]}寻求{need}方面的技术合作。", topic.pains[n % len(topic.pains)] + "。",
                     f"希望与高校、科研院所联合攻关，预算{budget_min}万元起，可采用"
                     f"{rng.choice(('技术开发', '技术许可', '技术转让', '合作开发'))}方式。",
                     "欢迎具备相关成果的团队联系。"], low=60, high=300)
    description = _text([summary, f"具体要求：{rng.choice(topic.results)}；",
                         f"需在{rng.choice(topic.uses)}场景完成验证，",
                         "并提供小试、中试数据及知识产权归属方案。" + ("内部工艺参数仅向匹配方披露。" if confidential else "")],
                        low=150, high=600)
    fields = {
        "code": demand_code(index), "organisation_id": organisation, "title": f"{need}需求"[:200],
        "public_summary": summary, "description": description, "confidential": confidential,
        "keywords": ", ".join(rng.sample(topic.keywords, min(3, len(topic.keywords)))),
        "budget_min": budget_min, "budget_max": budget_min * rng.choice((2, 3, 5)),
        "deadline": today + dt.timedelta(days=rng.randint(60, 540)),
        "modes": sorted(rng.sample(MODES, rng.randint(1, 2))), "min_trl": rng.choice((None, 4, 5, 6)),
        "status": ListingStatus.CLOSED if rng.random() < 0.05 else ListingStatus.ACTIVE,
    }
    return fields, topic.sectors


def large_contract_amount(seed: int, index: int) -> Decimal:
    """Contract ``index`` ≤ 20: its share of its year's total (the siblings' shares from the same draw)."""
    year = contract_year(index)
    siblings = [i for i in range(1, LARGE_CONTRACTS + 1) if contract_year(i) == year]
    rng = random.Random(f"{seed}-transfer-contract-year-{year}")
    weights = [rng.uniform(0.5, 2.0) for _ in siblings]
    total = Decimal(LARGE_CONTRACT_YEAR_TOTALS[year])
    parts = [(total * Decimal(w / sum(weights))).quantize(Decimal("0.01")) for w in weights]
    parts[-1] = total - sum(parts[:-1], Decimal(0))
    return parts[siblings.index(index)]


def contract_row(seed: int, index: int, pool: Pool, today: dt.date) -> dict[str, Any]:
    rng = _rng(seed, "contract", index)
    topic = topic_of(seed, "contract", index)
    year = contract_year(index)
    amount = (large_contract_amount(seed, index) if index <= LARGE_CONTRACTS
              else Decimal(rng.randint(2000, 80000)) / 100)
    contract_type = _weighted(rng, ((ContractType.DEVELOPMENT, 40), (ContractType.SERVICE, 25),
                                    (ContractType.TRANSFER, 15), (ContractType.LICENCE, 10),
                                    (ContractType.CONSULTING, 10)))
    registered = min(_day(rng, dt.date(year, 1, 15), dt.date(year, 12, 20)), today)
    seller = pool.pick(rng, pool.research, topic.sectors)
    buyer = pool.pick(rng, pool.enterprises, topic.sectors)
    return {
        "registration_number": contract_number(index), "contract_type": contract_type,
        "seller_id": seller, "buyer_id": buyer,
        "title": f"{rng.choice(topic.achievements)}{CONTRACT_TYPE_ZH[contract_type]}合同",
        "amount": amount, "technical_income": (amount * Decimal(rng.choice(("0.6", "0.75", "0.85", "1")))
                                               ).quantize(Decimal("0.01")),
        "signed_on": registered - dt.timedelta(days=rng.randint(10, 90)), "registered_on": registered,
    }


def deal_row(seed: int, index: int, pool: Pool, today: dt.date, scale: Scale) -> dict[str, Any]:
    """A deal between achievement and demand rows of the scale (the seller owns the achievement)."""
    rng = _rng(seed, "deal", index)
    state = DEAL_STATES[(index - 1) % len(DEAL_STATES)]
    achievement = rng.randint(1, scale.achievements)
    demand = rng.randint(1, scale.demands)
    return {"code": deal_code(index), "achievement": achievement, "demand": demand, "state": state,
            "broker_id": pool.brokers[rng.randrange(len(pool.brokers))] if pool.brokers and rng.random() < 0.5 else None,
            "contact_consent": state not in (DealState.INTEREST, DealState.DECLINED),
            "message": "我们对该成果很感兴趣，希望进一步了解技术细节和合作方式。",
            "notes": rng.randint(1, 3) if state in (DealState.NEGOTIATION, DealState.AGREED, DealState.REGISTERED,
                                                     DealState.CLOSED) else 0}


def startup_path(seed: int, index: int, pool: Pool, today: dt.date) -> list[tuple[str, int | None, dt.date]]:
    """The stages (stage, carrier id, entered on) of start-up ``index``, oldest first."""
    rng = _rng(seed, "startup", index)
    stages = [(stage, pool.carriers[stage]) for stage, _kind in PIPELINE_KINDS if pool.carriers[stage]]
    if not stages:
        return []
    start = min(_weighted(rng, ((0, 5), (1, 3), (2, 2), (3, 1))), len(stages) - 1)
    length = min(_weighted(rng, ((1, 3), (2, 3), (3, 2), (4, 1))), len(stages) - start)
    day = _day(rng, dt.date(2019, 1, 1), today - dt.timedelta(days=400 * length + 30))
    path: list[tuple[str, int | None, dt.date]] = []
    for stage, carriers in stages[start : start + length]:
        path.append((stage, carriers[rng.randrange(len(carriers))], day))
        day = min(day + dt.timedelta(days=rng.randint(180, 400)), today)
    ending = rng.random()
    if ending < 0.15:
        path.append((IncubationStage.GRADUATED, None, day))
    elif ending < 0.22:
        path.append((IncubationStage.CLOSED, None, day))
    return path


# --------------------------------------------------------------------------------------------
# The written contract (a one-page PDF with the standard CJK font STSong-Light, not embedded)
# --------------------------------------------------------------------------------------------


def contract_pdf(lines: Sequence[str]) -> bytes:
    """A small valid PDF showing ``lines`` (Chinese via the Adobe-GB1 font STSong-Light)."""
    text = ["BT", "/F1 12 Tf", "16 TL", "56 780 Td"]
    for line in lines:
        text.append(f"<{line.encode('utf-16-be').hex().upper()}> Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [5 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _contract_file(fields: dict[str, Any], names: dict[int, str]) -> str:
    lines = ["技术合同（合成演示数据 synthetic demo）", "",
             f"登记号：{fields['registration_number']}", f"合同名称：{fields['title']}",
             f"合同类型：{CONTRACT_TYPE_ZH[fields['contract_type']]}",
             f"卖方（技术方）：{names.get(fields['seller_id'], '')}", f"买方（委托方）：{names.get(fields['buyer_id'], '')}",
             f"合同金额：{fields['amount']} 万元", f"技术交易额：{fields['technical_income']} 万元",
             f"签订日期：{fields['signed_on'].isoformat()}", f"登记日期：{fields['registered_on'].isoformat()}",
             "", "本文件由演示数据生成器自动生成，不具有法律效力。"]
    name = f"transfer/contracts/{fields['registered_on'].year}/{fields['registration_number']}.pdf"
    return default_storage.save(name, ContentFile(contract_pdf(lines)))


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

COUNTED_MODELS = ("transfer.achievement", "transfer.techdemand", "transfer.deal", "transfer.dealnote",
                  "transfer.techcontract", "transfer.startup", "transfer.startupstage")


@dataclass
class DemoResult:
    scale: str
    seed: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_MODELS, 0))
    skipped: str = ""

    @property
    def created(self) -> int:
        return sum(self.counts.values())


def _batches(total: int, size: int) -> Iterator[range]:
    for start in range(1, total + 1, size):
        yield range(start, min(start + size, total + 1))


def _missing(model, field_name: str, codes: dict[int, str]) -> list[int]:
    have = set(model.objects.filter(**{f"{field_name}__in": list(codes.values())}).values_list(field_name, flat=True))
    return [i for i, code in codes.items() if code not in have]


def _write_listings(model, rows: list[tuple[dict[str, Any], tuple[str, ...]]], sector_ids: dict[str, int]) -> int:
    objects = model.objects.bulk_create([model(**fields, is_synthetic=True) for fields, _s in rows])
    ids = dict(model.objects.filter(code__in=[f["code"] for f, _s in rows]).values_list("code", "pk"))
    through = model.sectors.through
    owner = f"{model._meta.model_name}_id"
    through.objects.bulk_create([through(**{owner: ids[f["code"]], "sector_id": sector_ids[s]})
                                 for f, sectors in rows for s in sectors if s in sector_ids])
    return len(objects)


def demo_generate(*, scale: str, seed: int = DEFAULT_SEED, today: dt.date | None = None,
                  batch_size: int = BATCH_SIZE, progress: Callable[[int], None] | None = None) -> DemoResult:
    """Create the missing synthetic marketplace rows of ``scale``; one audit event if any were created."""
    plan = SCALES[scale]
    today = demo_as_of(today)
    result = DemoResult(scale=scale, seed=seed)
    pool = Pool.load()
    if not pool.usable:
        result.skipped = "no registry demo data: run `sciencecity demo` first"
        return result
    sector_ids = dict(Sector.objects.values_list("code", "pk"))
    counts = result.counts
    with transaction.atomic():
        for model, key, code, make, total in (
            (Achievement, "transfer.achievement", achievement_code, achievement_row, plan.achievements),
            (TechDemand, "transfer.techdemand", demand_code, demand_row, plan.demands),
        ):
            for batch in _batches(total, batch_size):
                missing = _missing(model, "code", {i: code(i) for i in batch})
                if missing:
                    counts[key] += _write_listings(model, [make(seed, i, pool, today) for i in missing], sector_ids)
                if progress:
                    progress(len(batch))
        deals = _write_deals(seed, plan, pool, today, counts)
        if progress:
            progress(plan.deals)
        for batch in _batches(plan.contracts, batch_size):
            missing = _missing(TechContract, "registration_number", {i: contract_number(i) for i in batch})
            _write_contracts(seed, missing, pool, today, deals, counts)
            if progress:
                progress(len(batch))
        _write_startups(seed, plan, pool, today, counts)
        if progress:
            progress(plan.startups)
        if result.created:
            audit_record(action=AuditAction.GENERATE, object_type=AUDIT_OBJECT_TYPE, object_id=f"{scale}-{seed}",
                         object_repr=f"marketplace demo {scale} seed {seed}",
                         changes={"scale": scale, "seed": seed, "created": dict(counts)},
                         reason=f"synthetic marketplace demo data, scale {scale} seed {seed}")
            transaction.on_commit(_forget_turnover)
    _forget_turnover()
    return result


def _forget_turnover() -> None:
    from sciencecity.plans import sources

    for year in CONTRACT_YEARS:
        sources.cache_forget(TURNOVER_SOURCE, year)


def _write_deals(seed: int, plan: Scale, pool: Pool, today: dt.date, counts: dict[str, int]) -> list[Deal]:
    """Create the missing deals; returns the registered deals (in code order) for the contracts."""
    rows = {i: deal_row(seed, i, pool, today, plan) for i in range(1, plan.deals + 1)}
    missing = _missing(Deal, "code", {i: r["code"] for i, r in rows.items()})
    if missing:
        listing_codes = {achievement_code(r["achievement"]) for r in rows.values()}
        achievements = {a.code: a for a in Achievement.objects.filter(code__in=listing_codes)}
        demands = {d.code: d for d in TechDemand.objects.filter(code__in={demand_code(r["demand"])
                                                                         for r in rows.values()})}
        created = []
        for i in missing:
            row = rows[i]
            achievement = achievements[achievement_code(row["achievement"])]
            demand = demands[demand_code(row["demand"])]
            if demand.organisation_id == achievement.owner_id:
                demand = None
            buyer = demand.organisation_id if demand else pool.enterprises[i % len(pool.enterprises)]
            created.append(Deal(code=row["code"], achievement=achievement, demand=demand, seller_id=achievement.owner_id,
                                buyer_id=buyer, broker_id=row["broker_id"], state=row["state"],
                                message=row["message"], contact_consent=row["contact_consent"]))
        Deal.objects.bulk_create(created)
        counts["transfer.deal"] += len(created)
        notes = []
        ids = dict(Deal.objects.filter(code__in=[rows[i]["code"] for i in missing]).values_list("code", "pk"))
        texts = ("双方就技术指标和验收标准进行了第一轮沟通。", "卖方提供了中试数据，买方提出了价格与付款节点方案。",
                 "双方确认合作方式，法务正在审核合同文本。")
        for i in missing:
            notes += [DealNote(deal_id=ids[rows[i]["code"]], text=texts[n]) for n in range(rows[i]["notes"])]
        DealNote.objects.bulk_create(notes)
        counts["transfer.dealnote"] += len(notes)
    return list(Deal.objects.filter(code__in=[r["code"] for r in rows.values()], state=DealState.REGISTERED)
                .order_by("code"))


def _write_contracts(seed: int, missing: list[int], pool: Pool, today: dt.date, deals: list[Deal],
                     counts: dict[str, int]) -> None:
    """Contract i ≤ number of registered deals belongs to the i-th registered deal (its parties)."""
    taken = set(TechContract.objects.filter(deal__in=deals).values_list("deal_id", flat=True))
    objects = []
    for i in missing:
        fields = contract_row(seed, i, pool, today)
        if i <= len(deals) and deals[i - 1].pk not in taken:
            deal = deals[i - 1]
            fields.update(deal=deal, seller_id=deal.seller_id, buyer_id=deal.buyer_id)
            if deal.achievement_id:
                fields["title"] = f"{deal.achievement.title[:180]}技术合同"
        fields["contract_file"] = _contract_file(fields, pool.names)
        objects.append(TechContract(**fields, is_synthetic=True))
    TechContract.objects.bulk_create(objects)
    counts["transfer.techcontract"] += len(objects)


def _write_startups(seed: int, plan: Scale, pool: Pool, today: dt.date, counts: dict[str, int]) -> None:
    """Start-ups are demo enterprises taken from the end of the list (a shuffled, seeded order)."""
    order = list(pool.enterprises)
    random.Random(f"{seed}-transfer-startups").shuffle(order)
    chosen = order[: plan.startups]
    have = set(Startup.objects.filter(organisation_id__in=chosen).values_list("organisation_id", flat=True))
    achievements = list(Achievement.objects.filter(code__startswith=ACHIEVEMENT_PREFIX).order_by("code")
                        .values_list("pk", flat=True)[:200])
    startups, paths = [], []
    for index, organisation in enumerate(chosen, start=1):
        if organisation in have:
            continue
        path = startup_path(seed, index, pool, today)
        if not path:
            continue
        stage, carrier, _day_ = path[-1]
        rng = _rng(seed, "startup-achievement", index)
        achievement = achievements[rng.randrange(len(achievements))] if achievements and rng.random() < 0.6 else None
        startups.append(Startup(organisation_id=organisation, achievement_id=achievement, stage=stage,
                                carrier_id=carrier, is_synthetic=True))
        paths.append(path)
    Startup.objects.bulk_create(startups)
    ids = dict(Startup.objects.filter(organisation_id__in=[s.organisation_id for s in startups])
               .values_list("organisation_id", "pk"))
    stages = []
    for startup, path in zip(startups, paths, strict=True):
        for n, (stage, carrier, entered) in enumerate(path):
            final = stage in (IncubationStage.GRADUATED, IncubationStage.CLOSED)
            left = path[n + 1][2] if n + 1 < len(path) else (entered if final else None)
            stages.append(StartupStage(startup_id=ids[startup.organisation_id], stage=stage, carrier_id=carrier,
                                       entered_on=entered, left_on=left))
    StartupStage.objects.bulk_create(stages)
    counts["transfer.startup"] += len(startups)
    counts["transfer.startupstage"] += len(stages)
