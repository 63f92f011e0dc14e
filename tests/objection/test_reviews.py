"""`flask objection reviews`: what staff must look at until the back-office lists it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.extensions import db
from objection import queries, service
from objection.identity import parse_nir
from objection.keys import keyring
from objection.models import Filer, Scope
from tests.objection.factories import CHILD_NIR_BODY, DISTINCT_NIR_BODY, PDF, make_nir


def _file(body: str, token: str, filer: Filer = Filer.SELF, **extra) -> queries.Filing:
    birth = date(2016, 5, 10) if body == CHILD_NIR_BODY else date(1985, 3, 14)
    return service.file_objection(db.session, service.FilingInput(
        filer=filer, scope=Scope.GENERAL, project_reference=None, nir=parse_nir(make_nir(body)),
        birth_name="Zorglubienne", first_names="Capucine", birth_date=birth, sex="F",
        email=f"{token}@exemple.fr", **extra), form_token=token)


def test_reviews_lists_documents_to_check_and_linked_withdrawals_without_identities(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["objection", "reviews"]).output == "Aucune demande à examiner.\n"
    with app.app_context():
        child = _file(CHILD_NIR_BODY, "parent", Filer.CHILD, representative_name="Jean Parent",
                      document=PDF, document_type="application/pdf")
        own = _file(DISTINCT_NIR_BODY, "own")
        linked = _file(DISTINCT_NIR_BODY, "stranger")
        lone = _file("1850375056123", "lone")
        db.session.commit()
        service.withdraw(db.session, linked.objection, by="citizen:web")
        service.withdraw(db.session, lone.objection, by="citizen:web")  # a primary: no review
        db.session.commit()
        references = {name: f.objection.reference
                      for name, f in (("child", child), ("own", own), ("linked", linked),
                                      ("lone", lone))}
        due = child.objection.answer_due_on.isoformat()
        pseudonyms = [keyring().pseudonymise(make_nir(b))[1]
                      for b in (CHILD_NIR_BODY, DISTINCT_NIR_BODY)]
    result = runner.invoke(args=["objection", "reviews"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "2 demande(s) à examiner :"
    child_line, linked_line = lines[1:]
    assert child_line.startswith(f"{references['child']}  to_review")
    assert "enfant mineur : vérifier le justificatif" in child_line and due in child_line
    assert linked_line.startswith(f"{references['linked']}  withdrawn")
    assert f"retrait d'une demande liée à {references['own']}" in linked_line
    assert "décider si l'opposition de la personne est levée" in linked_line
    assert references["lone"] not in result.output
    for secret in ("Zorglubienne", "Capucine", "Jean Parent", "@exemple.fr", "1985", "2016-05",
                   make_nir(CHILD_NIR_BODY), make_nir(DISTINCT_NIR_BODY), *pseudonyms):
        assert secret not in result.output


def test_a_late_review_says_so(app):
    with app.app_context():
        child = _file(CHILD_NIR_BODY, "parent", Filer.CHILD, representative_name="Jean Parent",
                      document=PDF, document_type="application/pdf")
        db.session.commit()
        later = datetime.combine(child.objection.answer_due_on + timedelta(days=1),
                                 datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        items = queries.filings_to_review(db.session, now=later)
    assert [item.reference for item in items] == [child.objection.reference]
    assert items[0].reason.endswith("EN RETARD")
