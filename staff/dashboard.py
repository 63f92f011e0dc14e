"""The dashboard (numbers only, for every member of staff) and the audit trail's page (for
administrators). The dashboard's sections come from the packages that own the figures
(``add_dashboard_section``: the register's and the objections' back-offices), so staff knows
neither; none shows a name, an address or any other personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from core.clock import start_of_local_day
from core.extensions import db
from staff import audit, auth
from staff.models import Role
from staff.views import bp

# (render, roles): render() returns the section's HTML; roles: who sees it (empty: everyone).
SECTIONS: list[tuple[Callable[[], Markup], tuple[str, ...]]] = []
PAGE_SIZE = 50


def add_dashboard_section(render: Callable[[], Markup], roles: tuple[str, ...] = ()) -> None:
    if all(existing[0] is not render for existing in SECTIONS):
        SECTIONS.append((render, roles))


@bp.route("/tableau-de-bord")
@auth.require_role()
def dashboard():
    user = auth.current_staff()
    sections = [render() for render, roles in SECTIONS if not roles or user.has_role(*roles)]
    return render_template("staff/dashboard.html", sections=sections)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _why(reason: str) -> str:
    """``audit.verify``'s reason, in French."""
    if "edited" in reason:
        return _("son contenu ne correspond plus à son empreinte : il a été modifié")
    if "link" in reason:
        return _("son lien avec l'événement précédent ne correspond pas")
    if "missing" in reason or "checkpoint" in reason:
        return _("des événements manquent avant lui")
    if "head" in reason:
        return _("la tête de la chaîne ne correspond pas au dernier événement")
    return reason


@bp.route("/journal")
@auth.require_role(Role.ADMIN)
def journal():
    """The audit trail, newest first, filtered by action, actor, target and dates, in pages
    (``avant``: the last id shown); ``verifier=1`` recomputes the chain of hashes."""
    args = request.args
    action = args.get("action", "")[:60]
    actor = args.get("acteur", "").strip()[:80]
    target = args.get("cible", "").strip()[:80]
    errors: dict[str, str] = {}
    since, until = _day(args.get("du", "")[:10]), _day(args.get("au", "")[:10])
    if args.get("du") and since is None:
        errors["du"] = _("Saisissez une date, par exemple 2026-03-16.")
    if args.get("au") and until is None:
        errors["au"] = _("Saisissez une date, par exemple 2026-03-16.")
    before = args.get("avant", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    events = audit.recent(
        db.session, action=action or None, actor=actor or None, target=target or None,
        since=start_of_local_day(since) if since else None,
        until=start_of_local_day(until) if until else None,
        limit=PAGE_SIZE + 1, before_id=before_id)
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    actions = sorted(db.session.scalars(select(audit.AuditEvent.action).distinct()))
    check = audit.verify(db.session) if args.get("verifier") == "1" else None
    reason = _why(check.reason) if check is not None and not check.ok else ""
    return render_template(
        "staff/journal.html", events=events, actions=actions, action=action, actor=actor,
        target=target, since=args.get("du", "")[:10], until=args.get("au", "")[:10],
        errors=errors, more=more, check=check, reason=reason, head=audit.head(db.session),
        next_before=events[-1].id if events and more else None), \
        400 if errors else 200
