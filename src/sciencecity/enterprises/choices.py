"""Choices of the enterprise services: HNTE domains, IP classes, incidents, tiers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TechnologyDomain(models.TextChoices):
    """国家重点支持的高新技术领域 (办法 附件): the eight first-level domains."""

    ELECTRONICS = "电子信息", _("Electronic information")
    BIOMEDICINE = "生物与新医药", _("Biology and new medicine")
    AEROSPACE = "航空航天", _("Aerospace")
    NEW_MATERIALS = "新材料", _("New materials")
    HIGH_TECH_SERVICES = "高技术服务", _("High-tech services")
    NEW_ENERGY = "新能源与节能", _("New energy and energy saving")
    RESOURCES = "资源与环境", _("Resources and environment")
    ADVANCED_MANUFACTURING = "先进制造与自动化", _("Advanced manufacturing and automation")


class IpClass(models.TextChoices):
    CLASS_I = "I", _("Class I (invention patent, plant variety, IC layout …)")
    CLASS_II = "II", _("Class II (utility model, design, software copyright …)")


class IpKind(models.TextChoices):
    INVENTION_PATENT = "invention_patent", _("Invention patent")
    UTILITY_MODEL = "utility_model", _("Utility model")
    DESIGN = "design", _("Design patent")
    SOFTWARE = "software", _("Software copyright")
    IC_LAYOUT = "ic_layout", _("IC layout design")
    PLANT_VARIETY = "plant_variety", _("Plant variety")
    NEW_DRUG = "new_drug", _("New drug")
    OTHER = "other", _("Other")


class IpAcquisition(models.TextChoices):
    OWN = "own", _("Own development")
    TRANSFERRED = "transferred", _("Transferred, donated or acquired (受让/受赠/并购)")


class IncidentKind(models.TextChoices):
    SAFETY = "safety", _("Major safety accident")
    QUALITY = "quality", _("Major quality accident")
    ENVIRONMENT = "environment", _("Serious environmental violation")


class Tier(models.TextChoices):
    """梯次培育: 雏凤 → 瞪羚 → 独角兽, and the 国家高新技术企业后备库."""

    RESERVE = "reserve", _("High-tech enterprise reserve pool (高企后备库)")
    CHUFENG = "chufeng", _("Young phoenix (雏凤)")
    GAZELLE = "gazelle", _("Gazelle (瞪羚)")
    UNICORN = "unicorn", _("Unicorn (独角兽)")
