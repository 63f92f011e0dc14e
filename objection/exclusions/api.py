"""The data platform's API, ``/api/platform/v1`` (docs/exclusion-format.md, "API").

* ``GET  /exclusions?after=SEQ``            the file after SEQ (a delta; a full export after a
                                              rebase), or 204 when nothing changed
* ``GET  /exclusions/full``                  the full set at the latest sequence
* ``POST /exclusions/SEQ/ack``               the platform applied the set up to SEQ
* ``POST /projects/REF/extractions``         an extraction made for a project, with the list
                                              it applied (JSON: ``extracted_on``,
                                              ``exclusion_sequence``)
* ``POST /projects/REF/cohort-check``        which of a cohort (pseudonyms, one per line) to
                                              remove for a project
* ``GET  /signing-key``                      the public key that signs the files (PEM; no token)

Every call but the public key's needs a bearer token (``flask platform token create``) and is
recorded in the audit trail, accepted or refused (a refused one with the reason, never the
token). Production answers 403 over plain HTTP. Each transaction starts by taking the
exclusion state or the audit chain (a write first, so SQLite never has to upgrade a stale
read), and the file is sent after the commit, streamed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    request,
    stream_with_context,
)
from werkzeug.exceptions import RequestEntityTooLarge

from core.clock import utcnow
from core.extensions import csrf, db, limiter
from objection.exclusions import cohort, delivery, exports, extractions, signing, state, tokens
from objection.exclusions.delivery import Served, UnknownSequence
from objection.exclusions.exports import ExportGone
from objection.exclusions.models import PlatformToken
from registry.queries import project_for_objection
from staff import audit

bp = Blueprint("platform_api", __name__, url_prefix="/api/platform/v1")
csrf.exempt(bp)  # no cookie, no form: a bearer token on every call
limiter.limit("600 per minute")(bp)
# A cohort of 10 million pseudonyms (65 bytes a line) at most.
COHORT_MAX_BYTES = 700 * 1024 * 1024


def _error(status: int, message: str, **headers: str) -> Response:
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def platform_call(endpoint: str) -> Callable:
    """Authenticate the bearer token, audit a refusal; the view runs with ``g.platform_actor``
    and records its own audit event in its transaction."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            if current_app.config.get("APP_ENV") == "production" and not request.is_secure:
                # Refused before the token is even read: it crossed the network in clear and
                # the audit says so, for the platform's operators to replace it.
                audit.record(db.session, "platform.refused", actor="platform:unknown",
                             detail={"reason": "not_https", "endpoint": endpoint})
                db.session.commit()
                return _error(403, "Cette API n'est servie qu'en HTTPS.")
            found = tokens.authenticate(db.session, request.headers.get("Authorization"))
            db.session.commit()  # the read ends here: the next transaction writes first
            if found.refusal:
                audit.record(db.session, "platform.refused", actor=found.actor,
                             detail={"reason": found.refusal, "endpoint": endpoint})
                db.session.commit()
                return _error(401, "Jeton absent, inconnu ou révoqué.",
                              **{"WWW-Authenticate": 'Bearer realm="hdh-platform", '
                                                     'error="invalid_token"'})
            g.platform_actor = found.actor
            g.platform_token_id = found.token.id if found.token else None
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _touch() -> None:
    """The token was used now (in the view's transaction, after its first write)."""
    token = db.session.get(PlatformToken, g.platform_token_id)
    if token is not None:
        token.last_used_at = utcnow()


def _refused(action: str, status: int, message: str, **detail: object) -> Response:
    db.session.rollback()
    audit.record(db.session, action, actor=g.platform_actor, detail={"status": status,
                                                                     **detail})
    db.session.commit()
    return _error(status, message)


def _unavailable(action: str, problem: Exception) -> Response:
    """503 while the set cannot be published from a request: a key rotation not finished, or
    a first full export too big for one (``flask objection export`` makes it)."""
    if isinstance(problem, state.RotationIncomplete):
        message = "Changement de clé de pseudonymisation en cours : réessayez plus tard."
        detail: dict[str, object] = {"filings_waiting": problem.count}
    else:
        message = ("La liste complète est en préparation (flask objection export) : "
                   "réessayez plus tard.")
        detail = {"reason": "rebase"}
    response = _refused(action, 503, message, **detail)
    response.headers["Retry-After"] = "600"
    return response


def _file_response(served: Served) -> Response:
    export = served.export

    def body():
        try:
            yield from exports.file_chunks(db.session, export, served.spooled)
        finally:
            served.close()

    response = Response(stream_with_context(body()), mimetype="text/plain")
    response.charset = "us-ascii"
    response.headers.update({
        "Content-Length": str(exports.file_size(export)),
        "Content-Disposition": f'attachment; filename="{exports.file_name(export.sequence, export.kind)}"',  # noqa: E501
        "Exclusion-Sequence": str(export.sequence),
        "Exclusion-Previous": str(export.previous_sequence),
        "Exclusion-Kind": export.kind,
        "Exclusion-Signature": f"ed25519 {export.signing_key} {export.signature}",
        "Cache-Control": "no-store",
    })
    return response


@bp.get("/signing-key")
def signing_key() -> Response:
    """The public key the files are signed with (pin it out of band: this copy only helps)."""
    response = Response(signing.public_key_pem(), mimetype="application/x-pem-file")
    response.headers["Signing-Key"] = signing.key_fingerprint()
    return response


@bp.get("/exclusions")
@platform_call("exclusions.next")
def next_file() -> Response:
    raw = request.args.get("after", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        return _refused("exclusions.refused", 400,
                        "Le paramètre « after » (dernier numéro appliqué, 0 au départ) est "
                        "obligatoire et doit être un entier positif ou nul.")
    after, now = int(raw), utcnow()
    try:
        served = delivery.next_after(db.session, after, now=now, actor=g.platform_actor,
                                     max_rebase=delivery.REQUEST_REBASE)
    except UnknownSequence:
        return _refused("exclusions.refused", 409, "Ce numéro de liste n'a jamais été publié.",
                        after=after)
    except ExportGone:
        return _refused("exclusions.refused", 410,
                        "Cette liste n'est plus conservée : repartez de la liste complète "
                        "(/exclusions/full).", after=after)
    except (state.RotationIncomplete, delivery.RebaseTooBig) as problem:
        return _unavailable("exclusions.refused", problem)
    _touch()
    if served is None:
        audit.record(db.session, "exclusions.nothing_new", actor=g.platform_actor,
                     target=f"exclusions:{after}", at=now)
        db.session.commit()
        response = Response(status=204)
        response.headers["Cache-Control"] = "no-store"
        return response
    delivery.mark_pulled(db.session, served.export, now=now, actor=g.platform_actor,
                         limit=delivery.REQUEST_MOVES)
    db.session.commit()
    return _file_response(served)


@bp.get("/exclusions/full")
@platform_call("exclusions.full")
def full_file() -> Response:
    now = utcnow()
    try:
        served = delivery.full(db.session, now=now, actor=g.platform_actor,
                               max_rebase=delivery.REQUEST_REBASE)
    except (state.RotationIncomplete, delivery.RebaseTooBig) as problem:
        return _unavailable("exclusions.refused", problem)
    _touch()
    if served is None:
        audit.record(db.session, "exclusions.nothing_new", actor=g.platform_actor,
                     target="exclusions:0", at=now)
        db.session.commit()
        return Response(status=204, headers={"Cache-Control": "no-store"})
    delivery.mark_pulled(db.session, served.export, now=now, actor=g.platform_actor,
                         limit=delivery.REQUEST_MOVES)
    db.session.commit()
    return _file_response(served)


@bp.post("/exclusions/<int:sequence>/ack")
@platform_call("exclusions.ack")
def acknowledge(sequence: int) -> Response:
    now = utcnow()
    try:
        moved = delivery.acknowledge(db.session, sequence, now=now, actor=g.platform_actor,
                                     limit=delivery.REQUEST_MOVES)
    except UnknownSequence:
        # A number of 13 digits or more is never a sequence, and could look like a NIR in
        # the audit trail (which refuses that shape): left out.
        return _refused("exclusions.refused", 404, "Ce numéro de liste n'a jamais été publié.",
                        **({"sequence": sequence} if sequence < 10**12 else {}))
    _touch()
    db.session.commit()
    return jsonify(sequence=sequence, filings_applied=moved)


def _reference_or_none(reference: str) -> str | None:
    project = project_for_objection(db.session, reference)
    return project.reference if project is not None else None


@bp.post("/projects/<reference>/extractions")
@platform_call("projects.extractions")
def report_extraction(reference: str) -> Response:
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    raw_date, raw_sequence = payload.get("extracted_on"), payload.get("exclusion_sequence")
    try:
        extracted_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        extracted_on = None
    if extracted_on is None or not isinstance(raw_sequence, int) or isinstance(
            raw_sequence, bool):
        return _refused("platform.extraction_refused", 400,
                        "Envoyez un objet JSON avec « extracted_on » (AAAA-MM-JJ) et "
                        "« exclusion_sequence » (entier).")
    now = utcnow()
    state.lock(db.session)
    try:
        extraction, new = extractions.report(db.session, reference, extracted_on,
                                             raw_sequence, actor=g.platform_actor, now=now)
    except extractions.ReportRefused as refusal:
        return _refused("platform.extraction_refused", refusal.status, str(refusal),
                        project=_reference_or_none(reference) or "inconnu")
    _touch()
    db.session.commit()
    assert extraction is not None
    response = jsonify(project=extraction.project_reference,
                       extracted_on=extraction.extracted_on.isoformat(),
                       exclusion_sequence=extraction.exclusion_sequence)
    response.status_code = 201 if new else 200
    return response


@bp.url_value_preprocessor
def _cohort_limit(endpoint: str | None, _values: dict | None) -> None:
    """A cohort is a big body: its route alone reads up to ``COHORT_MAX_BYTES``."""
    if endpoint == "platform_api.cohort_check":
        request.max_content_length = COHORT_MAX_BYTES


@bp.post("/projects/<reference>/cohort-check")
@platform_call("projects.cohort_check")
def cohort_check(reference: str) -> Response:
    now = utcnow()
    the_state = state.lock(db.session)
    project = project_for_objection(db.session, reference)
    if project is None:
        return _refused("platform.cohort_refused", 404, "Projet inconnu du registre.")
    if not project.objections_applied:
        return _refused("platform.cohort_refused", 422,
                        "Les oppositions ne s'appliquent pas à ce projet (exception prévue "
                        "par la loi).", project=project.reference)
    try:
        made = delivery.bring_up_to_date(db.session, the_state, now=now,
                                         actor=g.platform_actor,
                                         max_rebase=delivery.REQUEST_REBASE)
    except (state.RotationIncomplete, delivery.RebaseTooBig) as problem:
        return _unavailable("platform.cohort_refused", problem)
    if made is not None:
        made.close()
    sequence, key_id = the_state.last_sequence, the_state.key_id
    db.session.commit()  # the set at ``sequence`` never changes: read it without the lock
    try:
        answer = cohort.check(db.session, project.reference, cohort.lines_of(request.stream),
                              sequence=sequence, key_id=key_id)
    except cohort.CohortError as problem:
        return _refused("platform.cohort_refused", 400, str(problem),
                        project=project.reference)
    except RequestEntityTooLarge:
        return _refused("platform.cohort_refused", 413,
                        "Cohorte trop grande : 10 millions de pseudonymes au plus par envoi.",
                        project=project.reference)
    db.session.rollback()  # the reads end: the next transaction writes first
    audit.record(db.session, "platform.cohort_checked", actor=g.platform_actor,
                 target=f"project:{project.reference}", at=now,
                 detail={"sequence": sequence, "checked": answer.checked,
                         "to_remove": answer.to_remove})
    _touch()
    db.session.commit()
    response = Response(stream_with_context(answer.chunks()), mimetype="text/plain")
    response.charset = "us-ascii"
    response.headers.update({"Exclusion-Sequence": str(sequence), "Cache-Control": "no-store"})
    return response
