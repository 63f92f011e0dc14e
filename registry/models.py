"""Tables of the public register: organisations, data sources, projects, their status steps,
results and revisions. Only ``registry.service`` writes them; the codes they hold are in
``registry.codes``."""

from __future__ import annotations

from datetime import date, datetime

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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.database import Base, UTCDateTime, string_enum
from registry.codes import (
    LegalBasis,
    OrganisationKind,
    ProcessingLocation,
    ProjectStatus,
    ResultKind,
    SourceKind,
)

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
    # Shown to the public: pages, search, exports, sitemap, figures. A project created in the
    # back-office is a draft (False) until an editor publishes it; unpublishing hides it again.
    published: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(),
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


class RegistryState(Base):
    """One row: the register's version, moved by every write that changes what a page shows
    (a project's version, an organisation, the data sources), in the same transaction. Every
    cached page and every validator of the register follows it: one primary-key read tells
    whether anything changed."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The latest moment a change was dated (a revision's or an organisation's date): the
    # Last-Modified of the register's responses.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
