"""Choices of the innovation-resource registry."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")  # 企业
    UNIVERSITY = "university", _("University")  # 高校
    RESEARCH_INSTITUTE = "research_institute", _("Research institute")  # 科研院所
    NEW_RD_INSTITUTION = "new_rd_institution", _("New-type R&D institution")  # 新型研发机构
    LABORATORY = "laboratory", _("Laboratory")  # 实验室
    MAJOR_FACILITY = "major_facility", _("Major science facility")  # 重大科技基础设施
    RESEARCH_PLATFORM = "research_platform", _("Research platform")  # 前沿交叉研究平台
    INNOVATION_CARRIER = "innovation_carrier", _("Innovation carrier")  # 创新载体
    INCUBATOR = "incubator", _("Incubator")  # 孵化器
    MAKER_SPACE = "maker_space", _("Maker space")  # 众创空间
    ACCELERATOR = "accelerator", _("Accelerator")  # 加速器
    SCIENCE_PARK = "science_park", _("Science park")  # 科技园区
    CONCEPT_VERIFICATION_CENTRE = "concept_verification_centre", _("Concept-verification centre")  # 概念验证中心
    INVESTMENT_FUND = "investment_fund", _("Investment fund")  # 投资基金
    BANK = "bank", _("Bank")  # 银行
    SERVICE_AGENCY = "service_agency", _("Service agency")  # 科技服务机构
    ALLIANCE = "alliance", _("Alliance / innovation consortium")  # 产业联盟 / 创新联合体
    GOVERNMENT_DEPARTMENT = "government_department", _("Government department")  # 政府部门


#: Kinds that are legal entities and carry a unified social credit code.
LEGAL_ENTITY_KINDS = frozenset(
    {
        OrganisationKind.ENTERPRISE,
        OrganisationKind.UNIVERSITY,
        OrganisationKind.RESEARCH_INSTITUTE,
        OrganisationKind.NEW_RD_INSTITUTION,
        OrganisationKind.INVESTMENT_FUND,
        OrganisationKind.BANK,
        OrganisationKind.SERVICE_AGENCY,
        OrganisationKind.GOVERNMENT_DEPARTMENT,
    }
)

#: Kinds that count as innovation carriers (创新载体) for the plan's carrier indicator.
CARRIER_KINDS = frozenset(
    {
        OrganisationKind.LABORATORY,
        OrganisationKind.MAJOR_FACILITY,
        OrganisationKind.RESEARCH_PLATFORM,
        OrganisationKind.INNOVATION_CARRIER,
        OrganisationKind.NEW_RD_INSTITUTION,
    }
)


class Level(models.TextChoices):
    NATIONAL = "national", _("National")  # 国家级
    PROVINCIAL = "provincial", _("Provincial")  # 省级
    MUNICIPAL = "municipal", _("Municipal")  # 市级
    DISTRICT = "district", _("District")  # 区级
    NONE = "none", _("No level")


#: Order of levels, for "municipal or higher" style filters.
LEVEL_RANK = {Level.NATIONAL: 4, Level.PROVINCIAL: 3, Level.MUNICIPAL: 2, Level.DISTRICT: 1, Level.NONE: 0}


class OrganisationStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")  # 规划中
    UNDER_CONSTRUCTION = "under_construction", _("Under construction")  # 在建
    OPERATING = "operating", _("Operating")  # 运营
    CLOSED = "closed", _("Closed")  # 关闭


class SectorGroup(models.TextChoices):
    INDUSTRY = "industry", _("Industry")  # 产业
    RESEARCH_FIELD = "research_field", _("Research field")  # 研究领域
    HIGH_TECH_FIELD = "high_tech_field", _("National high-tech field")  # 国家重点支持的高新技术领域


class RelationKind(models.TextChoices):
    HOSTS = "hosts", _("hosts")  # 依托 / 承建
    LEADS = "leads", _("leads")  # 牵头
    MEMBER_OF = "member_of", _("is a member of")  # 成员
    BRANCH_OF = "branch_of", _("is a branch of")  # 分支机构


class CertificationKind(models.TextChoices):
    HIGH_TECH_ENTERPRISE = "hnte", _("National high-tech enterprise")  # 国家高新技术企业
    TECH_SME = "tech_sme", _("Technology-based SME")  # 科技型中小企业
    SPECIALISED_SME = "specialised_sme", _("Specialised and innovative SME")  # 专精特新
    CARRIER_RECOGNITION = "carrier", _("Innovation-carrier recognition")  # 创新载体认定


class PersonCategory(models.TextChoices):
    RESEARCHER = "researcher", _("Researcher")
    EXPERT = "expert", _("Expert")
    OFFICER = "officer", _("Officer")
    ENTREPRENEUR = "entrepreneur", _("Entrepreneur")
    BROKER = "broker", _("Technology broker")  # 技术经纪人
