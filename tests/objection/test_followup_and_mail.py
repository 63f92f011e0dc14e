"""Follow-up, withdrawal, lock-out, mail delivery through a real SMTP server, rate limits."""

from __future__ import annotations

import os
import re
import socket
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.extensions import db
from objection import followup, queries, references, service, statistics
from objection.models import Objection, ObjectionStatus, OutboxMail
from tests.conftest import make_test_app
from tests.objection.factories import file_through_ui, form_values, hidden


@pytest.fixture
def configured_app(database_url, tmp_path):
    """Build an app with extra settings; its tables are emptied afterwards like ``app``'s."""
    from tests.conftest import _empty_tables

    built = []

    def build(**config):
        application = make_test_app(database_url, tmp_path, **config)
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["database"]["engine"].dispose()
    _empty_tables(database_url)


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
    reference = references.new_reference()
    assert references.normalise_reference(reference) == reference
    body = reference.replace("-", "")[3:11]
    swapped = body[1] + body[0] + body[2:]
    if swapped != body:
        assert references.normalise_reference(f"OPP-{swapped[:4]}-{swapped[4:]}-"
                                           f"{reference[-1]}") is None


def test_lockout_after_repeated_wrong_codes(app, client):
    reference, code = _file(client)
    for _ in range(followup.MAX_FAILED_LOOKUPS - 1):
        _lookup(client, reference, "AAAA-AAAA-AAAA")
    locked = _lookup(client, reference, "AAAA-AAAA-AAAA")
    assert locked.status_code == 429 and "30 minutes" in locked.get_data(as_text=True)
    # even the right code waits now
    assert _lookup(client, reference, code).status_code == 429


def test_wrong_codes_sent_at_the_same_time_all_count_towards_the_lockout(app):
    """Each request reads the objection before any of them writes (a burst of guesses): each
    wrong code must still count, so the fifth one locks the reference."""
    from objection.identity import parse_nir
    from objection.models import Filer, Scope
    from tests.objection.factories import make_nir

    with app.app_context():
        filing = service.file_objection(db.session, service.FilingInput(
            filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
            nir=parse_nir(make_nir()), birth_name="X", first_names="Y",
            birth_date=date(1985, 3, 14), sex="F", email="p@exemple.fr"), form_token="t")
        db.session.commit()
        reference, code = filing.objection.reference, filing.followup_code
        sessions = [db.new_session() for _ in range(followup.MAX_FAILED_LOOKUPS)]
        # every request has read the objection, its counter at 0, before any of them writes
        read = [session.scalar(select(Objection)) for session in sessions]
        assert [objection.failed_lookups for objection in read] == [0] * len(sessions)
        outcomes = []
        for session in sessions:
            try:
                outcomes.append(followup.find_for_followup(session, reference, "AAAA-AAAA-AAAA"))
            except followup.FollowUpLocked:
                outcomes.append("locked")
            session.commit()
            session.close()
        assert outcomes == [None] * (followup.MAX_FAILED_LOOKUPS - 1) + ["locked"]
        db.session.expire_all()
        with pytest.raises(followup.FollowUpLocked):  # even the right code waits now
            followup.find_for_followup(db.session, reference, code)
        events = [e.action for e in db.session.scalar(select(Objection)).events]
        assert events.count("followup_locked") == 1


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


def _shape(html: str) -> str:
    """A page with what differs between any two filings (reference, code, dates) blanked."""
    html = re.sub(r"OPP-[0-9A-Z-]+", "REF", html)
    html = re.sub(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", "CODE", html)
    html = re.sub(r'<time datetime="[^"]+">[^<]+</time>', "TIME", html)
    html = re.sub(r"\d{1,2}(?:er)? \w+ \d{4}( à [\d:]+ UTC| [\d:]+)?", "DATE", html)
    return re.sub(r'value="[^"]+"', "", html)


def test_withdrawing_a_linked_filing_looks_the_same_and_lifts_nothing(app, client):
    reference_1, code_1 = _file(client)  # the person's own objection
    stranger = app.test_client()
    reference_2, code_2 = _file(stranger)  # someone else who knows the NIR
    second = _lookup(stranger, reference_2, code_2, action="confirmer-retrait")
    assert "Retirée" in second.get_data(as_text=True)
    with app.app_context():
        own, linked = db.session.scalars(select(Objection).order_by(Objection.id))
        assert own.status == ObjectionStatus.RECEIVED  # the person's objection stays in force
        assert linked.status == ObjectionStatus.WITHDRAWN
        assert linked.withdrawal_review  # staff decide whether anything more is lifted
    first = _lookup(client, reference_1, code_1, action="confirmer-retrait")
    assert _shape(first.get_data(as_text=True)) == _shape(second.get_data(as_text=True))
    with app.app_context():
        own = db.session.scalar(select(Objection).order_by(Objection.id))
        assert own.status == ObjectionStatus.WITHDRAWN and not own.withdrawal_review
        mails = list(db.session.scalars(select(OutboxMail).where(OutboxMail.kind ==
                                                                 "withdrawal")))
        assert len({re.sub(r"OPP-[0-9A-Z-]+", "REF", m.body) for m in mails}) == 1


def test_a_stranger_who_filed_first_cannot_lift_the_persons_objection(app, client):
    stranger = app.test_client()
    reference_1, code_1 = _file(stranger)  # a stranger files first with the person's NIR
    _file(client)  # then the person files
    _lookup(stranger, reference_1, code_1, action="confirmer-retrait")
    with app.app_context():
        strangers, persons = db.session.scalars(select(Objection).order_by(Objection.id))
        assert strangers.status == ObjectionStatus.WITHDRAWN
        assert persons.status == ObjectionStatus.RECEIVED and persons.linked_to_id is None
        assert "became_primary" in [e.action for e in persons.events]
        assert "became_primary" not in [e.action for e in queries.timeline(persons)]


def test_a_review_decision_purges_the_identity_and_mails_the_filer(app, client):
    import io

    from tests.objection.factories import PDF, child_values

    page = hidden(client.get("/opposition").get_data(as_text=True))
    review = client.post("/opposition", content_type="multipart/form-data",
                         data={**child_values(), **page, "document": (io.BytesIO(PDF), "l.pdf")})
    client.post("/opposition/envoyer", data={**child_values(),
                                             **hidden(review.get_data(as_text=True)),
                                             "action": "envoyer"})
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        document = Path(app.config["INSTANCE_DIR"]) / "uploads" / objection.document_path
        assert document.exists() and objection.identity_sealed
        service.change_status(db.session, objection, ObjectionStatus.VERIFIED, by="staff:test")
        db.session.commit()
        assert objection.identity_sealed is None and objection.document_path is None
        assert not document.exists()
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "status"))
        assert "Vérifiée" in mail.subject and objection.reference in mail.body


def test_a_rejected_first_filing_hands_over_to_the_next_one(app, client):
    _file(client)
    _file(app.test_client())
    with app.app_context():
        first, second = db.session.scalars(select(Objection).order_by(Objection.id))
        service.change_status(db.session, first, ObjectionStatus.REJECTED, by="staff:test",
                              reason="Document illisible")
        db.session.commit()
        assert second.linked_to_id is None and second.status == ObjectionStatus.RECEIVED


def test_purge_forgets_what_no_review_needs_and_abandoned_documents(app, client):
    import io

    from tests.objection.factories import PNG, child_values

    # A form abandoned after its document was accepted (another field was wrong).
    page = hidden(client.get("/opposition").get_data(as_text=True))
    client.post("/opposition", content_type="multipart/form-data",
                data={**child_values(email="x"), **page,
                      "document": (io.BytesIO(PNG), "l.png")})
    pending = list((Path(app.config["INSTANCE_DIR"]) / "uploads" / "pending").glob("*.bin"))
    assert len(pending) == 2  # the document and its name
    runner = app.test_cli_runner()
    assert "0 document(s)" in runner.invoke(args=["objection", "purge"]).output  # still fresh
    old = time.time() - 5 * 3600
    for path in pending:
        os.utime(path, (old, old))
    result = runner.invoke(args=["objection", "purge"])
    assert "1 document(s) abandonné(s) supprimé(s)" in result.output
    assert not any(path.exists() for path in pending)


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
def test_real_smtp_delivery_and_retry_after_an_outage(configured_app):
    port = _free_port()
    app = configured_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2)
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


@pytest.mark.smtp
def test_an_accented_domain_is_delivered_by_a_server_without_smtputf8(configured_app):
    """Many servers do not offer SMTPUTF8: the mail goes to the domain's ASCII (punycode)
    form, the same mailbox, instead of failing until it is abandoned."""
    port = _free_port()
    app = configured_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    try:
        client = app.test_client()
        tokens = hidden(client.get("/opposition").get_data(as_text=True))
        review = client.post("/opposition", data={**form_values(email="Zoe@ÉCOLE.fr"), **tokens})
        assert "Zoe@école.fr" in review.get_data(as_text=True)  # shown as typed (normalised)
        client.post("/opposition/envoyer", data={**form_values(email="Zoe@école.fr"),
                                                 **hidden(review.get_data(as_text=True)),
                                                 "action": "envoyer"})
        with app.app_context():  # a mail queued before the form stored the ASCII form
            from objection.identity import parse_nir
            from objection.models import Filer, Scope
            from tests.objection.factories import make_nir

            service.file_objection(db.session, service.FilingInput(
                filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
                nir=parse_nir(make_nir("1850375056123")), birth_name="X", first_names="Y",
                birth_date=date(1985, 3, 14), sex="M", email="jean@münchen.de"),
                form_token="t")
            db.session.commit()
            from objection.mail import send_pending

            assert send_pending(db.session) == (1, 0)
            assert all(m.sent_at for m in db.session.scalars(select(OutboxMail)))
        deadline = time.monotonic() + 5
        while len(inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert [m.rcpt_tos for m in inbox.messages] == [["Zoe@xn--cole-9oa.fr"],
                                                    ["jean@xn--mnchen-3ya.de"]]


class SlowInbox(Inbox):
    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(0.5)  # long enough for a second sender to try the same mail
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.smtp
def test_two_senders_at_once_send_each_mail_once(configured_app):
    import threading

    from objection.mail import send_pending

    port = _free_port()
    app = configured_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    for _ in range(3):  # the server is down: three mails wait in the outbox
        _file(app.test_client())
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    later = datetime.now(UTC) + timedelta(hours=7)  # every backoff is over

    def sender():
        with app.app_context():
            send_pending(db.session, now=later)

    try:
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        controller.stop()
    assert len(inbox.messages) == 3
    with app.app_context():
        assert all(m.sent_at for m in db.session.scalars(select(OutboxMail)))


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no public authority signed (and its key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    start = datetime.now(UTC) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "mail-cert.pem", folder / "mail-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.smtp
def test_starttls_refuses_a_mail_server_whose_certificate_is_not_trusted(configured_app,
                                                                           tmp_path,
                                                                           monkeypatch):
    """Someone posing as the mail server must not receive the mails: STARTTLS checks the
    certificate and the host name against the system's authorities."""
    import ssl

    from objection.mail import send_pending

    cert_path, key_path = _self_signed_certificate(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_path, key_path)
    port = _free_port()
    app = configured_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5,
                         MAIL_USE_TLS=True)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_tls,
                            require_starttls=True)
    controller.start()
    try:
        _file(app.test_client())  # sent at once: the certificate is refused
        with app.app_context():
            mail = db.session.scalar(select(OutboxMail))
            assert mail.sent_at is None and mail.last_error == "SSLCertVerificationError"
        assert inbox.messages == []
        # Once the operator trusts that authority, the same mail goes out, encrypted.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
        with app.app_context():
            assert send_pending(db.session, now=datetime.now(UTC) + timedelta(hours=7)) == (1, 0)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


class RecordingSMTP:
    """Stands for the mail server: records the TLS context each connection is given."""

    contexts: list = []

    def __init__(self, *_args, **_kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def starttls(self, context):
        self.contexts.append(context)

    def send_message(self, _message):
        pass


def test_starttls_builds_its_certificate_checks_once_per_process(configured_app, tmp_path,
                                                                 monkeypatch):
    """Loading the system's authorities costs milliseconds, and every filing sends its receipt
    at once: the context is built on the first mail and reused, yet an SSL_CERT_FILE set
    afterwards is still honoured (a new context for those settings)."""
    import smtplib
    import ssl

    from objection import mail as outbox

    built = []
    real = ssl.create_default_context

    def counting(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    monkeypatch.setattr(smtplib, "SMTP", RecordingSMTP)
    monkeypatch.setattr(RecordingSMTP, "contexts", [])
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    outbox._tls_context_for.cache_clear()  # whatever an earlier test built in this process
    try:
        app = configured_app(MAIL_SERVER="mail.test", MAIL_PORT=25, MAIL_USE_TLS=True)
        for _ in range(3):
            _file(app.test_client())  # each receipt is sent right after its filing
        assert len(RecordingSMTP.contexts) == 3 and len(built) == 1
        assert all(context is built[0] for context in RecordingSMTP.contexts)
        assert built[0].verify_mode == ssl.CERT_REQUIRED and built[0].check_hostname
        cert_path, _ = _self_signed_certificate(tmp_path)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
        _file(app.test_client())
        assert len(built) == 2 and RecordingSMTP.contexts[-1] is built[1]
    finally:
        outbox._tls_context_for.cache_clear()
    with app.app_context():
        assert all(m.sent_at for m in db.session.scalars(select(OutboxMail)))


def test_one_unreadable_mail_does_not_stop_the_others(app, client):
    from objection.mail import MAX_ATTEMPTS, send_pending

    _file(client)
    _file(app.test_client())
    with app.app_context():
        first, second = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id))
        for mail in (first, second):
            mail.sent_at, mail.next_attempt_at = None, datetime.now(UTC)
        first.recipient_sealed = b"gone:" + first.recipient_sealed[4:]  # key no longer known
        db.session.commit()
        sent, failed = send_pending(db.session)
        assert (sent, failed) == (1, 1)
        assert db.session.get(OutboxMail, first.id).last_error == "KeyConfigError"
        first = db.session.get(OutboxMail, first.id)
        first.attempts = MAX_ATTEMPTS
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 1 and "1 courriel(s) abandonné(s)" in result.output


def test_backoff_grows_and_is_capped():
    from objection.mail import MAX_BACKOFF, backoff

    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30) == MAX_BACKOFF


def _limited_app(configured_app, monkeypatch=None, **config):
    """An app with rate limits on; with ``monkeypatch``, ten POSTs a minute per address on the
    form and the follow-up (the real figures, in objection.limits, are looser: a test needs
    not send sixty)."""
    if monkeypatch is not None:
        from objection import limits

        monkeypatch.setattr(limits, "FORM_POSTS", "10 per minute")
        monkeypatch.setattr(limits, "FOLLOWUP_POSTS", "10 per minute")
    return configured_app(RATELIMIT_ENABLED=True, **config)


def test_filing_is_rate_limited_with_a_french_page(configured_app, monkeypatch):
    app = _limited_app(configured_app, monkeypatch)
    client = app.test_client()
    statuses = []
    for _ in range(12):
        tokens = hidden(client.get("/opposition").get_data(as_text=True))
        statuses.append(client.post("/opposition", data={**form_values(consent=""),
                                                         **tokens}).status_code)
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    page = client.post("/opposition", data={}).get_data(as_text=True)
    assert "Trop de demandes" in page


def test_follow_up_is_rate_limited(configured_app, monkeypatch):
    app = _limited_app(configured_app, monkeypatch)
    client = app.test_client()
    codes = [_lookup(client, "OPP-0000-0000-0", "X").status_code for _ in range(11)]
    assert codes[-1] == 429


def test_forged_forwarded_for_does_not_reset_the_limit(configured_app, monkeypatch):
    app = _limited_app(configured_app, monkeypatch, PROXY_COUNT=0)
    client = app.test_client()
    codes = [client.post("/opposition/suivi", data={},
                         headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
             for i in range(11)]
    assert codes[-1] == 429


def test_behind_one_proxy_the_last_hop_is_the_client(configured_app, monkeypatch):
    app = _limited_app(configured_app, monkeypatch, PROXY_COUNT=1)
    client = app.test_client()
    # The client forges the first entries; the proxy appends the real address last.
    codes = [client.post("/opposition/suivi", data={},
                         headers={"X-Forwarded-For": f"6.6.6.{i}, 203.0.113.7"}).status_code
             for i in range(11)]
    assert codes[-1] == 429
    other = client.post("/opposition/suivi", data={},
                        headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code != 429


@pytest.mark.redis
def test_rate_limits_in_redis(configured_app, redis_url, monkeypatch):
    import redis

    connection = redis.Redis.from_url(redis_url)
    app = _limited_app(configured_app, monkeypatch, RATELIMIT_STORAGE_URI=redis_url)
    client = app.test_client()
    codes = [client.post("/opposition/suivi", data={}).status_code for _ in range(11)]
    assert codes[-1] == 429
    assert connection.keys("LIMITS*"), "no rate-limit key in Redis"
    connection.flushdb()


def test_every_filing_counts_even_several_for_one_person(app, client):
    for index in range(11):
        other = app.test_client()
        file_through_ui(other, email=f"p{index}@exemple.fr")
    with app.app_context():
        stats = statistics.public_statistics(db.session)
    assert stats["total"] == 11  # eleven requests, all for the same person
    html = client.get("/statistiques").get_data(as_text=True)
    section = html[html.index("Les oppositions"):]
    assert "Nombre de demandes d'opposition reçues" in section and ">11<" in section
    assert "des demandes, pas des personnes" in section


def _self_filing(index: int, body: str) -> service.FilingInput:
    from objection.identity import parse_nir
    from objection.models import Filer, Scope
    from tests.objection.factories import make_nir

    return service.FilingInput(
        filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
        nir=parse_nir(make_nir(body)), birth_name="X", first_names="Y",
        birth_date=date(1985, 3, 1), sex="F", email=f"p{index}@exemple.fr")


def test_a_repeat_filing_moves_the_public_figures_exactly_like_a_first_one(app, client):
    """Whoever holds a NIR must not learn from /statistiques whether that person objected."""
    people = [f"2850375056{index:03d}" for index in range(12)]
    with app.app_context():
        for index, body in enumerate(people):
            service.file_objection(db.session, _self_filing(index, body),
                                   form_token=f"t{index}")
        db.session.commit()
        before = statistics.public_statistics(db.session)
        version_before = statistics.statistics_version(db.session)

        def after(body: str) -> tuple[dict, str, str]:
            filing = service.file_objection(db.session, _self_filing(99, body),
                                            form_token="probe")
            seen = (statistics.public_statistics(db.session),
                    statistics.statistics_version(db.session),
                    "linked" if filing.objection.linked_to_id else "first")
            db.session.rollback()
            return seen

        repeat, repeat_version, repeat_kind = after(people[0])  # already objected
        first, first_version, first_kind = after("2850375056500")  # never objected
    assert (repeat_kind, first_kind) == ("linked", "first")
    assert repeat == first != before
    assert repeat["total"] == before["total"] + 1 == 13
    assert repeat_version != version_before and first_version != version_before
    # the page, too: a repeat filing shows the same figures as a first one would
    with app.app_context():
        service.file_objection(db.session, _self_filing(99, people[0]),
                               form_token="probe")
        db.session.commit()
    html = client.get("/statistiques").get_data(as_text=True)
    assert ">13<" in html[html.index("Les oppositions"):]


def test_one_hidden_cell_cannot_be_worked_out_by_subtraction():
    cells = statistics.suppress_small_cells({"F": 25, "M": 5}, ["F", "M"])
    assert cells == [("F", None), ("M", None)]
    cells = statistics.suppress_small_cells({"18-29": 40, "30-44": 12, "75+": 3},
                                         statistics.AGE_BANDS)
    assert cells == [("18-29", 40), ("30-44", None), ("75+", None)]
    assert statistics.suppress_small_cells({"F": 25, "M": 15}) == [("F", 25), ("M", 15)]
    two_hidden = statistics.suppress_small_cells({"a": 30, "b": 4, "c": 6})
    assert two_hidden == [("a", 30), ("b", None), ("c", None)]


def test_the_statistics_page_shows_no_cell_that_reveals_a_small_group(app, client):
    from objection.identity import parse_nir
    from objection.models import Filer, Scope
    from tests.objection.factories import make_nir

    with app.app_context():
        for index in range(30):
            woman = index < 25
            body = f"{'2' if woman else '1'}{'85' if woman else '45'}0375056{index:03d}"
            service.file_objection(db.session, service.FilingInput(
                filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
                nir=parse_nir(make_nir(body)), birth_name="X", first_names="Y",
                birth_date=date(1985 if woman else 1945, 3, 1), sex="F" if woman else "M",
                email=f"p{index}@exemple.fr"), form_token=f"t{index}")
        db.session.commit()
    html = client.get("/statistiques").get_data(as_text=True)
    section = html[html.index("Les oppositions"):]
    assert ">30<" in section  # the total is shown
    assert ">25<" not in section and ">5<" not in section  # neither sex can be worked out


def test_english_mails_are_in_english_with_british_dates(app, client):
    _file(client, prefix="/en")
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail))
    assert mail.subject.startswith("Acknowledgement")
    assert re.search(r"on \d{1,2} (January|February|March|April|May|June|July|August|September|"
                     r"October|November|December) \d{4}\.", mail.body), mail.body
    assert "Bonjour" not in mail.body


def test_mail_dates_are_in_the_sites_time_zone(app):
    from objection.identity import parse_nir
    from objection.models import Filer, Scope
    from tests.objection.factories import make_nir

    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 00:30 on the 25th in Paris
    with app.app_context():
        service.file_objection(db.session, service.FilingInput(
            filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
            nir=parse_nir(make_nir()), birth_name="X", first_names="Y",
            birth_date=date(1985, 3, 14), sex="F", email="p@exemple.fr"),
            form_token="t", now=late_evening)
        body = db.session.scalar(select(OutboxMail.body))
    assert "le 25 novembre 2026" in body and "24 novembre" not in body


def test_a_filing_at_half_past_midnight_in_paris_is_dated_in_france(app):
    """23:30 UTC on 30 November is 00:30 on 1 December in Paris: the filing is December's, the
    answer is due one month later (1 January, GDPR 12(3)), and someone born on 1 December 2008
    is 18 that day."""
    from objection.identity import parse_nir
    from objection.models import Filer, Scope
    from tests.objection.factories import make_nir

    half_past_midnight = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    with app.app_context():
        filing = service.file_objection(db.session, service.FilingInput(
            filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
            nir=parse_nir(make_nir("2081275056123")), birth_name="X", first_names="Y",
            birth_date=date(2008, 12, 1), sex="F", email="p@exemple.fr"),
            form_token="t", now=half_past_midnight)
        db.session.commit()
        objection = filing.objection
        assert objection.answer_due_on == date(2027, 1, 1)
        assert objection.month_filed == "2026-12"
        assert objection.age_band == "18-29"
        body = db.session.scalar(select(OutboxMail.body))
    assert "le 1er décembre 2026" in body and "au plus tard le 1er janvier 2027" in body, body


def test_purge_deletes_documents_no_filing_holds(app):
    uploads = Path(app.config["INSTANCE_DIR"]) / "uploads"
    uploads.mkdir(parents=True)
    orphan = uploads / ("a" * 64 + ".bin")  # a filing whose commit failed
    orphan.write_bytes(b"sealed")
    old = time.time() - 5 * 3600
    os.utime(orphan, (old, old))
    result = app.test_cli_runner().invoke(args=["objection", "purge"])
    assert "1 document(s)" in result.output and not orphan.exists()


def test_the_statistics_version_moves_with_each_filing(app, client):
    with app.app_context():
        before = statistics.statistics_version(db.session)
    _file(client)
    with app.app_context():
        assert statistics.statistics_version(db.session) != before
