"""Deterministic synthetic demo data for the registry (``sciencecity demo``).

Row *i* of a scale is a pure function of ``(seed, i)`` (and, for certificate and affiliation
dates, of the reference day), so

* re-running the same scale and seed creates nothing (only missing codes are created);
* the ``small`` set is a prefix of the ``city`` set, which is a prefix of ``national``: running a
  bigger scale after a smaller one adds the difference.

Every row is flagged ``is_synthetic`` and carries a ``DEMO-ORG-…`` / ``DEMO-PER-…`` code. Rows are
written with ``bulk_create`` in batches inside one transaction, and the run writes ONE audit event
(``generate``, object type ``registry.demo``) with the counts, instead of one per row.

The shape of the data follows the plan of Guangming Science City (光明科学城): mostly enterprises
in the 3+1 industries, universities, institutes, new-type R&D institutions, laboratories, major
facilities and platforms, incubators and other carriers, funds, banks, service agencies and the
district's government departments.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.engines.names import normalise_name
from sciencecity.registry.choices import (
    LEGAL_ENTITY_KINDS,
    CertificationKind,
    Level,
    OrganisationKind,
    PersonCategory,
    RelationKind,
)
from sciencecity.registry.models import (
    Affiliation,
    Certification,
    Organisation,
    OrganisationAlias,
    Person,
    Relation,
    Sector,
    StatusChange,
)
from sciencecity.registry.services import organisation_search_text, person_search_text
from sciencecity.registry.validators import CREDIT_CODE_CHARSET, credit_code_check_character

DEFAULT_SEED = 2021
BATCH_SIZE = 5000
ORGANISATION_CODE_PREFIX = "DEMO-ORG-"
PERSON_CODE_PREFIX = "DEMO-PER-"
AUDIT_OBJECT_TYPE = "registry.demo"


@dataclass(frozen=True)
class Scale:
    """How many organisations and people a scale has."""

    name: str
    organisations: int
    people: int


#: Ordered from small to large: each scale is a prefix of the next.
SCALES: dict[str, Scale] = {
    "small": Scale("small", 300, 150),
    "city": Scale("city", 20_000, 8_000),
    "national": Scale("national", 400_000, 100_000),
}


def organisation_code(index: int) -> str:
    return f"{ORGANISATION_CODE_PREFIX}{index:07d}"


def person_code(index: int) -> str:
    return f"{PERSON_CODE_PREFIX}{index:07d}"


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A technical field: names, sectors, company-name industry words and expertise keywords."""

    zh: str
    en: str
    sectors: tuple[str, ...]
    high_tech: str  # HT-* code of 《国家重点支持的高新技术领域》
    industries: tuple[tuple[str, str], ...]
    keywords: tuple[str, ...]
    weight: int  # share among enterprises


FIELDS: tuple[Field, ...] = (
    Field("人工智能", "Artificial Intelligence", ("IND-AI", "RF-INFO"), "HT-1",
          (("智能科技", "Intelligent Technology"), ("人工智能", "Artificial Intelligence"),
           ("机器人", "Robotics"), ("机器视觉", "Machine Vision")),
          ("人工智能", "machine learning", "深度学习", "computer vision", "自然语言处理", "大模型",
           "智能机器人", "reinforcement learning"), 9),
    Field("新型显示", "New-type Display", ("IND-DISPLAY",), "HT-1",
          (("光电", "Optoelectronics"), ("显示技术", "Display Technology"), ("光学", "Optics")),
          ("新型显示", "OLED", "Micro LED", "柔性显示", "量子点", "display driver IC", "光学膜"), 10),
    Field("新一代信息技术", "Information Technology", ("IND-ICT", "RF-INFO"), "HT-1",
          (("电子", "Electronics"), ("信息技术", "Information Technology"), ("通信", "Communications"),
           ("软件", "Software"), ("物联网", "IoT"), ("半导体", "Semiconductor")),
          ("5G通信", "物联网", "embedded systems", "集成电路设计", "EDA", "边缘计算", "cloud computing",
           "网络安全", "FPGA"), 14),
    Field("智能传感", "Intelligent Sensing", ("IND-ICT", "IND-SMART"), "HT-1",
          (("传感技术", "Sensing Technology"), ("智能传感", "Smart Sensors"), ("测控", "Measurement and Control")),
          ("智能传感器", "MEMS", "传感器融合", "signal processing", "柔性传感", "激光雷达"), 5),
    Field("生物医药", "Biomedicine", ("IND-BIOMED", "RF-LIFE"), "HT-2",
          (("生物科技", "Biotechnology"), ("医药科技", "Pharmaceutical Technology"), ("生物医药", "Biomedicine"),
           ("制药", "Pharmaceutical")),
          ("创新药", "drug discovery", "抗体药物", "细胞治疗", "mRNA", "药物筛选", "clinical trials", "CRO"), 7),
    Field("合成生物", "Synthetic Biology", ("RF-SYNBIO", "IND-BIOMED"), "HT-2",
          (("合成生物", "Synthetic Biotech"), ("生物技术", "Biotechnology"), ("基因科技", "Gene Technology")),
          ("合成生物学", "synthetic biology", "基因线路", "metabolic engineering", "底盘细胞", "DNA合成",
           "生物制造", "蛋白质设计"), 4),
    Field("脑科学", "Brain Science", ("RF-BRAIN", "RF-LIFE"), "HT-2",
          (("脑科技", "Brain Technology"), ("神经科技", "Neurotechnology")),
          ("脑科学", "neuroscience", "脑机接口", "brain-computer interface", "类脑智能", "神经影像", "脑图谱"), 1),
    Field("精准医疗", "Precision Medicine", ("RF-PRECISION-MED", "IND-MEDDEV"), "HT-2",
          (("精准医疗", "Precision Medicine"), ("基因检测", "Genetic Testing"), ("医学检验", "Medical Laboratory")),
          ("精准医疗", "precision medicine", "基因测序", "liquid biopsy", "伴随诊断", "生物信息学",
           "bioinformatics"), 3),
    Field("高端医疗器械", "Medical Devices", ("IND-MEDDEV",), "HT-2",
          (("医疗器械", "Medical Devices"), ("医疗科技", "Medical Technology"), ("医学影像", "Medical Imaging")),
          ("医疗器械", "medical imaging", "体外诊断", "IVD", "手术机器人", "可穿戴医疗", "超声成像",
           "医用机器人"), 7),
    Field("石墨烯", "Graphene", ("IND-GRAPHENE", "RF-MATERIAL"), "HT-4",
          (("石墨烯科技", "Graphene Technology"), ("碳材料", "Carbon Materials")),
          ("石墨烯", "graphene", "二维材料", "碳纳米管", "导热材料", "thin films"), 2),
    Field("锂电池材料", "Battery Materials", ("IND-BATTERY", "RF-MATERIAL"), "HT-6",
          (("新能源", "New Energy"), ("电池材料", "Battery Materials"), ("锂电科技", "Lithium Battery Technology")),
          ("锂离子电池", "lithium-ion battery", "正极材料", "负极材料", "固态电池", "solid-state electrolyte",
           "储能"), 6),
    Field("新材料", "New Materials", ("IND-MATERIAL", "RF-MATERIAL"), "HT-4",
          (("新材料", "New Materials"), ("高分子材料", "Polymer Materials"), ("材料科技", "Materials Technology"),
           ("精细化工", "Fine Chemicals")),
          ("新材料", "polymer", "先进陶瓷", "复合材料", "功能涂层", "纳米材料", "materials characterisation"), 7),
    Field("材料基因组", "Materials Genome", ("RF-MATGENOME", "RF-MATERIAL"), "HT-4",
          (("材料信息", "Materials Informatics"),),
          ("材料基因组", "materials genome", "高通量计算", "high-throughput experiments", "材料数据库",
           "machine learning for materials"), 1),
    Field("精密测量", "Precision Measurement", ("RF-METROLOGY", "IND-MANUFACTURING"), "HT-8",
          (("精密仪器", "Precision Instruments"), ("计量检测", "Metrology and Testing")),
          ("精密测量", "metrology", "量子计量", "光学测量", "precision instruments", "校准"), 2),
    Field("先进制造", "Advanced Manufacturing", ("IND-MANUFACTURING",), "HT-8",
          (("智能装备", "Intelligent Equipment"), ("精密制造", "Precision Manufacturing"),
           ("自动化设备", "Automation Equipment"), ("激光技术", "Laser Technology"), ("模具", "Moulds")),
          ("智能制造", "industrial robots", "数控机床", "激光加工", "工业互联网", "additive manufacturing",
           "3D打印", "机器视觉检测"), 14),
    Field("节能环保", "Energy Saving and Environment", ("IND-MANUFACTURING",), "HT-7",
          (("环保科技", "Environmental Technology"), ("节能科技", "Energy Saving Technology")),
          ("节能环保", "water treatment", "固废处理", "碳中和", "carbon capture", "环境监测"), 3),
    Field("科技服务", "Technology Services", ("IND-SERVICE",), "HT-5",
          (("信息咨询", "Information Consulting"), ("检测技术", "Testing Technology"), ("科技服务", "Technology Services")),
          ("技术转移", "technology transfer", "知识产权", "检验检测", "科技咨询", "IP licensing"), 5),
    Field("科技金融", "Technology Finance", ("IND-SERVICE",), "HT-5",
          (("投资管理", "Investment Management"),),
          ("科技金融", "venture capital", "股权投资", "知识产权质押融资", "科技信贷", "private equity"), 0),
)
SERVICE_FIELD_INDEX = len(FIELDS) - 2
FINANCE_FIELD_INDEX = len(FIELDS) - 1
FIELD_WEIGHTS = [f.weight for f in FIELDS]
RESEARCH_FIELD_INDICES = tuple(range(SERVICE_FIELD_INDEX))

#: 字号 characters with their pinyin (for the English name).
NAME_CHARACTERS: tuple[tuple[str, str], ...] = tuple(
    (c, p) for c, p in (pair.split(":") for pair in (
        "华:hua 科:ke 创:chuang 新:xin 瑞:rui 达:da 宏:hong 泰:tai 联:lian 信:xin 恒:heng 盛:sheng 光:guang "
        "明:ming 智:zhi 远:yuan 博:bo 睿:rui 安:an 德:de 鑫:xin 源:yuan 中:zhong 天:tian 海:hai 润:run 景:jing "
        "美:mei 诺:nuo 康:kang 晶:jing 微:wei 芯:xin 数:shu 云:yun 凯:kai 隆:long 嘉:jia 锦:jin 越:yue 卓:zhuo "
        "奥:ao 星:xing 辰:chen 拓:tuo 汇:hui 维:wei 思:si 力:li 众:zhong 通:tong 宇:yu 航:hang 亿:yi 祥:xiang "
        "和:he 丰:feng 正:zheng 坤:kun 骏:jun 鹏:peng 腾:teng 飞:fei 诚:cheng 优:you 佳:jia 本:ben 立:li "
        "方:fang 峰:feng 逸:yi 铭:ming 迈:mai 驰:chi 昊:hao 晟:sheng 烁:shuo 曜:yao 楷:kai 澜:lan 霖:lin "
        "启:qi 元:yuan 易:yi 捷:jie 赛:sai 普:pu 贝:bei 特:te 朗:lang 格:ge 欣:xin 旺:wang"
    ).split())
)

SURNAMES: tuple[tuple[str, str], ...] = tuple(
    (c, p) for c, p in (pair.split(":") for pair in (
        "王:Wang 李:Li 张:Zhang 刘:Liu 陈:Chen 杨:Yang 黄:Huang 赵:Zhao 吴:Wu 周:Zhou 徐:Xu 孙:Sun 马:Ma "
        "朱:Zhu 胡:Hu 郭:Guo 何:He 高:Gao 林:Lin 罗:Luo 郑:Zheng 梁:Liang 谢:Xie 宋:Song 唐:Tang 许:Xu "
        "韩:Han 冯:Feng 邓:Deng 曹:Cao 彭:Peng 曾:Zeng 肖:Xiao 田:Tian 董:Dong 袁:Yuan 潘:Pan 于:Yu 蒋:Jiang "
        "蔡:Cai 余:Yu 杜:Du 叶:Ye 程:Cheng 苏:Su 魏:Wei 吕:Lyu 丁:Ding 任:Ren 沈:Shen 姚:Yao 卢:Lu 姜:Jiang "
        "崔:Cui 钟:Zhong 谭:Tan 陆:Lu 汪:Wang 范:Fan 金:Jin 石:Shi 廖:Liao 贾:Jia 夏:Xia 韦:Wei 方:Fang "
        "白:Bai 邹:Zou 孟:Meng 熊:Xiong 秦:Qin 邱:Qiu 江:Jiang 尹:Yin 薛:Xue 欧阳:Ouyang 司徒:Situ"
    ).split())
)
SURNAME_WEIGHTS = [1 / (rank + 4) for rank in range(len(SURNAMES))]

GIVEN_NAME_CHARACTERS: tuple[tuple[str, str], ...] = tuple(
    (c, p) for c, p in (pair.split(":") for pair in (
        "伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 艳:yan 杰:jie "
        "娟:juan 涛:tao 明:ming 超:chao 秀:xiu 霞:xia 平:ping 刚:gang 英:ying 华:hua 玉:yu 萍:ping 红:hong "
        "鹏:peng 辉:hui 建:jian 国:guo 文:wen 斌:bin 宇:yu 浩:hao 凯:kai 博:bo 思:si 雨:yu 欣:xin 子:zi "
        "涵:han 晨:chen 轩:xuan 睿:rui 嘉:jia 怡:yi 琳:lin 婷:ting 雪:xue 晓:xiao 志:zhi 海:hai 波:bo "
        "俊:jun 峰:feng 帆:fan 然:ran 东:dong 春:chun 亮:liang 宁:ning 毅:yi 鑫:xin 琪:qi 瑶:yao 婧:jing "
        "蕾:lei 颖:ying 慧:hui 佳:jia 振:zhen 昊:hao 天:tian 阳:yang 龙:long"
    ).split())
)

GUANGMING_STREETS = ("光明街道", "公明街道", "新湖街道", "凤凰街道", "玉塘街道", "马田街道")
GUANGMING_ROADS = ("光明大道", "华夏路", "光侨路", "观光路", "东明大道", "松白路", "公常路", "科裕路",
                   "科林路", "科润路", "长凤路", "华裕路", "光辉大道", "创投路", "河心路", "将石路")
OTHER_DISTRICTS = (("南山区", "440305"), ("宝安区", "440306"), ("龙华区", "440309"), ("福田区", "440304"),
                   ("龙岗区", "440307"))
OTHER_ROADS = ("科技园路", "深南大道", "宝安大道", "民治大道", "龙岗大道", "高新南路", "创业路")
BUILDINGS = ("科技园{}栋", "高新产业园{}号楼", "智慧广场{}座", "创新大厦{}层", "工业园{}号厂房")
GUANGMING = ("光明区", "440311")

ENTERPRISE_SUFFIXES = (("有限公司", "Co., Ltd."), ("股份有限公司", "Corp., Ltd."))
SERVICES = (("知识产权代理", "Intellectual Property Agency"), ("检验检测", "Testing and Inspection"),
            ("科技咨询", "Technology Consulting"), ("技术转移服务", "Technology Transfer Services"),
            ("管理咨询", "Management Consulting"), ("财税服务", "Tax and Accounting Services"),
            ("人力资源服务", "Human Resources Services"), ("认证服务", "Certification Services"))
BANKS = (("中国工商银行", "Industrial and Commercial Bank of China"), ("中国建设银行", "China Construction Bank"),
         ("中国银行", "Bank of China"), ("中国农业银行", "Agricultural Bank of China"),
         ("招商银行", "China Merchants Bank"), ("平安银行", "Ping An Bank"), ("交通银行", "Bank of Communications"),
         ("兴业银行", "Industrial Bank"), ("中信银行", "China CITIC Bank"), ("宁波银行", "Bank of Ningbo"),
         ("深圳农村商业银行", "Shenzhen Rural Commercial Bank"))
STREET_PINYIN = {"光明街道": "Guangming", "公明街道": "Gongming", "新湖街道": "Xinhu", "凤凰街道": "Fenghuang",
                 "玉塘街道": "Yutang", "马田街道": "Matian"}
QUALIFIERS = (("", ""), ("先进", "Advanced "), ("智能", "Intelligent "), ("前沿", "Frontier "),
              ("新型", "Novel "), ("高性能", "High-performance "), ("绿色", "Green "), ("精准", "Precision "))
LEVEL_PREFIX = {Level.NATIONAL: ("国家", "National "), Level.PROVINCIAL: ("广东省", "Guangdong "),
                Level.MUNICIPAL: ("深圳市", "Shenzhen "), Level.DISTRICT: ("光明区", "Guangming ")}

#: The first rows of every scale: the district's departments, anchor universities and
#: institutes, the plan's major facilities and the alliances that enterprises join.
#: (kind, level, status, name, English name, field index or None, founded year)
ANCHORS: tuple[tuple[str, str, str, str, str, int | None, int], ...] = (
    ("government_department", "district", "operating", "深圳市光明区科技创新局",
     "Science, Technology and Innovation Bureau of Guangming District", None, 2018),
    ("government_department", "district", "operating", "深圳市光明区发展和改革局",
     "Development and Reform Bureau of Guangming District", None, 2018),
    ("government_department", "district", "operating", "深圳市光明区工业和信息化局",
     "Industry and Information Technology Bureau of Guangming District", None, 2018),
    ("government_department", "district", "operating", "深圳市市场监督管理局光明监管局",
     "Guangming Branch of the Shenzhen Administration for Market Regulation", None, 2019),
    ("government_department", "district", "operating", "深圳市光明区财政局",
     "Finance Bureau of Guangming District", None, 2018),
    ("government_department", "district", "operating", "深圳市光明区人力资源局",
     "Human Resources Bureau of Guangming District", None, 2019),
    ("government_department", "district", "operating", "深圳市光明区教育局",
     "Education Bureau of Guangming District", None, 2018),
    ("government_department", "district", "operating", "深圳市光明区卫生健康局",
     "Health Bureau of Guangming District", None, 2018),
    ("university", "none", "operating", "光明科学城理工大学", "Guangming Science City University of Technology",
     0, 2016),
    ("university", "none", "operating", "湾区医学科学大学（光明校区）",
     "Bay Area University of Medical Sciences (Guangming Campus)", 4, 2019),
    ("university", "none", "under_construction", "深圳光明材料科学大学", "Shenzhen Guangming University of Materials Science",
     11, 2023),
    ("research_institute", "none", "operating", "光明科学城先进技术研究院",
     "Guangming Science City Institute of Advanced Technology", 3, 2017),
    ("research_institute", "none", "operating", "光明科学城计量科学研究院",
     "Guangming Science City Institute of Metrology", 13, 2020),
    ("major_facility", "national", "under_construction", "合成生物研究重大科技基础设施",
     "Synthetic Biology Research Facility", 5, 2020),
    ("major_facility", "national", "under_construction", "脑解析与脑模拟重大科技基础设施",
     "Brain Analysis and Simulation Facility", 6, 2020),
    ("major_facility", "national", "planned", "材料基因组大科学装置平台", "Materials Genome Big Science Facility",
     12, 2024),
    ("major_facility", "national", "planned", "精密测量重大科技基础设施", "Precision Measurement Facility", 13, 2024),
    ("alliance", "district", "operating", "光明科学城合成生物创新联合体", "Guangming Synthetic Biology Innovation Consortium",
     5, 2021),
    ("alliance", "district", "operating", "光明区新材料产业联盟", "Guangming New Materials Industry Alliance", 11, 2019),
    ("alliance", "district", "operating", "光明区智能传感器产业联盟", "Guangming Smart Sensor Industry Alliance", 3, 2020),
    ("alliance", "municipal", "operating", "深圳市高端医疗器械创新联合体", "Shenzhen Medical Device Innovation Consortium",
     8, 2021),
    ("alliance", "district", "operating", "光明区新型显示产业联盟", "Guangming New-type Display Industry Alliance", 1, 2019),
)

#: Organisation kinds of the generated (non-anchor) rows, with their share in per mille.
KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    (OrganisationKind.ENTERPRISE, 800),
    (OrganisationKind.SERVICE_AGENCY, 40),
    (OrganisationKind.INVESTMENT_FUND, 25),
    (OrganisationKind.LABORATORY, 25),
    (OrganisationKind.NEW_RD_INSTITUTION, 15),
    (OrganisationKind.INNOVATION_CARRIER, 15),
    (OrganisationKind.INCUBATOR, 15),
    (OrganisationKind.MAKER_SPACE, 15),
    (OrganisationKind.BANK, 10),
    (OrganisationKind.RESEARCH_INSTITUTE, 10),
    (OrganisationKind.RESEARCH_PLATFORM, 10),
    (OrganisationKind.ACCELERATOR, 5),
    (OrganisationKind.SCIENCE_PARK, 5),
    (OrganisationKind.CONCEPT_VERIFICATION_CENTRE, 4),
    (OrganisationKind.ALLIANCE, 3),
    (OrganisationKind.UNIVERSITY, 2),
    (OrganisationKind.MAJOR_FACILITY, 1),
)
KINDS = [str(k) for k, _w in KIND_WEIGHTS]
KIND_CUMULATIVE = [sum(w for _k, w in KIND_WEIGHTS[: n + 1]) for n in range(len(KIND_WEIGHTS))]

#: Kinds that have a carrier level (national / provincial / municipal / district).
LEVELLED_KINDS = frozenset({
    "laboratory", "new_rd_institution", "innovation_carrier", "incubator", "maker_space", "accelerator",
    "science_park", "concept_verification_centre", "research_platform", "major_facility",
})
RESEARCH_KINDS = frozenset({"university", "research_institute", "new_rd_institution", "laboratory",
                            "major_facility", "research_platform"})
HOST_KINDS = frozenset({"university", "research_institute"})
HOSTED_KINDS = frozenset({"laboratory", "research_platform", "new_rd_institution", "major_facility"})
ALLIANCE_KINDS = frozenset({"alliance"})
GOVERNMENT_KINDS = frozenset({"government_department"})
ENTERPRISE_KINDS = frozenset({"enterprise"})
PAST_EMPLOYER_KINDS = RESEARCH_KINDS | ENTERPRISE_KINDS
SERVICE_KINDS = frozenset({"service_agency", "incubator", "maker_space", "accelerator",
                           "concept_verification_centre", "investment_fund", "science_park"})

#: Share (per mille) of enterprises with a valid 高新技术企业 certificate: ≈ 1,500 of ≈ 16,000 at city scale.
HNTE_PER_MILLE = 94
TECH_SME_PER_MILLE = 120
HNTE_ISSUER = "深圳市科技创新局、深圳市财政局、国家税务总局深圳市税务局"
TECH_SME_ISSUER = "深圳市科技创新局"

CATEGORY_TITLES = {
    "researcher": (("研究员", 2), ("副研究员", 3), ("助理研究员", 3), ("教授", 2), ("副教授", 3),
                   ("高级工程师", 3), ("博士后", 2)),
    "expert": (("教授", 4), ("研究员", 4), ("正高级工程师", 2), ("主任医师", 1)),
    "officer": (("一级主任科员", 2), ("四级主任科员", 3), ("科员", 2), ("副局长", 1)),
    "entrepreneur": (("高级工程师", 2), ("工程师", 2), ("", 3)),
    "broker": (("高级技术经纪人", 1), ("技术经纪人", 3)),
}
CATEGORY_POSITIONS = {
    "researcher": ("课题组长", "研究员", "博士后", "工程师", "实验室主任"),
    "expert": ("首席科学家", "学术委员会委员", "实验室主任", "教授"),
    "officer": ("科员", "科长", "副科长", "局长助理"),
    "entrepreneur": ("董事长", "总经理", "首席技术官", "创始人"),
    "broker": ("技术经纪人", "项目经理", "技术转移专员"),
}
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


# --------------------------------------------------------------------------------------------
# Pure row generation
# --------------------------------------------------------------------------------------------


@dataclass
class OrganisationRow:
    """One generated organisation with the rows that hang off it."""

    index: int
    fields: dict[str, Any]
    sectors: tuple[str, ...]
    field_index: int | None = None
    aliases: tuple[str, ...] = ()
    certifications: list[dict[str, Any]] = field(default_factory=list)
    status_date: dt.date | None = None
    #: (kind, other index, this row is the source?)
    relation: tuple[str, int, bool] | None = None


@dataclass
class PersonRow:
    index: int
    fields: dict[str, Any]
    sectors: tuple[str, ...]
    affiliations: list[dict[str, Any]] = field(default_factory=list)  # organisation given as index


def _rng(seed: int, what: str, index: int) -> random.Random:
    return random.Random(f"{seed}-{what}-{index}")


def organisation_kind(seed: int, index: int) -> str:
    """The kind of organisation row ``index`` (the first draw of the row, so cheap to recompute)."""
    if index <= len(ANCHORS):
        return ANCHORS[index - 1][0]
    draw = _rng(seed, "org", index).randrange(KIND_CUMULATIVE[-1])
    return KINDS[bisect.bisect_right(KIND_CUMULATIVE, draw)]


def _pick_weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _w in options], weights=[w for _o, w in options])[0]


def _shop_name(rng: random.Random) -> tuple[str, str]:
    """A two-character 字号 and its pinyin, e.g. ("华瑞", "Huarui")."""
    (a, pa), (b, pb) = rng.sample(NAME_CHARACTERS, 2)
    return a + b, (pa + pb).capitalize()


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(max((end - start).days, 1)))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _gb11714_check(body: str) -> str:
    """Check character of the 9-character organisation code (GB 11714-1997)."""
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


CREDIT_CATEGORY = {"government_department": "11", "university": "12", "research_institute": "12",
                   "new_rd_institution": "12"}
_CODE_SPACE = 31**6


def credit_code_for(seed: int, index: int, kind: str, region: str) -> str:
    """A valid, unique (per seed) unified social credit code for organisation row ``index``."""
    number = (index * 387_420_489 + seed * 7_919) % _CODE_SPACE  # a bijection of the index
    digits = []
    for _ in range(6):
        number, rest = divmod(number, 31)
        digits.append(CREDIT_CODE_CHARSET[rest])
    body = "MA" + "".join(reversed(digits))
    first17 = CREDIT_CATEGORY.get(kind, "91") + region + body + _gb11714_check(body)
    return first17 + credit_code_check_character(first17)


def _address(rng: random.Random, shop: str) -> tuple[str, str, str]:
    """(address, district, region code): mostly Guangming, some elsewhere in Shenzhen."""
    template = rng.choice(BUILDINGS)
    building = template.format(rng.choice("ABCDEF") if "栋" in template else rng.randint(1, 12))
    if rng.random() < 0.9:
        street = rng.choice(GUANGMING_STREETS)
        address = f"深圳市光明区{street}{rng.choice(GUANGMING_ROADS)}{rng.randint(1, 999)}号{shop}{building}"
        return address, *GUANGMING
    district, region = rng.choice(OTHER_DISTRICTS)
    return f"深圳市{district}{rng.choice(OTHER_ROADS)}{rng.randint(1, 999)}号{building}", district, region


def _names(rng: random.Random, kind: str, level: str, fld: Field) -> tuple[str, str, tuple[str, ...], str]:
    """(Chinese name, English name, aliases, 字号) for a generated row of ``kind``."""
    shop, shop_en = _shop_name(rng)
    qualifier, qualifier_en = rng.choice(QUALIFIERS)
    level_zh, level_en = LEVEL_PREFIX.get(level, ("", ""))  # type: ignore[call-overload]
    aliases: tuple[str, ...] = ()
    if kind == "enterprise":
        industry, industry_en = rng.choice(fld.industries)
        suffix, suffix_en = ENTERPRISE_SUFFIXES[0] if rng.random() < 0.8 else ENTERPRISE_SUFFIXES[1]
        prefix, prefix_en = ("深圳市光明区", "Shenzhen Guangming ") if rng.random() < 0.3 else ("深圳市", "Shenzhen ")
        name = f"{prefix}{shop}{industry}{suffix}"
        if rng.random() < 0.3:
            aliases = (f"{shop}{industry[:2]}",)
        return name, f"{prefix_en}{shop_en} {industry_en} {suffix_en}", aliases, shop
    if kind == "service_agency":
        service, service_en = rng.choice(SERVICES)
        return f"深圳市{shop}{service}有限公司", f"Shenzhen {shop_en} {service_en} Co., Ltd.", (), shop
    if kind == "investment_fund":
        if rng.random() < 0.5:
            return (f"深圳市光明{shop}创业投资合伙企业（有限合伙）",
                    f"Shenzhen Guangming {shop_en} Venture Capital Partnership (LP)", (), shop)
        return (f"深圳{shop}私募股权投资基金管理有限公司", f"Shenzhen {shop_en} Private Equity Fund Management Co., Ltd.",
                (), shop)
    if kind == "bank":
        bank, bank_en = rng.choice(BANKS)
        street = rng.choice(GUANGMING_STREETS)
        return (f"{bank}深圳{street[:2]}支行", f"{bank_en} Shenzhen {STREET_PINYIN[street]} Sub-branch",
                (), shop)
    if kind == "university":
        return (f"深圳{shop}{fld.zh}大学", f"Shenzhen {shop_en} University of {fld.en}", (), shop)
    if kind == "research_institute":
        return (f"深圳{shop}{qualifier}{fld.zh}研究所", f"Shenzhen {shop_en} Institute of {qualifier_en}{fld.en}",
                (), shop)
    if kind == "new_rd_institution":
        return (f"光明科学城{shop}{fld.zh}创新研究院", f"Guangming {shop_en} {fld.en} Innovation Research Institute",
                (), shop)
    if kind == "laboratory":
        if level == Level.DISTRICT:
            return f"光明区{qualifier}{fld.zh}实验室", f"Guangming {qualifier_en}{fld.en} Laboratory", (), shop
        return (f"{level_zh}{qualifier}{fld.zh}重点实验室（{shop}）", f"{level_en}Key Laboratory of "
                f"{qualifier_en}{fld.en} ({shop_en})", (), shop)
    if kind == "major_facility":
        return f"{qualifier}{fld.zh}大科学装置", f"{qualifier_en}{fld.en} Big Science Facility", (), shop
    if kind == "research_platform":
        return (f"{qualifier}{fld.zh}前沿交叉研究平台（{shop}）",
                f"{qualifier_en}{fld.en} Interdisciplinary Research Platform ({shop_en})", (), shop)
    if kind == "innovation_carrier":
        if rng.random() < 0.5:
            return (f"{level_zh}{fld.zh}工程技术研究中心（{shop}）",
                    f"{level_en}{fld.en} Engineering Research Centre ({shop_en})", (), shop)
        return (f"{level_zh}{shop}{fld.zh}企业技术中心", f"{level_en}{shop_en} {fld.en} Enterprise Technology Centre",
                (), shop)
    if kind == "incubator":
        return f"光明{shop}{fld.zh}孵化器", f"Guangming {shop_en} {fld.en} Incubator", (), shop
    if kind == "maker_space":
        return f"{shop}众创空间", f"{shop_en} Maker Space", (), shop
    if kind == "accelerator":
        return f"光明{shop}产业加速器", f"Guangming {shop_en} Industrial Accelerator", (), shop
    if kind == "science_park":
        return f"光明{shop}科技园", f"Guangming {shop_en} Science Park", (), shop
    if kind == "concept_verification_centre":
        return (f"光明科学城{fld.zh}概念验证中心（{shop}）",
                f"Guangming Science City {fld.en} Concept Verification Centre ({shop_en})", (), shop)
    if kind == "alliance":
        if rng.random() < 0.5:
            return f"光明区{shop}{fld.zh}产业联盟", f"Guangming {shop_en} {fld.en} Industry Alliance", (), shop
        return f"光明科学城{fld.zh}创新联合体（{shop}）", f"Guangming {fld.en} Innovation Consortium ({shop_en})", (), shop
    raise ValueError(f"no name pattern for kind {kind!r}")


def _status_and_founding(rng: random.Random, kind: str, today: dt.date, *, certified: bool) -> tuple[str, dt.date | None]:
    if kind == "enterprise":
        status = "closed" if not certified and rng.random() < 0.08 else "operating"
        latest = today - dt.timedelta(days=4 * 365) if certified else today - dt.timedelta(days=60)
        return status, _date_between(rng, dt.date(1990, 1, 1), min(latest, dt.date(2025, 12, 31)))
    if kind in LEVELLED_KINDS:
        status = _pick_weighted(rng, (("planned", 8), ("under_construction", 15), ("operating", 74), ("closed", 3)))
        if status == "planned":
            return status, None
        start = dt.date(2019, 1, 1) if status == "under_construction" else dt.date(2005, 1, 1)
        return status, _date_between(rng, start, dt.date(2025, 12, 31))
    status = "closed" if rng.random() < 0.03 else "operating"
    return status, _date_between(rng, dt.date(1990, 1, 1), dt.date(2025, 12, 31))


def organisation_row(seed: int, index: int, today: dt.date, kinds: _KindIndex | None = None) -> OrganisationRow:
    """Organisation row ``index`` (1-based) for ``seed``; its relation is drawn only when ``kinds`` is given."""
    if index <= len(ANCHORS):
        return _anchor_row(seed, index)
    rng = _rng(seed, "org", index)
    kind = KINDS[bisect.bisect_right(KIND_CUMULATIVE, rng.randrange(KIND_CUMULATIVE[-1]))]
    if kind == "enterprise":
        field_index = rng.choices(range(len(FIELDS)), weights=FIELD_WEIGHTS)[0]
    elif kind == "service_agency":
        field_index = SERVICE_FIELD_INDEX
    elif kind in ("investment_fund", "bank"):
        field_index = FINANCE_FIELD_INDEX
    else:
        field_index = rng.choice(RESEARCH_FIELD_INDICES)
    fld = FIELDS[field_index]
    level = "none"
    if kind in LEVELLED_KINDS:
        level = _pick_weighted(rng, (("national", 8), ("provincial", 20), ("municipal", 37), ("district", 35)))
    hnte = kind == "enterprise" and rng.randrange(1000) < HNTE_PER_MILLE
    tech_sme = kind == "enterprise" and rng.randrange(1000) < TECH_SME_PER_MILLE
    status, founded_on = _status_and_founding(rng, kind, today, certified=hnte or tech_sme)
    name, name_en, aliases, shop = _names(rng, kind, level, fld)
    address, district, region = _address(rng, shop)
    keywords = rng.sample(fld.keywords, k=min(len(fld.keywords), rng.randint(2, 4)))
    code = organisation_code(index)
    fields: dict[str, Any] = {
        "code": code, "name": name, "name_en": name_en, "kind": kind, "level": level, "status": status,
        "founded_on": founded_on, "address": address, "district": district, "keywords": ", ".join(keywords),
        "credit_code": credit_code_for(seed, index, kind, region) if kind in LEGAL_ENTITY_KINDS else None,
        "website": f"https://www.{shop_slug(name_en)}-{index}.example.com" if rng.random() < 0.5 else "",
        "description": f"{name}，主要从事{fld.zh}领域的研发、服务与产业化。",
    }
    sectors = fld.sectors + ((fld.high_tech,) if kind == "enterprise" else ())
    row = OrganisationRow(index=index, fields=fields, sectors=sectors, field_index=field_index, aliases=aliases,
                          status_date=founded_on or _date_between(rng, today - dt.timedelta(days=720), today))
    if hnte:
        issued = _date_between(rng, today - dt.timedelta(days=3 * 365 - 1), today)
        row.certifications.append({
            "kind": CertificationKind.HIGH_TECH_ENTERPRISE, "number": f"DEMO-GR{issued.year}44{index:07d}",
            "issued_on": issued, "expires_on": _add_years(issued, 3), "issuer": HNTE_ISSUER})
    if tech_sme:
        issued = _date_between(rng, today - dt.timedelta(days=364), today)
        row.certifications.append({
            "kind": CertificationKind.TECH_SME, "number": f"DEMO-{issued.year}440311A{index:07d}",
            "issued_on": issued, "expires_on": _add_years(issued, 1) - dt.timedelta(days=1),
            "issuer": TECH_SME_ISSUER})
    if kinds is not None:
        row.relation = _relation(rng, kind, index, kinds)
    return row


def shop_slug(name_en: str) -> str:
    words = [w for w in name_en.lower().replace(",", " ").replace(".", " ").split() if w.isalpha()]
    return "-".join(words[1:3]) or "org"


class _KindIndex:
    """Row indices grouped by kind, for choosing 'an earlier university' or 'an enterprise ≤ pool'."""

    def __init__(self, kinds: Sequence[str]):
        self.kinds = kinds
        self.by_group: dict[frozenset[str], list[int]] = {}

    def pick(self, rng: random.Random, wanted: frozenset[str], upto: int, *, avoid: int = 0) -> int | None:
        """A random row j ≤ ``upto`` (≠ ``avoid``) whose kind is in ``wanted``, or ``None``."""
        rows = self.by_group.get(wanted)
        if rows is None:
            rows = self.by_group[wanted] = [j for j, k in enumerate(self.kinds, start=1) if k in wanted]
        count = bisect.bisect_right(rows, upto)
        if count == 0 or (count == 1 and rows[0] == avoid):
            return None
        while True:
            chosen = rows[rng.randrange(count)]
            if chosen != avoid:
                return chosen


def _relation(rng: random.Random, kind: str, index: int, kinds: _KindIndex) -> tuple[str, int, bool] | None:
    if kind in HOSTED_KINDS and rng.random() < 0.5:
        host = kinds.pick(rng, HOST_KINDS, index - 1)
        if host:
            return RelationKind.HOSTS, host, False  # the host is the source
    if kind == "enterprise" and rng.random() < 0.02:
        alliance = kinds.pick(rng, ALLIANCE_KINDS, index - 1)
        if alliance:
            return RelationKind.MEMBER_OF, alliance, True
    return None


def _anchor_row(seed: int, index: int) -> OrganisationRow:
    kind, level, status, name, name_en, field_index, year = ANCHORS[index - 1]
    fld = FIELDS[field_index] if field_index is not None else None
    founded = dt.date(year, 1 + index % 12, 1 + index % 28)
    fields = {
        "code": organisation_code(index), "name": name, "name_en": name_en, "kind": kind, "level": level,
        "status": status, "founded_on": founded if status != "planned" else None,
        "address": f"深圳市光明区{GUANGMING_STREETS[index % 6]}{GUANGMING_ROADS[index % 16]}{100 + index}号",
        "district": GUANGMING[0], "keywords": ", ".join(fld.keywords[:3]) if fld else "",
        "credit_code": credit_code_for(seed, index, kind, GUANGMING[1]) if kind in LEGAL_ENTITY_KINDS else None,
        "website": "", "description": f"{name}。" if fld is None else f"{name}，聚焦{fld.zh}。",
    }
    return OrganisationRow(index=index, fields=fields, sectors=fld.sectors if fld else (), field_index=field_index,
                           status_date=founded)


def person_row(seed: int, index: int, today: dt.date, kinds: _KindIndex, pool: int) -> PersonRow:
    """Person row ``index``; affiliations point at organisation rows ≤ ``pool``."""
    rng = _rng(seed, "person", index)
    category = _pick_weighted(rng, (("researcher", 55), ("expert", 20), ("officer", 8), ("entrepreneur", 12),
                                    ("broker", 5)))
    categories = [category]
    if category == "researcher" and rng.random() < 0.25:
        categories.append(PersonCategory.EXPERT)
    surname, surname_en = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    given = rng.sample(GIVEN_NAME_CHARACTERS, 2 if rng.random() < 0.8 else 1)
    given_zh = "".join(c for c, _p in given)
    given_en = "".join(p for _c, p in given)
    name = surname + given_zh
    name_en = f"{given_en.capitalize()} {surname_en}"
    group = {"officer": GOVERNMENT_KINDS, "entrepreneur": ENTERPRISE_KINDS, "broker": SERVICE_KINDS}.get(
        category, RESEARCH_KINDS)
    org_index = kinds.pick(rng, group, pool) or kinds.pick(rng, RESEARCH_KINDS, pool) or 1
    org = organisation_row(seed, org_index, today)
    fld = FIELDS[org.field_index] if org.field_index is not None and category != "officer" else rng.choice(FIELDS)
    expertise = rng.sample(fld.keywords, k=min(len(fld.keywords), rng.randint(3, 5)))
    title = _pick_weighted(rng, CATEGORY_TITLES[category])
    position = rng.choice(CATEGORY_POSITIONS[category])
    start = _date_between(rng, dt.date(2008, 1, 1), today - dt.timedelta(days=30))
    affiliations = []
    if category != "officer" and rng.random() < 0.3:
        ended = today - dt.timedelta(days=rng.randint(365, 5 * 365))
        previous = kinds.pick(rng, PAST_EMPLOYER_KINDS, pool, avoid=org_index)
        if previous:
            affiliations.append({"organisation": previous, "position": rng.choice(CATEGORY_POSITIONS[category]),
                                 "start_date": ended - dt.timedelta(days=rng.randint(2 * 365, 8 * 365)),
                                 "end_date": ended, "is_primary": False})
            start = ended + dt.timedelta(days=rng.randint(1, 120))
    affiliations.append({"organisation": org_index, "position": position, "start_date": start, "end_date": None,
                         "is_primary": True})
    email_local = f"{given_en}.{surname_en.lower()}{index}"
    fields = {
        "code": person_code(index), "name": name, "name_en": name_en,
        "categories": [str(c) for c in categories], "title": title,
        "email": f"{email_local}@{rng.choice(EMAIL_DOMAINS)}", "phone": "", "expertise": expertise,
        "biography": f"{org.fields['name']}{position}，关注领域：{'、'.join(expertise[:2])}。",
    }
    return PersonRow(index=index, fields=fields, sectors=fld.sectors[:1], affiliations=affiliations)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

COUNTED_MODELS = ("registry.organisation", "registry.organisation_sectors", "registry.organisationalias",
                  "registry.statuschange", "registry.certification", "registry.relation", "registry.person",
                  "registry.person_sectors", "registry.affiliation")


@dataclass
class DemoResult:
    scale: str
    seed: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_MODELS, 0))

    @property
    def created(self) -> int:
        return sum(self.counts.values())


def _batches(total: int, size: int) -> Iterator[range]:
    for start in range(1, total + 1, size):
        yield range(start, min(start + size, total + 1))


#: Demo organisation codes whose row is a real organisation already in the registry (code → its id).
_STAND_INS: dict[str, int] = {}


def _stand_in(row: OrganisationRow, real_departments: dict[str, int]) -> bool:
    """A demo department that the registry already holds for real (e.g. from the bundled plan's set-up)
    is not generated again: its code stands for the real one, so demo people and relations point there."""
    if row.fields["kind"] != OrganisationKind.GOVERNMENT_DEPARTMENT:
        return False
    real = real_departments.get(normalise_name(row.fields["name"]))
    if real is None:
        return False
    _STAND_INS[row.fields["code"]] = real
    return True


def _ids_by_code(model, codes: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(codes), BATCH_SIZE):
        ids.update(model.objects.filter(code__in=codes[start : start + BATCH_SIZE]).values_list("code", "id"))
    if model is Organisation:
        ids.update({code: _STAND_INS[code] for code in codes if code not in ids and code in _STAND_INS})
    return ids


def _person_pool(index: int) -> int:
    """Organisations that person ``index`` may be affiliated with: those of the smallest scale holding them."""
    for scale in SCALES.values():
        if index <= scale.people:
            return scale.organisations
    return max(s.organisations for s in SCALES.values())


def demo_generate(
    *,
    scale: str,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Create the missing synthetic rows of ``scale`` for ``seed``; write one audit event if any."""
    plan = SCALES[scale]
    today = demo_as_of(today)
    result = DemoResult(scale=scale, seed=seed)
    sector_ids = dict(Sector.objects.values_list("code", "id"))
    kinds: _KindIndex | None = None

    def kind_index() -> _KindIndex:
        nonlocal kinds
        if kinds is None:
            kinds = _KindIndex([organisation_kind(seed, j) for j in range(1, plan.organisations + 1)])
        return kinds

    _STAND_INS.clear()
    real_departments = {
        normalise_name(name): pk for pk, name in Organisation.objects.filter(
            kind=OrganisationKind.GOVERNMENT_DEPARTMENT, is_synthetic=False).values_list("pk", "name")
    }
    with transaction.atomic():
        for batch in _batches(plan.organisations, batch_size):
            codes = [organisation_code(i) for i in batch]
            existing = set(Organisation.objects.filter(code__in=codes).values_list("code", flat=True))
            missing = [i for i, code in zip(batch, codes, strict=True) if code not in existing]
            if missing:
                rows = [organisation_row(seed, i, today, kind_index()) for i in missing]
                rows = [r for r in rows if not _stand_in(r, real_departments)]
                _write_organisations(rows, sector_ids, result)
            if progress:
                progress(len(batch))
        for batch in _batches(plan.people, batch_size):
            codes = [person_code(i) for i in batch]
            existing = set(Person.objects.filter(code__in=codes).values_list("code", flat=True))
            missing = [i for i, code in zip(batch, codes, strict=True) if code not in existing]
            if missing:
                rows = [person_row(seed, i, today, kind_index(), _person_pool(i)) for i in missing]
                _write_people(rows, sector_ids, result)
            if progress:
                progress(len(batch))
        if result.created:
            audit_record(
                action=AuditAction.GENERATE, object_type=AUDIT_OBJECT_TYPE, object_id=f"{scale}-{seed}",
                object_repr=f"demo {scale} seed {seed}",
                changes={"scale": scale, "seed": seed, "created": dict(result.counts)},
                reason=f"synthetic demo data, scale {scale} seed {seed}",
            )
    return result


def _write_organisations(rows: list[OrganisationRow], sector_ids: dict[str, int], result: DemoResult) -> None:
    taken = set(Organisation.objects.filter(
        credit_code__in=[r.fields["credit_code"] for r in rows if r.fields["credit_code"]]
    ).values_list("credit_code", flat=True))
    objects = []
    for row in rows:
        org = Organisation(**row.fields, is_synthetic=True)
        if org.credit_code in taken:  # a real organisation already holds this code
            org.credit_code = None
        org.search_text = organisation_search_text(org, row.aliases)
        objects.append(org)
    Organisation.objects.bulk_create(objects)
    ids = _ids_by_code(Organisation, [r.fields["code"] for r in rows])
    through = Organisation.sectors.through
    links = [through(organisation_id=ids[r.fields["code"]], sector_id=sector_ids[s])
             for r in rows for s in r.sectors if s in sector_ids]
    through.objects.bulk_create(links)
    aliases = [OrganisationAlias(organisation_id=ids[r.fields["code"]], name=a) for r in rows for a in r.aliases]
    OrganisationAlias.objects.bulk_create(aliases)
    history = [StatusChange(organisation_id=ids[r.fields["code"]], from_status="", to_status=r.fields["status"],
                            changed_on=r.status_date, note="synthetic demo data") for r in rows]
    StatusChange.objects.bulk_create(history)
    certificates = [Certification(organisation_id=ids[r.fields["code"]], **c) for r in rows for c in r.certifications]
    Certification.objects.bulk_create(certificates)
    related = _ids_by_code(Organisation, sorted({organisation_code(r.relation[1]) for r in rows if r.relation}))
    relations = []
    for row in rows:
        if not row.relation:
            continue
        kind, other, is_source = row.relation
        other_id = related.get(organisation_code(other))
        if other_id is None:
            continue
        this_id = ids[row.fields["code"]]
        source, target = (this_id, other_id) if is_source else (other_id, this_id)
        relations.append(Relation(source_id=source, target_id=target, kind=kind, start_date=row.fields["founded_on"],
                                  note="synthetic demo data"))
    Relation.objects.bulk_create(relations)
    counts = result.counts
    counts["registry.organisation"] += len(objects)
    counts["registry.organisation_sectors"] += len(links)
    counts["registry.organisationalias"] += len(aliases)
    counts["registry.statuschange"] += len(history)
    counts["registry.certification"] += len(certificates)
    counts["registry.relation"] += len(relations)


def _write_people(rows: list[PersonRow], sector_ids: dict[str, int], result: DemoResult) -> None:
    objects = []
    for row in rows:
        person = Person(**row.fields, is_synthetic=True)
        person.search_text = person_search_text(person)
        objects.append(person)
    Person.objects.bulk_create(objects)
    ids = _ids_by_code(Person, [r.fields["code"] for r in rows])
    through = Person.sectors.through
    links = [through(person_id=ids[r.fields["code"]], sector_id=sector_ids[s])
             for r in rows for s in r.sectors if s in sector_ids]
    through.objects.bulk_create(links)
    org_ids = _ids_by_code(Organisation, sorted({organisation_code(a["organisation"])
                                                 for r in rows for a in r.affiliations}))
    affiliations = []
    for row in rows:
        for a in row.affiliations:
            org_id = org_ids.get(organisation_code(a["organisation"]))
            if org_id is not None:
                affiliations.append(Affiliation(person_id=ids[row.fields["code"]], organisation_id=org_id,
                                                **{k: v for k, v in a.items() if k != "organisation"}))
    Affiliation.objects.bulk_create(affiliations)
    counts = result.counts
    counts["registry.person"] += len(objects)
    counts["registry.person_sectors"] += len(links)
    counts["registry.affiliation"] += len(affiliations)
