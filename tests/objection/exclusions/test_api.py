"""The platform's API: tokens (unknown or revoked: 401, audited), pulling and acknowledging
lists (the follow-up page then says "Appliquée"), extraction reports (shown at once on the
project's page and on follow-up pages), the cohort check."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.clock import local_today
from core.extensions import db
from objection.exclusions import signing, verifier
from objection.exclusions.models import PlatformExtraction
from objection.models import Objection, ObjectionStatus
from staff.audit import AuditEvent
from tests.objection.exclusions.factories import bearer, file, new_token, pseudonym_of
from tests.objection.factories import file_through_ui, hidden
from tests.registry.factories import make_project

API = "/api/platform/v1"


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.id)))


def _file_and_code(client) -> tuple[str, str]:
    location = file_through_ui(client).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    reference, code = re.findall(r"<strong>([^<]+)</strong>", html)[:2]
    return reference, code


def _followup(client, reference: str, code: str) -> str:
    tokens = hidden(client.get("/opposition/suivi").get_data(as_text=True))
    return client.post("/opposition/suivi", data={"reference": reference, "code": code,
                                                  **tokens}).get_data(as_text=True)


@pytest.fixture
def secret(app) -> str:
    with app.app_context():
        return new_token()


def _actor(app) -> str:
    """``platform:<number>`` of the (one) token of the test (PostgreSQL does not reuse ids)."""
    from objection.exclusions.models import PlatformToken

    with app.app_context():
        return f"platform:{db.session.scalar(select(PlatformToken.id))}"


@pytest.mark.parametrize(("header", "reason"), [
    (None, "missing"), ("Basic abc", "malformed"), ("Bearer hdhp_not-a-real-one", "unknown")])
def test_a_call_without_a_valid_token_gets_401_and_is_audited(app, client, header, reason):
    headers = {"Authorization": header} if header else {}
    response = client.get(f"{API}/exclusions?after=0", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["status"] == 401
    [event] = _events(app, "platform.refused")
    assert (event.actor, event.detail) == ("platform:unknown",
                                           {"reason": reason, "endpoint": "exclusions.next"})


def test_in_production_the_api_answers_only_over_https(app, client, secret):
    app.config["APP_ENV"] = "production"
    response = client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "Cette API n'est servie qu'en HTTPS."
    [event] = _events(app, "platform.refused")
    assert event.detail == {"reason": "not_https", "endpoint": "exclusions.next"}
    assert not _events(app, "exclusions.nothing_new"), "nothing was served"
    secure = client.get(f"{API}/exclusions?after=0", headers=bearer(secret),
                        base_url="https://localhost")
    assert secure.status_code == 204
    assert len(_events(app, "exclusions.nothing_new")) == 1


def test_a_revoked_token_gets_401_and_the_refusal_names_it(app, client, runner, secret):
    assert client.get(f"{API}/exclusions?after=0", headers=bearer(secret)).status_code == 204
    actor = _actor(app)
    number = actor.split(":")[1]
    listed = runner.invoke(args=["platform", "token", "list"])
    assert f"n° {number}  test" in listed.output and "actif" in listed.output
    assert runner.invoke(args=["platform", "token", "revoke", number]).exit_code == 0
    response = client.post(f"{API}/exclusions/1/ack", headers=bearer(secret))
    assert response.status_code == 401
    [event] = _events(app, "platform.refused")
    assert (event.actor, event.detail["reason"]) == (actor, "revoked")
    assert [e.action for e in _events(app, "platform.token_revoked")] == [
        "platform.token_revoked"]


def test_a_token_is_shown_once_and_stored_hashed(app, runner):
    result = runner.invoke(args=["platform", "token", "create", "--name", "production"])
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("hdhp_") and len(secret) > 40
    with app.app_context():
        from objection.exclusions.models import PlatformToken

        token = db.session.scalar(select(PlatformToken))
        assert token.token_hash != secret and secret not in token.token_hash


def test_pull_ack_and_the_follow_up_page_says_applied(app, client, secret, tmp_path):
    reference, code = _file_and_code(client)
    assert "Reçue" in _followup(client, reference, code)
    response = client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    assert response.status_code == 200
    assert response.headers["Exclusion-Kind"] == "full"
    assert response.headers["Exclusion-Sequence"] == "1"
    assert response.headers["Cache-Control"] == "no-store"
    assert int(response.headers["Content-Length"]) == len(response.data)
    # The file as the platform receives it passes the standalone verifier.
    path = tmp_path / "exclusions-00000001-full.txt"
    path.write_bytes(response.data)
    path.with_name(path.name + ".sig").write_text(response.headers["Exclusion-Signature"])
    with app.app_context():
        verifier.check_chain([path], signing.public_key())
    assert "Transmise à la plateforme" in _followup(client, reference, code)
    assert client.get(f"{API}/exclusions?after=1", headers=bearer(secret)).status_code == 204
    response = client.post(f"{API}/exclusions/1/ack", headers=bearer(secret))
    assert response.get_json() == {"sequence": 1, "filings_applied": 1}
    page = _followup(client, reference, code)
    assert "Appliquée par la plateforme" in page
    assert page.count("<li><time") == 3  # received, sent, applied
    assert "Aucune extraction de données n'a encore été faite" in page
    # A second acknowledgement moves nothing; both are audited, like the pulls.
    assert client.post(f"{API}/exclusions/1/ack", headers=bearer(secret)).get_json()[
        "filings_applied"] == 0
    assert [e.detail for e in _events(app, "exclusions.acknowledged")] == [
        {"filings_applied": 1, "more_to_move": False},
        {"filings_applied": 0, "more_to_move": False}]
    assert [e.actor for e in _events(app, "exclusions.pulled")] == [_actor(app)]
    assert len(_events(app, "exclusions.nothing_new")) == 1
    with app.app_context():
        assert db.session.scalar(select(Objection.status)) == ObjectionStatus.APPLIED


def test_unknown_sequences_and_bad_parameters_are_answered_and_audited(app, client, secret):
    assert client.get(f"{API}/exclusions", headers=bearer(secret)).status_code == 400
    assert client.get(f"{API}/exclusions?after=-1", headers=bearer(secret)).status_code == 400
    assert client.get(f"{API}/exclusions?after=7", headers=bearer(secret)).status_code == 409
    assert client.post(f"{API}/exclusions/3/ack", headers=bearer(secret)).status_code == 404
    assert client.get(f"{API}/exclusions/full", headers=bearer(secret)).status_code == 204
    assert [e.detail["status"] for e in _events(app, "exclusions.refused")] == [
        400, 400, 409, 404]


def _report(client, secret, reference="HDH-2024-0001", **body):
    return client.post(f"{API}/projects/{reference}/extractions", headers=bearer(secret),
                       json={"extracted_on": local_today().isoformat(),
                             "exclusion_sequence": 1, **body})


def test_an_extraction_shows_at_once_on_the_project_page_and_the_follow_up(app, client,
                                                                            secret):
    with app.app_context():
        make_project("HDH-2024-0001")
    reference, code = _file_and_code(client)
    page = client.get("/projets/HDH-2024-0001").get_data(as_text=True)  # kept by the cache
    assert "aucune extraction de données pour ce projet" in page
    client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    response = _report(client, secret)
    assert response.status_code == 201
    assert _report(client, secret).status_code == 200  # the same report again: recorded once
    page = client.get("/projets/HDH-2024-0001").get_data(as_text=True)
    today = local_today()
    assert re.search(r"Données extraites le \S+ \S+ \d{4} en appliquant les oppositions "
                     r"reçues jusqu'au \S+ \S+ \d{4}", page), page
    english = client.get("/en/projets/HDH-2024-0001").get_data(as_text=True)
    assert "Data extracted on" in english
    followup = _followup(client, reference, code)
    assert "Les extractions qui ont appliqué votre opposition" in followup
    assert 'href="/projets/HDH-2024-0001"' in followup
    with app.app_context():
        assert db.session.scalar(select(PlatformExtraction.extracted_on)) == today
    [event] = [e for e in _events(app, "platform.extraction_reported") if e.detail["new"]]
    assert event.target == "project:HDH-2024-0001" and event.actor == _actor(app)


@pytest.mark.parametrize(("reference", "body", "status"), [
    ("HDH-2024-0009", {}, 404),
    ("pas-une-reference", {}, 404),
    ("HDH-2024-0001", {"exclusion_sequence": 5}, 422),
    ("HDH-2024-0001", {"extracted_on": "2099-01-01"}, 422),
    ("HDH-2024-0001", {"extracted_on": "hier"}, 400),
    ("HDH-2024-0001", {"exclusion_sequence": "1"}, 400),
    ("HDH-2024-0001", {"exclusion_sequence": True}, 400),
])
def test_a_wrong_extraction_report_is_refused_with_a_reason(app, client, secret, reference,
                                                             body, status):
    with app.app_context():
        make_project("HDH-2024-0001")
        file(1)
        db.session.commit()
    client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    response = _report(client, secret, reference, **body)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    [event] = _events(app, "platform.extraction_refused")
    assert event.detail["status"] == status


def test_the_cohort_check_names_who_to_remove_for_a_project(app, client, secret):
    with app.app_context():
        make_project("HDH-2024-0001")
        make_project("HDH-2024-0002")
        file(1)
        file(2, project="HDH-2024-0001")
        file(3, project="HDH-2024-0002")
        db.session.commit()
        cohort = [pseudonym_of(n) for n in (4, 3, 2, 1, 2)]
    response = client.post(f"{API}/projects/HDH-2024-0001/cohort-check",
                           headers=bearer(secret), data="\r\n".join(cohort) + "\r\n",
                           content_type="text/plain")
    assert response.status_code == 200, response.data
    header, body = response.get_data(as_text=True).split("\n\n")
    assert "sequence: 1" in header and "checked: 5" in header and "to-remove: 3" in header
    assert body.splitlines() == [cohort[2], cohort[3], cohort[4]]  # in the order received
    assert response.headers["Exclusion-Sequence"] == "1"
    [event] = _events(app, "platform.cohort_checked")
    assert event.detail == {"sequence": 1, "checked": 5, "to_remove": 3}
    bad = client.post(f"{API}/projects/HDH-2024-0001/cohort-check", headers=bearer(secret),
                      data=cohort[0] + "\n1850375056123\n", content_type="text/plain")
    assert bad.status_code == 400 and "ligne 2" in bad.get_json()["error"]["message"]
    unknown = client.post(f"{API}/projects/HDH-2024-0404/cohort-check", headers=bearer(secret),
                          data=cohort[0], content_type="text/plain")
    assert unknown.status_code == 404


def test_the_signing_key_is_published(app, client):
    response = client.get(f"{API}/signing-key")
    with app.app_context():
        assert response.get_data(as_text=True) == signing.public_key_pem()
        assert response.headers["Signing-Key"] == signing.key_fingerprint()


def test_a_cohort_bigger_than_the_site_limit_is_read(app, client, secret):
    """A cohort is not limited by the site's 12 MB body limit (its own is 700 MB)."""
    with app.app_context():
        make_project("HDH-2024-0001")
        file(1)
        db.session.commit()
        wanted = pseudonym_of(1)
    filler = ("c" * 64 + "\n") * 200_000  # 13 MB
    response = client.post(f"{API}/projects/HDH-2024-0001/cohort-check",
                           headers=bearer(secret), data=filler + wanted + "\n",
                           content_type="text/plain")
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith(wanted + "\n")


def test_a_project_page_of_an_exempt_project_says_nothing_of_extractions(app, client):
    with app.app_context():
        make_project("HDH-2024-0003", objections_applied=False,
                     objection_exception_reason="Recherche prévue par la loi.")
    page = client.get("/projets/HDH-2024-0003").get_data(as_text=True)
    assert "Extractions de données et oppositions" not in page


def test_extractions_older_than_the_filing_are_not_listed(app, client, secret):
    with app.app_context():
        make_project("HDH-2024-0001")
        file(9)
        db.session.commit()
    client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    assert _report(client, secret).status_code == 201
    reference, code = _file_and_code(client)
    client.get(f"{API}/exclusions?after=1", headers=bearer(secret))
    page = _followup(client, reference, code)
    assert "Aucune extraction de données n'a encore été faite" in page  # list 1 predates it
    assert _report(client, secret, exclusion_sequence=2).status_code == 201
    assert 'href="/projets/HDH-2024-0001"' in _followup(client, reference, code)
    assert date.today() - timedelta(days=1) < local_today() + timedelta(days=1)


def test_a_first_list_too_big_for_a_request_is_left_to_the_command(app, client, runner,
                                                                     secret, monkeypatch):
    from objection.exclusions import delivery

    monkeypatch.setattr(delivery, "REQUEST_REBASE", 1)
    with app.app_context():
        file(1)
        file(2)
        db.session.commit()
    response = client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    assert response.status_code == 503 and response.headers["Retry-After"] == "600"
    assert "flask objection export" in response.get_json()["error"]["message"]
    assert runner.invoke(args=["objection", "export", "--out", app.instance_path]
                         ).exit_code == 0
    response = client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    assert response.status_code == 200 and response.headers["Exclusion-Kind"] == "full"


def test_status_moves_past_a_request_are_finished_by_the_command(app, client, runner,
                                                                  secret, monkeypatch):
    from objection.exclusions import delivery

    monkeypatch.setattr(delivery, "REQUEST_MOVES", 2)
    monkeypatch.setattr(delivery, "MOVE_BATCH", 2)
    with app.app_context():
        for person in range(5):
            file(person)
        db.session.commit()
    client.get(f"{API}/exclusions?after=0", headers=bearer(secret))
    [pulled] = _events(app, "exclusions.pulled")
    assert pulled.detail["filings_sent"] == 2 and pulled.detail["more_to_move"] is True
    client.post(f"{API}/exclusions/1/ack", headers=bearer(secret))

    def statuses() -> list[str]:
        with app.app_context():
            return sorted(str(s) for s in db.session.scalars(select(Objection.status)))

    assert statuses().count("applied") == 2
    result = runner.invoke(args=["objection", "export", "--out", app.instance_path])
    assert "3 demande(s) passée(s)" in result.output
    assert statuses() == ["applied"] * 5


@pytest.mark.parametrize("path", [
    "/exclusions?after=%C2%B2", "/exclusions?after=1850375056123",
    "/exclusions/1850375056123/ack", "/exclusions/99999999999999999999999/ack",
    "/projects/1850375056123/extractions", "/projects/%00/cohort-check",
    "/projects/HDH-2024-0001/extractions"])
def test_odd_requests_get_an_answer_never_a_500(app, client, secret, path):
    method = client.get if "?" in path else client.post
    response = method(f"{API}{path}", headers=bearer(secret), data=b"\xff\xfe",
                      content_type="application/json")
    assert 400 <= response.status_code < 500, (path, response.status_code)


def test_the_full_list_is_served_signed_and_carries_the_audit_chains_head(app, client, secret,
                                                                           tmp_path):
    with app.app_context():
        for person in (1, 2, 3):
            file(person)
        db.session.commit()
    response = client.get(f"{API}/exclusions/full", headers=bearer(secret))
    assert response.status_code == 200
    assert response.headers["Exclusion-Kind"] == "full"
    text = response.get_data(as_text=True)
    header_lines, _, body = text.partition("\n\n")
    header = verifier.parse_header([*header_lines.splitlines(), ""])
    assert header.kind == "full" and header.lines == 3 == len(body.splitlines())
    # The header's audit head is the chain's head when the list was made: the row that
    # records this very list, with its hash. The platform keeps it as an outside copy.
    with app.app_context():
        row = db.session.get(AuditEvent, header.audit_last_id)
        assert (row.action, row.target) == ("exclusions.generated",
                                            f"exclusions:{header.sequence}")
        assert header.audit_last_hash == verifier.to_modhex(row.hash)
    path = tmp_path / f"exclusions-{header.sequence:08d}-full.txt"
    path.write_bytes(response.data)
    path.with_name(path.name + ".sig").write_text(response.headers["Exclusion-Signature"])
    with app.app_context():
        verifier.check_chain([path], signing.public_key())
