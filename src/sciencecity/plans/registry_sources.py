"""The registry's counts, registered by plans as indicator sources (the registry imports no other app)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.plans import sources
from sciencecity.registry.indicator_sources import (
    carriers_municipal_or_higher,
    high_tech_enterprises,
    incubators_district_or_higher,
    new_research_institutions,
)


def register_all() -> None:
    sources.register("registry.carriers", _("Municipal-or-higher innovation carriers (registry)"),
                     carriers_municipal_or_higher, name_pattern=r"(市级|省级|国家级)?.*创新载体")
    sources.register("registry.hnte", _("Enterprises with a valid high-tech certificate (registry)"),
                     high_tech_enterprises, name_pattern=r"高新技术企业")
    sources.register("registry.new_institutions", _("Research institutions founded since the plan began (registry)"),
                     new_research_institutions, name_pattern=r"新引进.*(科研|研发)机构|新(建|增).*(科研|研发)机构")
    sources.register("registry.incubators", _("District-or-higher maker spaces and incubators (registry)"),
                     incubators_district_or_higher, name_pattern=r"众创空间|孵化器")
