"""Seed the sector vocabulary: the plan's industries and research fields, and the eight national
high-tech fields of 《国家重点支持的高新技术领域》 (国科发火〔2016〕32号 附件)."""

from django.db import migrations

SECTORS = [
    # (code, name, name_en, group, parent)
    ("IND-SMART", "智能产业", "Smart industries", "industry", None),
    ("IND-AI", "人工智能", "Artificial intelligence", "industry", "IND-SMART"),
    ("IND-DISPLAY", "新型显示", "New-type displays", "industry", "IND-SMART"),
    ("IND-ICT", "新一代信息技术", "Next-generation information technology", "industry", "IND-SMART"),
    ("IND-LIFE", "生命健康", "Life and health", "industry", None),
    ("IND-BIOMED", "生物医药", "Biomedicine", "industry", "IND-LIFE"),
    ("IND-MEDDEV", "高端医疗器械", "High-end medical devices", "industry", "IND-LIFE"),
    ("IND-MATERIAL", "新材料", "New materials", "industry", None),
    ("IND-GRAPHENE", "石墨烯", "Graphene", "industry", "IND-MATERIAL"),
    ("IND-BATTERY", "锂离子电池材料", "Lithium-ion battery materials", "industry", "IND-MATERIAL"),
    ("IND-MANUFACTURING", "高端装备与先进制造", "High-end equipment and advanced manufacturing", "industry", None),
    ("IND-SERVICE", "科技服务业", "Science and technology services", "industry", None),
    ("RF-INFO", "信息科学", "Information science", "research_field", None),
    ("RF-LIFE", "生命科学", "Life science", "research_field", None),
    ("RF-MATERIAL", "材料科学", "Materials science", "research_field", None),
    ("RF-BRAIN", "脑科学与类脑智能", "Brain science and brain-inspired intelligence", "research_field", "RF-LIFE"),
    ("RF-SYNBIO", "合成生物", "Synthetic biology", "research_field", "RF-LIFE"),
    ("RF-MATGENOME", "材料基因组", "Materials genome", "research_field", "RF-MATERIAL"),
    ("RF-PRECISION-MED", "精准医疗", "Precision medicine", "research_field", "RF-LIFE"),
    ("RF-METROLOGY", "精密测量", "Precision measurement", "research_field", "RF-INFO"),
    ("HT-1", "电子信息", "Electronic information", "high_tech_field", None),
    ("HT-2", "生物与新医药", "Biotechnology and new medicine", "high_tech_field", None),
    ("HT-3", "航空航天", "Aerospace", "high_tech_field", None),
    ("HT-4", "新材料", "New materials", "high_tech_field", None),
    ("HT-5", "高技术服务", "High-tech services", "high_tech_field", None),
    ("HT-6", "新能源与节能", "New energy and energy saving", "high_tech_field", None),
    ("HT-7", "资源与环境", "Resources and environment", "high_tech_field", None),
    ("HT-8", "先进制造与自动化", "Advanced manufacturing and automation", "high_tech_field", None),
]


def seed(apps, schema_editor):
    Sector = apps.get_model("registry", "Sector")
    by_code = {}
    for code, name, name_en, group, parent in SECTORS:
        sector, _ = Sector.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "group": group, "parent": by_code.get(parent)}
        )
        by_code[code] = sector


def unseed(apps, schema_editor):
    apps.get_model("registry", "Sector").objects.filter(code__in=[s[0] for s in SECTORS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_registry_models")]
    operations = [migrations.RunPython(seed, unseed)]
