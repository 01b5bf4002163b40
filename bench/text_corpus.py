"""Synthetic tech-transfer texts and the labelled matching set, shared by the text benchmarks."""

from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sciencecity.engines.text import LabelledQuery, Listing  # noqa: E402
from sciencecity.engines.text.quality import load_labelled_set  # noqa: E402

MATCHING_SET = ROOT / "tests" / "engines" / "fixtures" / "matching_set.json"

ADJECTIVES = "高性能 低成本 新型 智能 高精度 绿色 柔性 纳米 高效 便携式 长寿命 高安全 轻量化 大尺寸 耐高温 可降解 国产化 模块化 高通量 低功耗".split()
OBJECTS = """锂离子电池 负极材料 正极材料 电解液 隔膜 固态电解质 钠离子电池 燃料电池 催化剂 光伏组件 钙钛矿 石墨烯 碳纳米管
传感器 芯片 激光器 工业机器人 减速器 无人机 植保无人飞行器 医疗器械 单克隆抗体 mRNA疫苗 诊断试剂 基因编辑 细胞治疗 类器官 污水处理
土壤修复 水泥 特种钢 防腐涂料 复合材料 陶瓷 高分子材料 算法 大模型 知识图谱 平台 软件 数据库 先进封装 功率器件 碳化硅 氮化镓 射频芯片
激光雷达 毫米波雷达 自动驾驶 数字孪生 边缘计算 工业互联网 储能系统 充电桩 电解水制氢 二氧化碳捕集 脑机接口 外骨骼 假肢 磁共振成像
医学影像 手术机器人 水肥一体化 育种 农业遥感 合成生物学 发酵工艺 光刻胶 增材制造 钛合金 高温合金 量子通信 区块链 联邦学习""".split()
VERBS = "制备 合成 检测 控制 优化 设计 制造 回收 监测 识别 预测 修复 封装 加工 集成 标定 评估 调度 诊断 筛选".split()
APPLICATIONS = """新能源汽车 储能电站 消费电子 航空航天 三甲医院 农业生产 化工园区 数据中心 5G基站 轨道交通 海洋工程 智能电网
城市管理 金融风控 政务服务 生物制药 半导体制造 钢铁冶金 建筑工程 港口物流""".split()
METRICS = "效率提升 成本降低 能耗降低 精度提高 寿命延长 良率提升 产量提高 排放减少".split()
STATUS = (
    "完成中试 建成示范线 获得发明专利授权 通过第三方检测 实现小批量生产 进入临床前研究 完成样机研制".split()
)
FIELDS = "新能源 新材料 电子信息 人工智能 生物医药 医疗器械 智能制造 现代农业 节能环保".split()
MODES = "转让 许可 作价入股 合作开发 技术服务".split()
ENGLISH_QUERIES = [
    "lithium-ion battery anode",
    "drone pesticide",
    "graphene",
    "brain-computer interface",
    "MRI",
    "LiDAR",
]


def sentence(rng: random.Random) -> str:
    kind = rng.randrange(5)
    a, o, o2, v = rng.choice(ADJECTIVES), rng.choice(OBJECTS), rng.choice(OBJECTS), rng.choice(VERBS)
    if kind == 0:
        return f"本成果涉及一种{a}{o}的{v}方法，"
    if kind == 1:
        return f"采用{a}{o}与{o2}{v}技术，"
    if kind == 2:
        return f"{rng.choice(METRICS)}{rng.randint(5, 95)}%，"
    if kind == 3:
        return f"可用于{rng.choice(APPLICATIONS)}和{rng.choice(APPLICATIONS)}等场景。"
    return f"已{rng.choice(STATUS)}，型号XK-{rng.randint(100, 99999)}。"


def synthetic_listings(n: int, *, seed: int = 20240601) -> list[Listing]:
    """Deterministic Chinese tech-transfer listings of 100–300 characters."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        target = rng.randint(100, 300)
        parts: list[str] = []
        length = 0
        while length < target:
            part = sentence(rng)
            parts.append(part)
            length += len(part)
        text = "".join(parts)[:target]
        title = f"{rng.choice(ADJECTIVES)}{rng.choice(OBJECTS)}{rng.choice(VERBS)}技术"
        modes = frozenset(rng.sample(MODES, rng.randint(1, 2)))
        out.append(
            Listing(f"S{i}", text, title=title, field=rng.choice(FIELDS), trl=rng.randint(1, 9), modes=modes)
        )
    return out


def synthetic_queries(n: int, *, seed: int = 7) -> list[tuple[str, dict]]:
    """Varied queries: 1–4 domain words, some English, about a third with filters."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.1:
            text = rng.choice(ENGLISH_QUERIES)
        else:
            words = rng.sample(OBJECTS, rng.randint(1, 3)) + (
                [rng.choice(VERBS)] if rng.random() < 0.5 else []
            )
            text = (" " if rng.random() < 0.5 else "").join(words)
        filters = {}
        if rng.random() < 0.35:
            filters = {"fields": frozenset({rng.choice(FIELDS)}), "trl_min": rng.randint(1, 6)}
        out.append((text, filters))
    return out


def labelled_set() -> tuple[list[Listing], list[LabelledQuery]]:
    return load_labelled_set(MATCHING_SET)


def rss_bytes() -> int:
    """Resident memory of this process (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
