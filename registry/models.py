"""Tables of the public register: organisations, data sources, projects, their status steps,
results and revisions. Only ``registry.service`` writes them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.database import Base, UTCDateTime, string_enum

REFERENCE_PATTERN = r"^HDH-(19|20)[0-9]{2}-[0-9]{4}$"


class _Labelled(enum.StrEnum):
    """A StrEnum whose members carry a French label (translated at display time)."""

    @property
    def label(self) -> str:
        return str(self.LABELS[self.value])  # type: ignore[attr-defined]


class OrganisationKind(_Labelled):
    HOSPITAL = "hopital"                  #: public or private hospital, CHU
    RESEARCH = "recherche"                #: university or public research body
    AGENCY = "agence"                     #: public agency or administration
    COMPANY = "entreprise"                #: company (pharmaceutical, medical devices, insurer…)
    STARTUP = "start-up"                  #: young innovative company
    ASSOCIATION = "association"           #: patients' association, foundation, learned society


OrganisationKind.LABELS = {  # type: ignore[attr-defined]
    "hopital": _l("Hôpital"), "recherche": _l("Université ou organisme de recherche"),
    "agence": _l("Agence ou administration publique"), "entreprise": _l("Entreprise"),
    "start-up": _l("Start-up"), "association": _l("Association ou fondation"),
}


class SourceKind(_Labelled):
    MAIN_BASE = "base-principale"   #: a part of the SNDS main base (DCIR, PMSI, CépiDc…)
    CATALOGUE = "catalogue"         #: a database of the SNDS catalogue (cohorts, registries…)


SourceKind.LABELS = {  # type: ignore[attr-defined]
    "base-principale": _l("Base principale du SNDS"), "catalogue": _l("Catalogue du SNDS"),
}


class ProjectStatus(_Labelled):
    """Where a project stands on the authorisation path (documented for citizens below)."""

    SUBMITTED = "depose"
    CESREES_FAVOURABLE = "avis-favorable"
    CESREES_RESERVED = "avis-reserves"
    CESREES_UNFAVOURABLE = "avis-defavorable"
    CNIL_AUTHORISED = "autorise"
    DATA_AVAILABLE = "donnees-disponibles"
    IN_PROGRESS = "en-cours"
    FINISHED = "termine"
    ABANDONED = "abandonne"

    @property
    def explanation(self) -> str:
        return str(STATUS_EXPLANATIONS[self.value])

    @property
    def closed(self) -> bool:
        return self in (ProjectStatus.FINISHED, ProjectStatus.ABANDONED,
                        ProjectStatus.CESREES_UNFAVOURABLE)


ProjectStatus.LABELS = {  # type: ignore[attr-defined]
    "depose": _l("Demande déposée"),
    "avis-favorable": _l("Avis favorable du CESREES"),
    "avis-reserves": _l("Avis favorable avec réserves du CESREES"),
    "avis-defavorable": _l("Avis défavorable du CESREES"),
    "autorise": _l("Accès autorisé"),
    "donnees-disponibles": _l("Données mises à disposition"),
    "en-cours": _l("En cours"),
    "termine": _l("Terminé"),
    "abandonne": _l("Abandonné"),
}
STATUS_EXPLANATIONS = {
    "depose": _l("L'équipe a déposé sa demande. Elle n'a pas encore accès aux données."),
    "avis-favorable": _l("Le comité d'éthique et scientifique (CESREES) juge le projet utile et "
                         "sérieux. La CNIL doit encore l'autoriser."),
    "avis-reserves": _l("Le CESREES juge le projet utile, mais demande des changements. La CNIL "
                        "doit encore l'autoriser."),
    "avis-defavorable": _l("Le CESREES juge que le projet ne doit pas avoir accès aux données. "
                           "Le projet ne peut pas continuer ainsi."),
    "autorise": _l("La CNIL a autorisé le projet, ou l'équipe s'est déclarée conforme à une "
                   "méthodologie de référence de la CNIL. Les données vont être préparées."),
    "donnees-disponibles": _l("Les données pseudonymisées sont prêtes dans un espace sécurisé. "
                              "L'équipe peut commencer."),
    "en-cours": _l("L'équipe travaille sur les données."),
    "termine": _l("Le travail sur les données est fini. Les résultats doivent être publiés."),
    "abandonne": _l("Le projet s'est arrêté avant la fin."),
}


class LegalBasis(_Labelled):
    CNIL_AUTHORISATION = "autorisation-cnil"   #: individual CNIL authorisation after CESREES
    MR004 = "mr-004"                           #: MR-004 (research not involving the person)
    MR005 = "mr-005"                           #: MR-005 (PMSI studies by hospitals)
    MR006 = "mr-006"                           #: MR-006 (PMSI studies by manufacturers)
    MR007 = "mr-007"                           #: MR-007 (SNDS sample)
    PUBLIC_MISSION = "mission-publique"        #: a public-interest mission set by law


LegalBasis.LABELS = {  # type: ignore[attr-defined]
    "autorisation-cnil": _l("Autorisation de la CNIL"),
    "mr-004": _l("Méthodologie de référence MR-004"),
    "mr-005": _l("Méthodologie de référence MR-005"),
    "mr-006": _l("Méthodologie de référence MR-006"),
    "mr-007": _l("Méthodologie de référence MR-007"),
    "mission-publique": _l("Mission d'intérêt public prévue par la loi"),
}


class ProcessingLocation(_Labelled):
    PLATFORM = "plateforme"   #: the platform's secure workspace
    ELSEWHERE = "ailleurs"    #: another authorised secure environment


ProcessingLocation.LABELS = {  # type: ignore[attr-defined]
    "plateforme": _l("Espace sécurisé de la plateforme"),
    "ailleurs": _l("Autre environnement sécurisé autorisé"),
}


class ResultKind(_Labelled):
    ARTICLE = "article"
    REPORT = "rapport"
    THESIS = "these"
    CODE = "code"
    DATASET = "jeu-de-donnees"
    ALGORITHM = "algorithme"


ResultKind.LABELS = {  # type: ignore[attr-defined]
    "article": _l("Article scientifique"), "rapport": _l("Rapport"), "these": _l("Thèse"),
    "code": _l("Code source"), "jeu-de-donnees": _l("Jeu de données"),
    "algorithme": _l("Algorithme"),
}

THEMES = {
    "cardiologie": _l("Cardiologie"), "oncologie": _l("Cancers"),
    "pediatrie": _l("Santé des enfants"), "maladies-rares": _l("Maladies rares"),
    "prevention": _l("Prévention"), "sante-environnement": _l("Santé et environnement"),
    "covid-19": _l("COVID-19"), "neurologie": _l("Neurologie"),
    "pharmaco-epidemiologie": _l("Médicaments"), "parcours-de-soins": _l("Parcours de soins"),
    "sante-mentale": _l("Santé mentale"), "diabete": _l("Diabète et maladies chroniques"),
    "vieillissement": _l("Vieillissement"), "perinatalite": _l("Grossesse et naissance"),
}
# The themes that are diseases, with the name of the condition (schema.org MedicalCondition,
# the JSON-LD ``healthCondition`` of a project). The others (prevention, care pathways,
# medicines, children's health, environment, ageing, pregnancy) are subjects, not conditions.
HEALTH_CONDITIONS = {
    "cardiologie": _l("Maladies cardiovasculaires"), "oncologie": _l("Cancers"),
    "maladies-rares": _l("Maladies rares"), "covid-19": _l("COVID-19"),
    "neurologie": _l("Maladies neurologiques"), "sante-mentale": _l("Troubles psychiques"),
    "diabete": _l("Diabète et maladies chroniques"),
}


project_sources = Table(
    "project_sources", Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", ForeignKey("data_sources.id", ondelete="RESTRICT"), primary_key=True),
)
project_funders = Table(
    "project_funders", Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="RESTRICT"),
           primary_key=True),
)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        string_enum(OrganisationKind, "organisation_kind"))
    city: Mapped[str] = mapped_column(String(120), default="")
    # When it was created or its kind or city last changed: pages show both, so the
    # register's validators follow it (``service.last_change``).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    projects: Mapped[list[Project]] = relationship(
        back_populates="sponsor", foreign_keys="Project.sponsor_id")


class DataSource(Base):
    __tablename__ = "data_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SourceKind] = mapped_column(string_enum(SourceKind, "source_kind"))
    holder: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    since_year: Mapped[int | None] = mapped_column(Integer)

    projects: Mapped[list[Project]] = relationship(secondary=project_sources,
                                                   back_populates="sources")


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("objections_applied OR length(objection_exception_reason) > 0",
                        name="exception_reason_required"),
        CheckConstraint("period_end_year IS NULL OR period_start_year IS NULL "
                        "OR period_end_year >= period_start_year", name="period_in_order"),
        CheckConstraint("length(reference) = 13", name="reference_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(13), unique=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    objective: Mapped[str] = mapped_column(Text)
    public_interest: Mapped[str] = mapped_column(Text)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    controller_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    population: Mapped[str] = mapped_column(Text, default="")
    period_start_year: Mapped[int | None] = mapped_column(Integer)
    period_end_year: Mapped[int | None] = mapped_column(Integer)
    uses_ai: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    data_linkage: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_basis: Mapped[LegalBasis] = mapped_column(string_enum(LegalBasis, "legal_basis"))
    commercial: Mapped[bool] = mapped_column(Boolean, default=False)
    processing_location: Mapped[ProcessingLocation] = mapped_column(
        string_enum(ProcessingLocation, "processing_location"))
    processing_location_detail: Mapped[str] = mapped_column(String(300), default="")
    objections_applied: Mapped[bool] = mapped_column(Boolean, default=True)
    objection_exception_reason: Mapped[str] = mapped_column(Text, default="")
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ProjectStatus] = mapped_column(string_enum(ProjectStatus, "project_status"),
                                                  index=True)
    cnil_decision: Mapped[str] = mapped_column(String(60), default="")
    authorised_on: Mapped[date | None] = mapped_column(Date, index=True)
    planned_end: Mapped[date | None] = mapped_column(Date)
    processing_ended_on: Mapped[date | None] = mapped_column(Date)
    objection_deadline: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                 index=True)

    sponsor: Mapped[Organisation] = relationship(foreign_keys=[sponsor_id],
                                                 back_populates="projects")
    controller: Mapped[Organisation | None] = relationship(foreign_keys=[controller_id])
    funders: Mapped[list[Organisation]] = relationship(secondary=project_funders,
                                                       order_by="Organisation.name")
    sources: Mapped[list[DataSource]] = relationship(secondary=project_sources,
                                                     back_populates="projects",
                                                     order_by="DataSource.code")
    status_events: Mapped[list[StatusEvent]] = relationship(
        back_populates="project", order_by="StatusEvent.happened_on, StatusEvent.id",
        cascade="all, delete-orphan")
    results: Mapped[list[Result]] = relationship(
        back_populates="project", order_by="Result.published_on.desc(), Result.id",
        cascade="all, delete-orphan")
    revisions: Mapped[list[ProjectRevision]] = relationship(
        back_populates="project", order_by="ProjectRevision.number",
        cascade="all, delete-orphan")


class StatusEvent(Base):
    __tablename__ = "project_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    status: Mapped[ProjectStatus] = mapped_column(string_enum(ProjectStatus, "event_status"))
    happened_on: Mapped[date] = mapped_column(Date)
    decision_number: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="status_events")


class Result(Base):
    __tablename__ = "project_results"
    __table_args__ = (UniqueConstraint("project_id", "title", name="result_title_per_project"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[ResultKind] = mapped_column(string_enum(ResultKind, "result_kind"))
    title: Mapped[str] = mapped_column(String(400))
    published_on: Mapped[date] = mapped_column(Date)
    url: Mapped[str] = mapped_column(String(500), default="")
    doi: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="results")


class ProjectRevision(Base):
    """One published version of a project: who changed what, when, and the full public state."""

    __tablename__ = "project_revisions"
    __table_args__ = (UniqueConstraint("project_id", "number", name="revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                 index=True)
    author: Mapped[str] = mapped_column(String(120))
    changed_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    snapshot: Mapped[dict] = mapped_column(JSON)

    project: Mapped[Project] = relationship(back_populates="revisions")
