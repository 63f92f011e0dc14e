"""Filing an objection through HTTP: errors per field, review, receipt, idempotency,
durability, concurrency, nothing in clear."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from objection.models import Objection, ObjectionEvent, OutboxMail
from tests.conftest import make_test_app
from tests.objection.factories import file_through_ui, form_values, hidden, make_nir
from tests.registry.factories import make_project
from website.extensions import db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def _review(client, prefix="", files=None, **changes):
    tokens = hidden(client.get(f"{prefix}/opposition").get_data(as_text=True))
    data = {**form_values(**changes), **tokens}
    if files:
        data.update(files)
    return client.post(f"{prefix}/opposition", data=data, content_type="multipart/form-data")


def _count(app, model=Objection) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"nir": make_nir()[:-2] + "00"}, "nir", "la clé (les 2 derniers chiffres) ne correspond pas"),
    ({"sex": "M"}, "nir", "ne correspond pas au sexe indiqué"),
    ({"birth_month": "7"}, "nir", "ne correspond pas au mois de naissance"),
    ({"birth_year": "1986"}, "nir", "ne correspond pas à l&#39;année de naissance"),
    ({"nir": "2850375"}, "nir", "doit contenir 15 caractères"),
    ({"birth_day": "31", "birth_month": "2"}, "birth_date", "date de naissance complète"),
    ({"email": "pas-une-adresse"}, "email", "adresse électronique valide"),
    ({"consent": ""}, "consent", "Cochez la case"),
    ({"scope": "project", "project_reference": ""}, "project_reference",
     "Saisissez la référence du projet"),
    ({"scope": "project", "project_reference": "HDH-2099-0001"}, "project_reference",
     "Aucun projet ne porte cette référence"),
    ({"filer": "child", "representative_name": ""}, "representative_name",
     "Saisissez votre nom et votre prénom"),
])
def test_each_error_has_its_message_and_input_is_kept(client, changes, field, message):
    response = _review(client, **changes)
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert f'id="{field}-error"' in html
    assert message in html.replace("'", "&#39;") or message in html
    # everything typed is still there
    kept = form_values(**changes)
    for name in ("birth_name", "first_names", "email"):
        assert f'value="{kept[name]}"' in html
    assert f'value="{kept["nir"]}"' in html


def test_future_birth_date(client):
    body = "2" + f"{(date.today().year + 1) % 100:02d}" + "0375056123"
    response = _review(client, nir=make_nir(body), birth_year=str(date.today().year + 1))
    assert "ne peut pas être dans le futur" in response.get_data(as_text=True)


@pytest.mark.parametrize(("content", "message"), [
    (b"MZ\x90\x00 not a document", "PDF, JPEG ou PNG"),
    (b"%PDF-" + b"x" * 200_000, "5 Mo au plus"),
])
def test_document_type_and_size_are_checked_from_the_bytes(client, monkeypatch, content,
                                                            message):
    import io

    from objection import forms

    # The limit is lowered for the test: the test client spools bodies over 500 kB to a
    # temporary file it never closes. 200 kB over a 100 kB limit exercises the same check.
    monkeypatch.setattr(forms, "MAX_DOCUMENT_BYTES", 100_000)
    response = _review(client, filer="child", representative_name="Jean Parent",
                       files={"document": (io.BytesIO(content), "livret.pdf")})
    html = response.get_data(as_text=True)
    assert message in html and 'id="document-error"' in html
    assert 'value="Jean Parent"' in html


def test_the_real_limit_is_five_megabytes():
    from objection.forms import MAX_DOCUMENT_BYTES

    assert MAX_DOCUMENT_BYTES == 5 * 1024 * 1024


def test_a_document_is_required_for_someone_else(client):
    html = _review(client, filer="represented", representative_name="Jean").get_data(as_text=True)
    assert "Joignez un document" in html


def test_full_filing_shows_a_receipt_with_reference_and_code(app, client):
    response = file_through_ui(client)
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"])
    html = receipt.get_data(as_text=True)
    assert receipt.headers["Cache-Control"] == "no-store"
    reference = re.search(r"OPP-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", html).group(0)
    assert re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", html)
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.reference == reference and objection.status == "received"
        assert objection.identity_sealed is None  # nothing to review for oneself
        assert [e.action for e in objection.events] == ["filed"]


def test_filing_for_a_child_goes_to_review_with_the_document_encrypted(app, client):
    import io

    page = hidden(client.get("/opposition").get_data(as_text=True))
    values = form_values(filer="child", representative_name="Jean Parent")
    review = client.post("/opposition", content_type="multipart/form-data",
                         data={**values, **page, "document": (io.BytesIO(PDF), "livret.pdf")})
    assert review.status_code == 200 and "Relisez" in review.get_data(as_text=True)
    confirm = client.post("/opposition/envoyer", data={
        **values, **hidden(review.get_data(as_text=True)), "action": "envoyer"})
    assert confirm.status_code == 303
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.status == "to_review" and objection.identity_sealed
        stored = (app.config["INSTANCE_DIR"] and
                  (__import__("pathlib").Path(app.config["INSTANCE_DIR"]) / "uploads" /
                   objection.document_path).read_bytes())
        assert PDF not in stored


def test_project_objection(app, client):
    with app.app_context():
        make_project("HDH-2024-0001")
    assert "HDH-2024-0001" in client.get("/projets/HDH-2024-0001/opposition",
                                         follow_redirects=True).get_data(as_text=True)
    response = file_through_ui(client, scope="project", project_reference="HDH-2024-0001")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Objection.project_reference)) == "HDH-2024-0001"


def test_a_closed_project_refuses_objections(app, client):
    with app.app_context():
        make_project("HDH-2024-0002", status="termine", processing_ended_on="2025-01-01")
    html = client.get("/projets/HDH-2024-0002/opposition").get_data(as_text=True)
    assert "n&#39;accepte plus d&#39;oppositions" in html or "n'accepte plus" in html
    review = _review(client, scope="project", project_reference="HDH-2024-0002")
    assert "Ce projet n&#39;accepte plus" in review.get_data(as_text=True) or \
        "Ce projet n'accepte plus" in review.get_data(as_text=True)


def test_a_resent_post_gives_the_same_receipt(app, client):
    page = hidden(client.get("/opposition").get_data(as_text=True))
    review = client.post("/opposition", data={**form_values(), **page})
    data = {**form_values(), **hidden(review.get_data(as_text=True)), "action": "envoyer"}
    first = client.post("/opposition/envoyer", data=data)
    second = client.post("/opposition/envoyer", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(app) == 1
    code_first = re.findall(r"<strong>([^<]+)</strong>", client.get(first.headers["Location"])
                            .get_data(as_text=True))
    assert code_first == re.findall(r"<strong>([^<]+)</strong>",
                                    client.get(second.headers["Location"]).get_data(as_text=True))


def _concurrent_submissions(app, count: int = 20) -> list[str]:
    client = app.test_client()
    page = hidden(client.get("/opposition").get_data(as_text=True))
    review = client.post("/opposition", data={**form_values(), **page})
    data = {**form_values(), **hidden(review.get_data(as_text=True)), "action": "envoyer"}
    cookie = client.get_cookie("session")
    locations: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def submit():
        try:
            own = app.test_client()
            own.set_cookie("session", cookie.value)
            barrier.wait()
            response = own.post("/opposition/envoyer", data=data)
            locations.append(response.headers.get("Location", str(response.status_code)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return locations


def test_twenty_concurrent_identical_submissions_make_one_objection(app):
    locations = _concurrent_submissions(app)
    assert len(set(locations)) == 1 and locations[0].startswith("/opposition/accuse")
    assert _count(app) == 1


@pytest.mark.postgres
def test_twenty_concurrent_identical_submissions_on_postgresql(postgres_url, tmp_path):
    app = make_test_app(postgres_url, tmp_path)
    try:
        locations = _concurrent_submissions(app)
        assert len(set(locations)) == 1
        with app.app_context():
            assert db.session.scalar(select(func.count(Objection.id))) == 1
    finally:
        from tests.conftest import _empty_tables

        app.extensions["database"]["engine"].dispose()
        _empty_tables(postgres_url)


def test_no_receipt_when_the_commit_fails(app, client, monkeypatch):
    from objection import service

    original = service.file_objection

    def failing(session, *args, **kwargs):
        original(session, *args, **kwargs)  # written and flushed, never committed
        raise RuntimeError("disk full before commit")

    monkeypatch.setattr(service, "file_objection", failing)
    response = file_through_ui(client)
    assert response.status_code == 500
    assert "OPP-" not in response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert _count(app) == 0 and _count(app, ObjectionEvent) == 0 and _count(app, OutboxMail) == 0


def test_linked_filing_looks_like_a_first_filing(app, client):
    first = client.get(file_through_ui(client).headers["Location"]).get_data(as_text=True)
    other = app.test_client()
    second = other.get(file_through_ui(other).headers["Location"]).get_data(as_text=True)

    def shape(html: str) -> str:
        html = re.sub(r"OPP-[0-9A-Z-]+", "REF", html)
        html = re.sub(r"<strong>[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}</strong>", "CODE", html)
        return re.sub(r'value="[^"]+"', "", html)

    assert shape(first) == shape(second)
    with app.app_context():
        objections = list(db.session.scalars(select(Objection).order_by(Objection.id)))
        assert objections[1].linked_to_id == objections[0].id
        mails = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        assert re.sub(r"OPP-[0-9A-Z-]+", "REF", mails[0].body) == \
            re.sub(r"OPP-[0-9A-Z-]+", "REF", mails[1].body)


def test_post_without_csrf_token_is_refused(app, client):
    data = {**form_values(), "token": "a" * 32, "action": "envoyer"}
    for path in ("/opposition", "/opposition/envoyer", "/opposition/suivi"):
        response = client.post(path, data=data)
        assert response.status_code == 400
        assert "Formulaire expiré" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_expired_form_token_keeps_the_input(client):
    tokens = hidden(client.get("/opposition").get_data(as_text=True))
    tokens["csrf_token"] = tokens["csrf_token"][:-4] + "AAAA"  # expired or tampered
    response = client.post("/opposition", data={**form_values(), **tokens})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "le formulaire avait expiré" in html
    assert 'value="Zorglubienne"' in html


def test_english_form_and_receipt(client):
    html = client.get("/en/opposition").get_data(as_text=True)
    assert '<html lang="en">' in html
    response = file_through_ui(client, prefix="/en")
    assert response.headers["Location"].startswith("/en/opposition/")


def test_nothing_personal_in_clear_in_the_database_or_logs(app, client, capfd):
    import io

    nir = make_nir()
    file_through_ui(client)
    page = hidden(client.get("/opposition").get_data(as_text=True))
    values = form_values(filer="child", representative_name="Jean Parentdistinct",
                         nir=nir[:2] + " " + nir[2:])
    review = client.post("/opposition", content_type="multipart/form-data",
                         data={**values, **page, "document": (io.BytesIO(PDF), "l.pdf")})
    client.post("/opposition/envoyer", data={**values, **hidden(review.get_data(as_text=True)),
                                             "action": "envoyer"})
    forbidden = [nir, nir[:2] + " " + nir[2:], "Zorglubienne", "Philomène", "Parentdistinct",
                 "1985-03-14", "14/03/1985", "14 mars 1985", "philomene@exemple.fr"]
    with app.app_context():
        dump = []
        for table in ("objections", "objection_events", "outbox_mails"):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                dump.extend(str(value) if not isinstance(value, bytes)
                            else value.decode("latin-1") for value in row)
    logs = capfd.readouterr()
    haystack = "\n".join(dump) + logs.out + logs.err
    for value in forbidden:
        assert value not in haystack, f"{value!r} found in clear"
