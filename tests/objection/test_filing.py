"""Filing an objection through HTTP: errors per field, review, receipt, idempotency,
durability, concurrency, nothing in clear."""

from __future__ import annotations

import re
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from objection.models import Objection, ObjectionEvent, OutboxMail
from tests.conftest import make_test_app
from tests.objection.factories import (
    PDF,
    PNG,
    child_values,
    file_through_ui,
    form_values,
    hidden,
    make_nir,
    multipart,
)
from tests.registry.factories import make_project


def _review(client, prefix="", files=None, values=None, **changes):
    tokens = hidden(client.get(f"{prefix}/opposition").get_data(as_text=True))
    data = {**(values or form_values(**changes)), **tokens}
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


@pytest.mark.parametrize(("field", "value", "message"), [
    ("birth_name", "Zorglu\u202ebienne", "Le nom de naissance contient un caractère invisible"),
    ("birth_name", "Zorglu\x1bbienne", "Le nom de naissance contient un caractère invisible"),
    ("first_names", "Philo\u2066mène", "Les prénoms contiennent un caractère invisible"),
    ("first_names", "Philo\u200bmène", "Les prénoms contiennent un caractère invisible"),
    ("first_names", "Philomène\nMarie", "Les prénoms contiennent un caractère invisible"),
    ("representative_name", "Jean\u202dParent", "Votre nom contient un caractère invisible"),
])
def test_names_with_control_or_bidi_characters_are_refused(app, client, field, value, message):
    """A right-to-left override or a control character in a name would show staff and mails
    something else than what was typed: refused with the field's own message, answers kept."""
    values = child_values(**{field: value})
    for path in ("/opposition", "/opposition/envoyer"):
        tokens = hidden(client.get("/opposition").get_data(as_text=True))
        response = client.post(path, data={**values, **tokens, "action": "envoyer"})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="{field}-error"' in html and message in html
        assert f'name="{field}" value="{value}"' in html
        assert 'value="Jean Parent"' in html or field == "representative_name"
        assert f'value="{values["nir"]}"' in html
    assert _count(app) == 0


@pytest.mark.parametrize("name", ["Zoé D'Artagnan-Müller", "Ngô Bảo Châu", "O’Brien Łukasz",
                                  "عائشة", "Ἀλέξανδρος"])
def test_names_in_any_script_are_accepted(client, name):
    html = _review(client, birth_name=name, first_names=name).get_data(as_text=True)
    assert "Relisez" in html, name


def test_future_birth_date(client):
    from core.clock import local_today

    next_year = str(local_today().year + 1)
    body = "2" + next_year[-2:] + "0375056123"
    response = _review(client, nir=make_nir(body), birth_year=next_year)
    html = response.get_data(as_text=True)
    assert 'id="birth_date-error"' in html and "ne peut pas être dans le futur" in html
    # everything typed is still there, the wrong date included, to be corrected in place
    kept = form_values(nir=make_nir(body), birth_year=next_year)
    for name in ("nir", "birth_name", "first_names", "birth_day", "birth_month", "birth_year",
                 "email"):
        assert f'name="{name}" value="{kept[name]}"' in html, name
    assert re.search(r'value="F"\s+checked', html) and re.search(r'value="self"\s+checked', html)
    assert re.search(r'id="consent"[^>]*checked', html)


@pytest.mark.parametrize(("content", "message"), [
    (b"MZ\x90\x00 not a document", "PDF, JPEG ou PNG"),
    (b"GIF89a" + b"\x00" * 40, "PDF, JPEG ou PNG"),
    (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "PDF, JPEG ou PNG"),
    (PNG[:-12], "PDF, JPEG ou PNG"),
    (b"%PDF-" + b"x" * 200_000, "5 Mo au plus"),
])
def test_document_type_and_size_are_checked_from_the_bytes(client, monkeypatch, content,
                                                            message):
    import io

    from objection import forms

    # The limit is lowered for the test: the test client spools bodies over 500 kB to a
    # temporary file it never closes. 200 kB over a 100 kB limit exercises the same check.
    monkeypatch.setattr(forms, "MAX_DOCUMENT_BYTES", 100_000)
    response = _review(client, values=child_values(),
                       files={"document": (io.BytesIO(content), "livret.pdf")})
    html = response.get_data(as_text=True)
    assert message in html and 'id="document-error"' in html
    assert 'value="Jean Parent"' in html


def _post_big(client, prefix: str, size: int):
    tokens = hidden(client.get(f"{prefix}/opposition").get_data(as_text=True))
    body, content_type = multipart({**child_values(), **tokens},
                                   {"document": ("scan.pdf", b"%PDF-" + b"x" * size)})
    return client.post(f"{prefix}/opposition", data=body, content_type=content_type), len(body)


def test_a_document_bigger_than_the_sites_request_limit_gets_its_field_message(app, client):
    """A 13 MB scan is over the site's 12 MB request limit: the filer still gets the form back
    with the 5 MB message next to the document field and every answer kept, not a bare 413."""
    response, length = _post_big(client, "", 13 * 1024 * 1024)
    assert length > app.config["MAX_CONTENT_LENGTH"]
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="document-error"' in html and "5 Mo au plus" in html
    assert 'value="Jean Parent"' in html and f'value="{child_values()["nir"]}"' in html
    assert _count(app) == 0


@pytest.mark.parametrize(("prefix", "texts"), [
    ("", ["Le document joint est trop lourd", "5 Mo au plus", "« Précédent »",
          "Vos réponses y sont encore", 'href="/opposition"']),
    ("/en", ["The attached document is too large", "5 MB or smaller", "“Back”",
             "Your answers are still there", 'href="/en/opposition"']),
])
def test_past_the_forms_own_limit_a_page_explains_the_limit_and_the_way_back(client, prefix,
                                                                             texts):
    from objection.views import FORM_MAX_REQUEST_BYTES

    response, _ = _post_big(client, prefix, FORM_MAX_REQUEST_BYTES)
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and response.headers["Cache-Control"] == "no-store"
    for expected in texts:
        assert expected in html, expected


def test_the_form_checks_the_file_size_in_the_browser_when_it_can(client):
    """A small external script (CSP: no inline script) checks the size before upload; the
    message it shows is in the page, translated, and the form works without it."""
    html = client.get("/opposition").get_data(as_text=True)
    script = re.search(r'<script src="(/static/objection/objection\.js)" defer>', html)
    assert script, "the size check script is linked"
    assert 'data-max-bytes="5242880"' in html and 'data-size-error="document-size-error"' in html
    assert re.search(r'id="document-size-error" role="alert" hidden>.*plus de 5 Mo', html)
    served = client.get(script.group(1))
    assert served.status_code == 200 and "javascript" in served.content_type
    assert "file.size > limit" in served.get_data(as_text=True)
    served.close()
    style = client.get("/static/objection/objection.css")  # keeps the message hidden until then
    assert ".field-error[hidden]" in style.get_data(as_text=True)
    assert 'href="/static/objection/objection.css"' in html
    style.close()


def test_the_real_limit_is_five_megabytes():
    from objection.forms import MAX_DOCUMENT_BYTES

    assert MAX_DOCUMENT_BYTES == 5 * 1024 * 1024


def test_a_document_is_required_for_someone_else(client):
    html = _review(client, filer="represented", representative_name="Jean").get_data(as_text=True)
    assert "Joignez un document" in html


def test_a_good_document_is_kept_when_another_field_is_wrong(app, client):
    import io

    values = child_values(email="pas-une-adresse")
    first = _review(client, values=values, files={"document": (io.BytesIO(PNG), "livret.png")})
    html = first.get_data(as_text=True)
    assert 'id="email-error"' in html and 'id="document-error"' not in html
    assert "Le document « livret.png » est déjà joint" in html
    # The document and its name (which may name the person), both encrypted, owner only.
    pending = list((Path(app.config["INSTANCE_DIR"]) / "uploads" / "pending").glob("*.bin"))
    assert len(pending) == 2
    for path in pending:
        assert PNG not in path.read_bytes() and b"livret" not in path.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The person corrects the address and sends the form again without choosing the file again.
    again = client.post("/opposition", data={**child_values(), **hidden(html)},
                        content_type="multipart/form-data")
    assert "Relisez" in again.get_data(as_text=True)
    # The review page names the document kept from the first sending, with its type and size.
    assert re.search(r"<dd>livret\.png \(PNG, 1 Ko\)</dd>", again.get_data(as_text=True))


@pytest.mark.parametrize(("values", "message"), [
    (form_values(nir=make_nir("2160575056123"), birth_day="10", birth_month="5",
                 birth_year="2016"), "moins de 15 ans : un parent"),
    (child_values(nir=make_nir(), birth_day="14", birth_month="3", birth_year="1985"),
     "18 ans ou plus"),
])
def test_who_may_file_depends_on_the_age(client, values, message):
    html = _review(client, values=values).get_data(as_text=True)
    assert 'id="filer-error"' in html and message in html


def test_an_accented_address_gets_its_own_message(app, client):
    """A part before the "@" that needs SMTPUTF8 would fail on many mail servers: the filer is
    told at once, with the input kept, rather than the receipt being silently lost."""
    html = _review(client, email="zoé@exemple.fr").get_data(as_text=True)
    assert 'id="email-error"' in html and "ni accent" in html
    assert 'value="zoé@exemple.fr"' in html and 'value="Zorglubienne"' in html
    tokens = hidden(html)
    sent = client.post("/opposition/envoyer", data={**form_values(email="zoé@exemple.fr"),
                                                    **tokens, "action": "envoyer"})
    assert sent.status_code == 200 and "ni accent" in sent.get_data(as_text=True)
    assert _count(app) == 0


@pytest.mark.parametrize("year", ["9" * 30, "-1985", "1985.0", "١٩٨٥", "0"])
def test_absurd_birth_years_get_a_message_not_an_error(client, year):
    for path in ("/opposition", "/opposition/envoyer"):
        tokens = hidden(client.get("/opposition").get_data(as_text=True))
        response = client.post(path, data={**form_values(birth_year=year), **tokens,
                                           "action": "envoyer"})
        assert response.status_code == 200
        assert 'id="birth_date-error"' in response.get_data(as_text=True)


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
    values = child_values()
    review = client.post("/opposition", content_type="multipart/form-data",
                         data={**values, **page, "document": (io.BytesIO(PDF), "livret.pdf")})
    assert review.status_code == 200 and "Relisez" in review.get_data(as_text=True)
    # the review page names the file that will be sent, with its type and size
    assert "<dd>livret.pdf (PDF, 1 Ko)</dd>" in review.get_data(as_text=True)
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
    assert not list((Path(app.config["INSTANCE_DIR"]) / "uploads" / "pending").glob("*"))


def test_project_objection(app, client):
    with app.app_context():
        make_project("HDH-2024-0001")
    assert "HDH-2024-0001" in client.get("/projets/HDH-2024-0001/opposition",
                                         follow_redirects=True).get_data(as_text=True)
    response = file_through_ui(client, scope="project", project_reference="HDH-2024-0001")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Objection.project_reference)) == "HDH-2024-0001"


CLOSED_PROJECTS = {
    # a project the law exempts: a general objection does not cover it either
    "exempt": ({"objections_applied": False,
                "objection_exception_reason": "Projet imposé par la loi."},
               "Les oppositions ne s'appliquent pas à ce projet : ni une opposition à ce "
               "projet, ni une opposition générale.",
               "Une opposition générale ne le concerne pas non plus"),
    # a finished project: no more data, a general objection changes nothing for it
    "finished": ({"status": "termine", "processing_ended_on": "2025-01-01"},
                 "Ce projet est terminé ou arrêté : il n'accepte plus d'oppositions.",
                 "opposition générale ne change rien pour"),
    # past its deadline, still running: a general objection still covers what comes next
    "deadline": ({"objection_deadline": "2025-01-01"},
                 "Ce projet n'accepte plus d'oppositions. Une opposition générale s'y applique "
                 "encore",
                 "Une opposition générale s'y applique encore : vos données seront retirées "
                 "des extractions faites après elle, pour ce projet comme pour tous les autres"),
}


@pytest.mark.parametrize("case", CLOSED_PROJECTS)
def test_a_project_without_objections_says_what_a_general_objection_does(app, client, case):
    """Each reason a project takes no objection has its own words, on the form, on the page the
    project's button leads to and on the project's page: "n'accepte plus" is only for a
    project that did take them, and a general objection is offered only where it helps."""
    changes, form_message, general = CLOSED_PROJECTS[case]
    with app.app_context():
        make_project("HDH-2024-0002", **changes)

    def text(response) -> str:
        return response.get_data(as_text=True).replace("&#39;", "'")

    review = text(_review(client, scope="project", project_reference="HDH-2024-0002"))
    assert 'id="project_reference-error"' in review and form_message in review
    if case == "exempt":
        assert "n'accepte plus" not in review and "Vous pouvez faire une opposition" not in review
    page = text(client.get("/projets/HDH-2024-0002/opposition"))
    assert general in page and "Parcours de soins des enfants asthmatiques" in page
    assert ("n'accepte plus" in page) == (case != "exempt")
    assert general in text(client.get("/projets/HDH-2024-0002"))


def test_the_form_opened_from_a_project_names_it(app, client):
    with app.app_context():
        make_project("HDH-2024-0001")
    html = client.get("/projets/HDH-2024-0001/opposition", follow_redirects=True) \
        .get_data(as_text=True)
    assert 'value="HDH-2024-0001"' in html
    assert re.search(r'<p class="hint" id="project_reference-name">Le projet HDH-2024-0001 :'
                     r' <span>Parcours de soins des enfants asthmatiques</span></p>', html)
    assert re.search(r'id="project_reference"[^>]*aria-describedby="project_reference-hint '
                     r'project_reference-name"', html)
    english = client.get("/en/opposition?projet=HDH-2024-0001").get_data(as_text=True)
    assert '<span lang="fr">Parcours de soins des enfants asthmatiques</span>' in english


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


@contextmanager
def _no_duplicate_key_error(app) -> Iterator[None]:
    """Fails if the database raised a duplicate-key error inside the block. Racing filings must
    not raise one even when caught (``ON CONFLICT DO NOTHING``): PostgreSQL's log would keep
    its message, which names the pseudonym (issue 9, item 7)."""
    engine = app.extensions["database"]["engine"]
    duplicates: list[BaseException] = []

    def record(context) -> None:
        # SQLAlchemy's IntegrityError wraps every driver's (sqlite3, psycopg's UniqueViolation)
        if isinstance(context.sqlalchemy_exception, IntegrityError):
            duplicates.append(context.original_exception)

    event.listen(engine, "handle_error", record)
    try:
        yield
    finally:
        event.remove(engine, "handle_error", record)
    assert not duplicates, f"the database raised duplicate-key errors: {duplicates}"


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
    with _no_duplicate_key_error(app):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors
    return locations


def _concurrent_first_filings(app, count: int = 8) -> None:
    """``count`` browsers, each with its own form, file for the same person at the same time."""
    prepared = []
    for _ in range(count):
        client = app.test_client()
        page = hidden(client.get("/opposition").get_data(as_text=True))
        review = client.post("/opposition", data={**form_values(), **page})
        prepared.append((client.get_cookie("session").value,
                         {**form_values(), **hidden(review.get_data(as_text=True)),
                          "action": "envoyer"}))
    statuses: list[int] = []
    barrier = threading.Barrier(count)

    def submit(cookie: str, data: dict) -> None:
        own = app.test_client()
        own.set_cookie("session", cookie)
        barrier.wait()
        statuses.append(own.post("/opposition/envoyer", data=data).status_code)

    threads = [threading.Thread(target=submit, args=item) for item in prepared]
    with _no_duplicate_key_error(app):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [303] * count
    with app.app_context():
        objections = list(db.session.scalars(select(Objection)))
        assert len(objections) == count  # every filer got their own receipt
        primaries = [o for o in objections if o.linked_to_id is None]
        assert len(primaries) == 1
        assert all(o.linked_to_id == primaries[0].id for o in objections if o is not primaries[0])


def test_racing_first_filings_for_one_person_leave_one_primary(app):
    _concurrent_first_filings(app)


@pytest.mark.postgres
def test_racing_first_filings_for_one_person_on_postgresql(postgres_url, tmp_path):
    app = make_test_app(postgres_url, tmp_path)
    try:
        _concurrent_first_filings(app)
    finally:
        from tests.conftest import _empty_tables

        app.extensions["database"]["engine"].dispose()
        _empty_tables(postgres_url)


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


def test_a_form_token_only_works_in_the_browser_that_got_it(app, client):
    first = file_through_ui(client)
    review_tokens = hidden(client.get("/opposition").get_data(as_text=True))
    stranger = app.test_client()
    own = hidden(stranger.get("/opposition").get_data(as_text=True))
    # The stranger copies the first browser's form token into their own form.
    response = stranger.post("/opposition/envoyer", data={
        **form_values(nir=make_nir("1850375056123"), sex="M"), "csrf_token": own["csrf_token"],
        "token": review_tokens["token"], "action": "envoyer"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "le formulaire avait expiré" in html
    assert first.headers["Location"] not in html and _count(app) == 1


def test_changing_the_answers_after_filing_files_a_new_objection(app, client):
    page = hidden(client.get("/opposition").get_data(as_text=True))
    review = hidden(client.post("/opposition", data={**form_values(), **page})
                    .get_data(as_text=True))
    first = client.post("/opposition/envoyer", data={**form_values(), **review,
                                                     "action": "envoyer"})
    # Back to the review page, "Modifier", another person, same form token: a new filing.
    other = form_values(nir=make_nir("1850375056123"), sex="M", first_names="Octave")
    second = client.post("/opposition/envoyer", data={**other, **review, "action": "envoyer"})
    assert second.status_code == 303
    assert first.headers["Location"] != second.headers["Location"]
    assert _count(app) == 2


def test_the_follow_up_code_is_shown_for_a_limited_time(app, client, monkeypatch):
    from objection import views

    location = file_through_ui(client).headers["Location"]
    code = re.compile(r"<strong>[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}</strong>")
    assert code.search(client.get(location).get_data(as_text=True))
    monkeypatch.setattr(views, "RECEIPT_CODE_SHOWN_FOR", -views.RECEIPT_CODE_SHOWN_FOR)
    later = file_through_ui(client, nir=make_nir("1850375056123"), sex="M").headers["Location"]
    html = client.get(later).get_data(as_text=True)
    assert not code.search(html) and "n'est plus affiché" in html.replace("&#39;", "'")


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


def test_nothing_personal_in_clear_in_the_database_files_or_logs(app, client, capfd, caplog,
                                                                 database_url):
    """A whole journey with distinctive values (self and proxy filings, a document, a linked
    filing, a withdrawal, mails), then every table, the database files, every file under the
    instance folder and every log line are searched for them."""
    import io

    from objection.mail import send_pending

    nir, child_nir = make_nir(), make_nir("2160575056123")
    page = hidden(client.get("/opposition").get_data(as_text=True))
    tokens = [page["token"]]
    review = client.post("/opposition", data={**form_values(nir=nir[:2] + " " + nir[2:]),
                                              **page})
    client.post("/opposition/envoyer", data={**form_values(nir=nir[:2] + " " + nir[2:]),
                                             **hidden(review.get_data(as_text=True)),
                                             "action": "envoyer"})
    page = hidden(client.get("/opposition").get_data(as_text=True))
    tokens.append(page["token"])
    values = child_values(representative_name="Jean Parentdistinct", birth_name="Quibblewick")
    review = client.post("/opposition", content_type="multipart/form-data",
                         data={**values, **page, "document": (io.BytesIO(PDF), "l.pdf")})
    client.post("/opposition/envoyer", data={**values, **hidden(review.get_data(as_text=True)),
                                             "action": "envoyer"})
    location = file_through_ui(client).headers["Location"]  # a linked filing
    reference, code = re.findall(r"<strong>([^<]+)</strong>",
                                 client.get(location).get_data(as_text=True))[:2]
    follow = hidden(client.get("/opposition/suivi").get_data(as_text=True))
    client.post("/opposition/suivi", data={"reference": reference, "code": code, **follow,
                                           "action": "confirmer-retrait"})
    with app.app_context():
        send_pending(db.session)
        dump = []
        for table in ("objections", "objection_events", "outbox_mails"):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                dump.extend(value.decode("utf-8", "replace") if isinstance(value, bytes)
                            else str(value) for value in row)
    personal = [nir, child_nir, nir[:2] + " " + nir[2:], "Zorglubienne", "Quibblewick",
                "Philomène", "Capucine", "Parentdistinct", "1985-03-14", "14/03/1985",
                "14 mars 1985", "2016-05-10", "10/05/2016", "10 mai 2016", code, *tokens]
    addresses = ["philomene@exemple.fr"]
    haystacks = {"database rows": "\n".join(dump)}
    if database_url.startswith("sqlite:///"):
        database_file = Path(database_url.removeprefix("sqlite:///"))
        for path in database_file.parent.glob(database_file.name + "*"):  # with -wal
            haystacks[path.name] = path.read_bytes().decode("utf-8", "replace")
    for path in Path(app.config["INSTANCE_DIR"]).rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_bytes().decode("utf-8", "replace")
    logs = capfd.readouterr()
    haystacks["logs"] = logs.out + logs.err + caplog.text
    mails = [name for name in haystacks if "/mail/" in name]
    assert mails, "the development mails should have been written"
    for name, haystack in haystacks.items():
        for value in personal + ([] if name in mails else addresses):
            assert value not in haystack, f"{value!r} found in clear in {name}"


@pytest.mark.parametrize(("prefix", "moment"), [
    ("", r"le \d{1,2}(?:er)? \w+ \d{4} à \d{2}:\d{2}\."),  # "1er décembre" on the 1st
    ("/en", r"on \d{1,2} [A-Z]\w+ \d{4} at \d{2}:\d{2}\."),
])
def test_the_receipt_says_when_and_what_in_plain_words(client, prefix, moment):
    html = client.get(file_through_ui(client, prefix=prefix).headers["Location"]) \
        .get_data(as_text=True)
    assert re.search(moment, html), "date and time as people write them"
    assert "+0" not in html and ":00 " not in html  # no UTC offset, no seconds
    assert "Toute utilisation pour la recherche" in html or "All research use" in html


def test_a_filing_for_a_child_sent_twice_gives_the_same_receipt(app, client):
    import io

    page = hidden(client.get("/opposition").get_data(as_text=True))
    review = client.post("/opposition", content_type="multipart/form-data",
                         data={**child_values(), **page, "document": (io.BytesIO(PDF), "l.pdf")})
    data = {**child_values(), **hidden(review.get_data(as_text=True)), "action": "envoyer"}
    first = client.post("/opposition/envoyer", data=data)
    again = client.post("/opposition/envoyer", data=data)  # the document is gone by now
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(app) == 1


@pytest.mark.parametrize(("prefix", "title", "form_page"), [
    ("", "Envoi trop lourd", "Le document joint est trop lourd"),
    ("/en", "Upload too large", "The attached document is too large"),
])
@pytest.mark.parametrize("path", ["/opposition/envoyer", "/opposition/suivi"])
def test_routes_without_a_document_answer_the_sites_own_413_page(app, client, prefix, title,
                                                                 form_page, path):
    """Only the form takes a document: a body too big for another objection route gets the
    site's generic page, not one about an attached document."""
    app.config["MAX_CONTENT_LENGTH"] = 1000  # the site's limit, lowered to keep the test fast
    response = client.post(f"{prefix}{path}", data={"reference": "x" * 5000})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert f"<h1>{title}</h1>" in html and form_page not in html
