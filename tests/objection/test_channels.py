"""Not everyone can use a web form: the paper form and telephone line, filings recorded by
staff (same checks, channel recorded, receipt by mail or letter), e-mail optional with a
postal address; and documents read by their parsers before staff open them, with pending
documents capped on disk."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from sqlalchemy import select

from core.extensions import db
from objection import documents, letters
from objection.models import Objection, OutboxMail
from staff import audit
from tests.conftest import csrf_token_from
from tests.objection.factories import PDF, child_values, form_values, hidden
from tests.staff.factories import make_staff, signed_in

ADDRESS = "Philomène Zorglubienne\n12 rue des Lilas\n75020 Paris"


def test_the_paper_form_gives_the_address_and_the_phone_line(client):
    page = client.get("/opposition/formulaire-papier").get_data(as_text=True)
    assert "Service des oppositions" in page and "0 800 00 00 00" in page
    assert "Numéro de sécurité sociale" in page
    assert 'href="/opposition/formulaire-papier"' in client.get("/opposition").get_data(
        as_text=True)
    rights = client.get("/vos-droits/opposition").get_data(as_text=True)
    assert "/opposition/formulaire-papier" in rights and "téléphone" in rights
    english = client.get("/en/opposition/formulaire-papier").get_data(as_text=True)
    assert "By phone" in english


def test_email_is_optional_with_a_postal_address(app, client):
    tokens = hidden(client.get("/opposition").get_data(as_text=True))
    neither = client.post("/opposition", data={**form_values(email=""), **tokens})
    assert "ou une adresse postale" in neither.get_data(as_text=True)
    values = form_values(email="", postal_address=ADDRESS)
    review = client.post("/opposition", data={**values, **tokens})
    assert review.status_code == 200 and "12 rue des Lilas" in review.get_data(as_text=True)
    sent = client.post("/opposition/envoyer", data={**values, **hidden(
        review.get_data(as_text=True)), "action": "envoyer"})
    assert sent.status_code == 303
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.email_sealed == b"" and letters.address_of(db.session, objection) \
            == ADDRESS
        assert db.session.scalar(select(OutboxMail)) is None  # no mail: a letter instead
        [letter] = letters.to_print(db.session)
        assert letter.kind == "receipt" and objection.reference in letter.body


def test_a_reviewer_records_a_filing_received_by_post(app):
    staff = make_staff(app, "reviewer")
    reviewer = signed_in(app, app.test_client(), staff)
    page = reviewer.get("/gestion/oppositions/nouvelle")
    values = {**child_values(email="", postal_address=ADDRESS), "channel": "post",
              "token": hidden(page.get_data(as_text=True)).get("token", "")}
    missing = reviewer.post("/gestion/oppositions/nouvelle", data={
        **values, "csrf_token": csrf_token_from(page.data)})
    assert missing.status_code == 400 and "Joignez un document" in missing.get_data(
        as_text=True)  # the same checks as the web form
    done = reviewer.post("/gestion/oppositions/nouvelle", data={
        **values, "csrf_token": csrf_token_from(page.data),
        "document": (io.BytesIO(PDF), "scan.pdf")})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "Demande enregistrée" in html
    assert "courriers à imprimer" in html
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.channel == "post" and objection.status == "to_review"
        assert objection.events[0].by == f"staff:{staff.id}"
        recorded = [e for e in audit.recent(db.session) if e.action ==
                    "objection.filed_for_person"]
        assert recorded[0].detail == {"channel": "post", "filer": "child"}
    letters_page = reviewer.get("/gestion/oppositions/courriers").get_data(as_text=True)
    assert objection.reference in letters_page
    with app.app_context():
        letter_id = letters.to_print(db.session)[0].id
    letter = reviewer.get(f"/gestion/oppositions/courriers/{letter_id}")
    assert "12 rue des Lilas" in letter.get_data(as_text=True)
    reviewer.post(f"/gestion/oppositions/courriers/{letter_id}/envoye",
                  data={"csrf_token": csrf_token_from(letter.data)})
    with app.app_context():
        assert letters.to_print(db.session) == []


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


HUGE_PNG = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2,
                                                                0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + _chunk(b"IEND", b""))
JPEG_WITH_HTML = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                  b"\xff\xfe\x00\x2a<html><script>alert(document.domain)</script>"
                  b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
                  b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\xd2\xcf\x20\xff\xd9")
PDF_WITH_JAVASCRIPT = PDF.replace(b"/Type /Catalog",
                                  b"/Type /Catalog /OpenAction << /S /J#61vaScript /JS (x) >>")
PDF_WITH_HTML = PDF.replace(b"%%EOF", b"<!DOCTYPE html><body onload=x()>\n%%EOF")


@pytest.mark.parametrize("content", [HUGE_PNG, JPEG_WITH_HTML, PDF_WITH_JAVASCRIPT,
                                     PDF_WITH_HTML, PDF[:-200] + b"%%EOF\n"],
                         ids=["60000x60000 png", "jpeg with html", "pdf with javascript",
                              "pdf with html", "truncated pdf"])
def test_documents_are_parsed_not_sniffed(client, content):
    page = client.get("/opposition").get_data(as_text=True)
    response = client.post("/opposition", data={**child_values(), **hidden(page),
                                                "document": (io.BytesIO(content), "f.pdf")})
    assert "Le document doit être un fichier PDF, JPEG ou PNG" in response.get_data(
        as_text=True)


def test_documents_kept_before_the_checks_are_checked_again_before_staff_open_them(app):
    assert documents.checked_type(PDF) == "application/pdf"
    assert documents.checked_type(PDF_WITH_JAVASCRIPT) is None


def test_one_browser_keeps_one_waiting_document(app, client):
    """Twenty forms with a mistake and a document each leave one document on disk, not 20."""
    folder = app.config["INSTANCE_DIR"] + "/uploads/pending"
    for _ in range(20):
        page = client.get("/opposition").get_data(as_text=True)
        client.post("/opposition", data={**child_values(nir=""), **hidden(page),
                                         "document": (io.BytesIO(PDF), "f.pdf")})
    import pathlib

    waiting = [p for p in pathlib.Path(folder).glob("*.bin") if ".name." not in p.name]
    assert len(waiting) == 1


def test_waiting_documents_stay_under_their_cap(app, monkeypatch):
    monkeypatch.setattr(documents, "PENDING_CAP_BYTES", 3 * len(PDF) + 200)
    import pathlib

    with app.test_request_context():
        for number in range(6):
            documents.keep_pending_document(f"token{number}", PDF, "f.pdf")
        folder = pathlib.Path(app.config["INSTANCE_DIR"]) / "uploads" / "pending"
        total = sum(p.stat().st_size for p in folder.glob("*.bin"))
        assert total <= documents.PENDING_CAP_BYTES + len(PDF) + 200
        assert documents.pending_document("token5") == PDF  # the newest is kept
        assert documents.pending_document("token0") is None
