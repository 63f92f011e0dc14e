"""The register's back-office: an editor creates a draft (hidden everywhere public), previews
it, publishes it (page, search, export, sitemap), edits it (a revision each time, a readable
diff), changes its status with a dated step, adds a result, unpublishes it (gone at once from
every public page, the search, the exports and the sitemap). Each change is an audit event."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from registry import queries, service
from registry.models import Project
from staff import audit
from tests.conftest import csrf_token_from
from tests.staff.factories import make_staff, signed_in

REFERENCE = "HDH-2026-0042"
FORM = {
    "reference": REFERENCE, "status": "autorise", "title": "Suivi des fractures du col du fémur",
    "summary": "Ce projet suit les personnes opérées d'une fracture du col du fémur.",
    "objective": "Mesurer la reprise de la marche après l'opération.",
    "public_interest": "Mieux organiser la rééducation.",
    "sponsor": "Hôpital universitaire de Vernon", "sponsor_kind": "hopital",
    "sponsor_city": "Vernon", "sources": ["DCIR", "PMSI-MCO"], "themes": ["pediatrie"],
    "legal_basis": "autorisation-cnil", "processing_location": "plateforme",
    "objections_applied": "oui", "authorised_on": "2026-02-01",
}


def _editor(app):
    with app.app_context():
        service.sync_data_sources(db.session)
        db.session.commit()
    staff = make_staff(app, "editor")
    return signed_in(app, app.test_client(), staff), staff


def _post(client, path: str, data: dict, page: str):
    return client.post(path, data={"csrf_token": csrf_token_from(client.get(page).data),
                                   **data})


def _public(client) -> dict[str, bool]:
    """Where the project shows to the public."""
    return {
        "page": client.get(f"/projets/{REFERENCE}").status_code == 200,
        "search": REFERENCE in client.get("/projets?q=fémur").get_data(as_text=True),
        "export": REFERENCE in client.get("/projets.csv").get_data(as_text=True),
        "api": client.get(f"/api/v1/projects/{REFERENCE}").status_code == 200,
        "sitemap": REFERENCE in client.get("/sitemap.xml").get_data(as_text=True),
    }


def test_a_draft_is_hidden_until_published_then_hidden_again_when_unpublished(app, client):
    editor, staff = _editor(app)
    created = _post(editor, "/gestion/registre/projets/nouveau", FORM,
                    "/gestion/registre/projets/nouveau")
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    assert _public(client) == dict.fromkeys(("page", "search", "export", "api", "sitemap"),
                                            False)
    preview = editor.get(f"/gestion/registre/projets/{REFERENCE}/apercu")
    assert preview.status_code == 200 and "Aperçu" in preview.get_data(as_text=True)
    assert "fémur" in preview.get_data(as_text=True)
    assert preview.headers["Cache-Control"] == "no-store"
    with app.app_context():
        version = queries.register_version(db.session).number
    page = f"/gestion/registre/projets/{REFERENCE}"
    _post(editor, f"{page}/publication", {"publier": "oui"}, page)
    assert _public(client) == dict.fromkeys(("page", "search", "export", "api", "sitemap"),
                                            True)
    _post(editor, f"{page}/publication", {"publier": "non"}, page)
    assert _public(client) == dict.fromkeys(("page", "search", "export", "api", "sitemap"),
                                            False)
    with app.app_context():
        assert queries.register_version(db.session).number >= version + 2
        actions = [(e.action, e.actor) for e in audit.recent(db.session)]
    for action in ("registry.project_saved", "registry.project_published",
                   "registry.project_unpublished"):
        assert (action, f"staff:{staff.id}") in actions


def test_a_mistake_gives_a_message_per_field_and_keeps_the_input(app):
    editor, _ = _editor(app)
    response = _post(editor, "/gestion/registre/projets/nouveau",
                     {**FORM, "title": "", "sources": []}, "/gestion/registre/projets/nouveau")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Titre : champ obligatoire" in html and "au moins une source" in html
    assert "Mesurer la reprise de la marche" in html  # nothing typed is lost
    with app.app_context():
        assert db.session.scalar(select(Project)) is None


def test_each_save_writes_a_revision_and_the_history_shows_what_changed(app):
    editor, staff = _editor(app)
    _post(editor, "/gestion/registre/projets/nouveau", FORM, "/gestion/registre/projets/nouveau")
    page = f"/gestion/registre/projets/{REFERENCE}"
    edited = _post(editor, page, {**FORM, "summary": "Ce projet suit les personnes "
                                  "opérées d'une fracture de la hanche."}, f"{page}/modifier")
    assert edited.status_code == 303 and "fait=enregistre" in edited.location
    again = _post(editor, page, {**FORM, "summary": "Ce projet suit les personnes "
                                 "opérées d'une fracture de la hanche."}, f"{page}/modifier")
    assert "fait=inchange" in again.location  # the same data again: no new revision
    history = editor.get(f"{page}/historique").get_data(as_text=True)
    assert "Version 2" in history and "Version 3" not in history
    assert "<del>du col du fémur.</del>" in history and "<ins>de la hanche.</ins>" in history
    assert f"staff:{staff.id}" in history


def test_status_steps_and_results(app, client):
    editor, _ = _editor(app)
    _post(editor, "/gestion/registre/projets/nouveau", FORM, "/gestion/registre/projets/nouveau")
    page = f"/gestion/registre/projets/{REFERENCE}"
    missing = _post(editor, f"{page}/statut", {"status": "en-cours", "on": "hier"}, page)
    assert missing.status_code == 400 and "Saisissez la date" in missing.get_data(as_text=True)
    _post(editor, f"{page}/statut", {"status": "en-cours", "on": "2026-03-01"}, page)
    added = _post(editor, f"{page}/resultats", {"kind": "article", "title": "Premiers résultats",
                                                "published_on": "2026-04-02"}, page)
    assert added.status_code == 303, added.get_data(as_text=True)[:2000]
    with app.app_context():
        project = queries.get_project(db.session, REFERENCE, drafts=True)
        assert project.status == "en-cours"
        assert ("en-cours", "2026-03-01") in [(str(e.status), e.happened_on.isoformat())
                                              for e in project.status_events]
        assert [r.title for r in project.results] == ["Premiers résultats"]
        assert len(project.revisions) == 3


def test_an_editor_changes_an_organisation(app):
    editor, _ = _editor(app)
    _post(editor, "/gestion/registre/projets/nouveau", FORM, "/gestion/registre/projets/nouveau")
    with app.app_context():
        slug = queries.get_project(db.session, REFERENCE, drafts=True).sponsor.slug
    path = f"/gestion/registre/organisations/{slug}"
    done = _post(editor, path, {"kind": "recherche", "city": "Évreux"}, path)
    assert "Organisation enregistrée" in done.get_data(as_text=True)
    wrong = _post(editor, path, {"kind": "inconnu", "city": "Évreux"}, path)
    assert wrong.status_code == 400
