"""The innovation-resource registry: organisations, people and the relations between them.

It is the single source of truth for organisations and people; every other app points at it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sciencecity.core.models import BaseModel
from sciencecity.registry.choices import (
    LEVEL_RANK,
    CertificationKind,
    Level,
    OrganisationKind,
    OrganisationStatus,
    PersonCategory,
    RelationKind,
    SectorGroup,
)
from sciencecity.registry.validators import validate_credit_code


class Sector(BaseModel):
    """领域. An industry (the plan's 3+1 industries), research field or national high-tech field."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    group = models.CharField(_("group"), max_length=20, choices=SectorGroup.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["group", "code"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self) -> str:
        return self.name

    def label(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name


class OrganisationQuerySet(models.QuerySet):
    def operating(self):
        return self.filter(status=OrganisationStatus.OPERATING)

    def at_level_or_higher(self, level: str):
        rank = LEVEL_RANK[level]
        return self.filter(level__in=[lv for lv, r in LEVEL_RANK.items() if r >= rank and lv != Level.NONE])

    def search(self, query: str):
        """Every whitespace-separated term appears in the name, English name, aliases, codes or keywords."""
        qs = self
        for term in normalise_search_text(query).split():
            qs = qs.filter(search_text__contains=term)
        return qs


def normalise_search_text(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text or "").casefold()


class Organisation(BaseModel):
    """机构. An enterprise, university, institute, carrier, facility, fund, bank, department …"""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices, db_index=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.NONE, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrganisationStatus.choices, default=OrganisationStatus.OPERATING,
        db_index=True,
    )
    sectors = models.ManyToManyField(Sector, verbose_name=_("sectors"), blank=True, related_name="organisations")
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True,
        validators=[validate_credit_code],
    )
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True, db_index=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)
    search_text = models.TextField(_("search text"), blank=True, editable=False)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [
            models.Index(fields=["kind", "level", "status"], name="org_kind_level_status_idx"),
            models.Index(fields=["name", "id"], name="org_name_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name


class OrganisationAlias(BaseModel):
    """别名. Another name of one organisation (former name, abbreviation, English variant)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField(_("name"), max_length=300)

    class Meta:
        ordering = ["name"]
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="alias_unique_per_organisation")]

    def __str__(self) -> str:
        return self.name


class StatusChange(BaseModel):
    """状态变更. One entry of an organisation's status history."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="status_history"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=OrganisationStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=OrganisationStatus.choices)
    changed_on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")


class CertificationQuerySet(models.QuerySet):
    def valid_on(self, day: dt.date):
        return self.filter(issued_on__lte=day).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))


class Certification(BaseModel):
    """资质认定. A dated recognition of an organisation (高新技术企业 certificate, 科技型中小企业 number …)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="certifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CertificationKind.choices, db_index=True)
    number = models.CharField(_("certificate number"), max_length=64)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    issuer = models.CharField(_("issuer"), max_length=200, blank=True)

    objects = CertificationQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        constraints = [models.UniqueConstraint(fields=["kind", "number"], name="certification_unique_number")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Relation(BaseModel):
    """机构关系. ``source`` hosts / leads / is a member of / is a branch of ``target``."""

    source = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="relations_out"
    )
    kind = models.CharField(_("relation"), max_length=20, choices=RelationKind.choices)
    target = models.ForeignKey(
        Organisation, verbose_name=_("related organisation"), on_delete=models.CASCADE, related_name="relations_in"
    )
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["source_id", "kind"]
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "target"], name="relation_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="relation_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_kind_display()} {self.target}"


class PersonQuerySet(models.QuerySet):
    def search(self, query: str):
        qs = self
        for term in normalise_search_text(query).split():
            qs = qs.filter(search_text__contains=term)
        return qs


class Person(BaseModel):
    """人员. A researcher, expert, officer, entrepreneur or technology broker."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    title = models.CharField(pgettext_lazy("job title of a person", "title"), max_length=100, blank=True)  # 职称
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    expertise = models.JSONField(_("expertise keywords"), default=list, blank=True)
    biography = models.TextField(_("biography"), blank=True)
    sectors = models.ManyToManyField(Sector, verbose_name=_("sectors"), blank=True, related_name="people")
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)
    search_text = models.TextField(_("search text"), blank=True, editable=False)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(fields=["name", "id"], name="person_name_id_idx")]

    def __str__(self) -> str:
        return self.name

    def category_labels(self) -> list[str]:
        labels = dict(PersonCategory.choices)
        return [str(labels.get(c, c)) for c in self.categories]


class Affiliation(BaseModel):
    """任职. A person's affiliation with an organisation over a period."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="affiliations"
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "-start_date", "id"]
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="affiliation_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.organisation}"

    def is_current(self, day: dt.date | None = None) -> bool:
        day = day or dt.date.today()
        return (self.start_date is None or self.start_date <= day) and (self.end_date is None or self.end_date >= day)
