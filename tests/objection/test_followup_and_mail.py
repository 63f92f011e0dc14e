"""Follow-up, withdrawal, lock-out, mail delivery through a real SMTP server, rate limits."""

from __future__ import annotations

import os
import re
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from objection import service
from objection.models import Objection, ObjectionStatus, OutboxMail
from tests.conftest import IN_CI, make_test_app
from tests.objection.factories import file_through_ui, form_values, hidden
from website.extensions import db


def _file(client, prefix=""):
    location = file_through_ui(client, prefix=prefix).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    reference, code = re.findall(r"<strong>([^<]+)</strong>", html)[:2]
    return reference, code


def _lookup(client, reference, code, **extra):
    tokens = hidden(client.get("/opposition/suivi").get_data(as_text=True))
    return client.post("/opposition/suivi", data={"reference": reference, "code": code,
                                                  **tokens, **extra})


def test_follow_up_shows_status_dates_and_deadline(client):
    reference, code = _file(client)
    response = _lookup(client, reference.lower().replace("-", " "), code.lower())
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert reference in html and "Reçue" in html
    assert "Réponse au plus tard le" in html
    assert "toutes les extractions de données faites après elle" in html


def test_unknown_reference_and_wrong_code_look_the_same(client):
    reference, _ = _file(client)
    wrong_code = _lookup(client, reference, "AAAA-AAAA-AAAA").get_data(as_text=True)
    unknown = _lookup(client, "OPP-0000-0000-0", "AAAA-AAAA-AAAA").get_data(as_text=True)
    message = "Référence ou code de suivi incorrect"
    assert message in wrong_code and message in unknown


def test_reference_check_character_catches_typos():
    reference = service.new_reference()
    assert service.normalise_reference(reference) == reference
    body = reference.replace("-", "")[3:11]
    swapped = body[1] + body[0] + body[2:]
    if swapped != body:
        assert service.normalise_reference(f"OPP-{swapped[:4]}-{swapped[4:]}-"
                                           f"{reference[-1]}") is None


def test_lockout_after_repeated_wrong_codes(app, client):
    reference, code = _file(client)
    for _ in range(service.MAX_FAILED_LOOKUPS - 1):
        _lookup(client, reference, "AAAA-AAAA-AAAA")
    locked = _lookup(client, reference, "AAAA-AAAA-AAAA")
    assert locked.status_code == 429 and "30 minutes" in locked.get_data(as_text=True)
    # even the right code waits now
    assert _lookup(client, reference, code).status_code == 429


def test_withdrawal_is_confirmed_audited_and_mailed(app, client):
    reference, code = _file(client)
    confirm = _lookup(client, reference, code, action="retirer")
    assert "Voulez-vous vraiment retirer" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Objection.status)) == "received"
    done = _lookup(client, reference, code, action="confirmer-retrait")
    assert "Retirée" in done.get_data(as_text=True)
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.status == ObjectionStatus.WITHDRAWN
        assert [e.action for e in objection.events] == ["filed", "withdrawn"]
        kinds = list(db.session.scalars(select(OutboxMail.kind).order_by(OutboxMail.id)))
        assert kinds == ["receipt", "withdrawal"]


def test_withdrawal_through_a_linked_filing_goes_to_review(app, client):
    _file(client)  # the person's own objection
    stranger = app.test_client()
    reference, code = _file(stranger)  # someone else knows the NIR
    _lookup(stranger, reference, code, action="confirmer-retrait")
    with app.app_context():
        first, second = db.session.scalars(select(Objection).order_by(Objection.id))
        assert first.status == ObjectionStatus.RECEIVED  # still in force
        assert second.status == ObjectionStatus.WITHDRAWAL_REQUESTED


def test_development_mails_are_files(app, client):
    _file(client)
    files = list((__import__("pathlib").Path(app.config["MAIL_OUTBOX_DIR"])).glob("*.eml"))
    assert len(files) == 1
    content = files[0].read_text()
    assert "Accusé de réception" in content or "Accus=C3=A9" in content


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.mark.smtp
def test_real_smtp_delivery_and_retry_after_an_outage(database_url, tmp_path):
    port = _free_port()
    app = make_test_app(database_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                        MAIL_TIMEOUT=2)
    client = app.test_client()
    _file(client)  # the server is down: the objection is kept, the mail waits
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail))
        assert mail.sent_at is None and mail.attempts == 1 and mail.last_error
        assert mail.next_attempt_at > datetime.now(UTC)
        assert db.session.scalar(select(Objection.status)) == "received"
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        runner = app.test_cli_runner()
        early = runner.invoke(args=["outbox", "send"])  # backoff not over: nothing sent
        assert "0 courriel(s) envoyé(s)" in early.output
        with app.app_context():
            mail = db.session.scalar(select(OutboxMail))
            mail.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            db.session.commit()
        result = runner.invoke(args=["outbox", "send"])
        assert "1 courriel(s) envoyé(s)" in result.output, result.output
        deadline = time.monotonic() + 5
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["philomene@exemple.fr"]
    body = envelope.content.decode()
    assert "OPP-" in body and "Zorglubienne" not in body
    assert form_values()["nir"] not in body
    with app.app_context():
        assert db.session.scalar(select(OutboxMail.sent_at)) is not None
    app.extensions["database"]["engine"].dispose()


def test_backoff_grows_and_is_capped():
    from objection.mail import MAX_BACKOFF, backoff

    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30) == MAX_BACKOFF


def _limited_app(database_url, tmp_path, **config):
    return make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True, **config)


def test_filing_is_rate_limited_with_a_french_page(database_url, tmp_path):
    app = _limited_app(database_url, tmp_path)
    client = app.test_client()
    statuses = []
    for _ in range(12):
        tokens = hidden(client.get("/opposition").get_data(as_text=True))
        statuses.append(client.post("/opposition", data={**form_values(consent=""),
                                                         **tokens}).status_code)
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    page = client.post("/opposition", data={}).get_data(as_text=True)
    assert "Trop de demandes" in page
    app.extensions["database"]["engine"].dispose()


def test_follow_up_is_rate_limited(database_url, tmp_path):
    app = _limited_app(database_url, tmp_path)
    client = app.test_client()
    codes = [_lookup(client, "OPP-0000-0000-0", "X").status_code for _ in range(11)]
    assert codes[-1] == 429
    app.extensions["database"]["engine"].dispose()


def test_forged_forwarded_for_does_not_reset_the_limit(database_url, tmp_path):
    app = _limited_app(database_url, tmp_path, PROXY_COUNT=0)
    client = app.test_client()
    codes = [client.post("/opposition/suivi", data={},
                         headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
             for i in range(11)]
    assert codes[-1] == 429
    app.extensions["database"]["engine"].dispose()


def test_behind_one_proxy_the_last_hop_is_the_client(database_url, tmp_path):
    app = _limited_app(database_url, tmp_path, PROXY_COUNT=1)
    client = app.test_client()
    # The client forges the first entries; the proxy appends the real address last.
    codes = [client.post("/opposition/suivi", data={},
                         headers={"X-Forwarded-For": f"6.6.6.{i}, 203.0.113.7"}).status_code
             for i in range(11)]
    assert codes[-1] == 429
    other = client.post("/opposition/suivi", data={},
                        headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code != 429
    app.extensions["database"]["engine"].dispose()


@pytest.mark.redis
def test_rate_limits_in_redis(database_url, tmp_path):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        connection = redis.Redis.from_url(url, socket_connect_timeout=1)
        connection.ping()
        connection.flushdb()
    except Exception as exc:
        message = f"Redis needed but unreachable at {url}: {exc}"
        if IN_CI:
            pytest.fail(message + " — CI must not skip this test", pytrace=False)
        pytest.skip(message)
    app = _limited_app(database_url, tmp_path, RATELIMIT_STORAGE_URI=url)
    client = app.test_client()
    codes = [client.post("/opposition/suivi", data={}).status_code for _ in range(11)]
    assert codes[-1] == 429
    assert connection.keys("LIMITS*"), "no rate-limit key in Redis"
    connection.flushdb()
    app.extensions["database"]["engine"].dispose()


def test_statistics_suppress_small_cells(app, client):
    for index in range(11):
        other = app.test_client()
        file_through_ui(other, email=f"p{index}@exemple.fr")
    with app.app_context():
        stats = service.public_statistics(db.session)
    assert stats["total"] is None  # only one person (linked filings are not counted twice)
    html = client.get("/statistiques").get_data(as_text=True)
    assert "moins de 10" in html
