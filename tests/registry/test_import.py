"""Importing projects: valid files, files with errors, re-import, dry run."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from registry.models import Project, ProjectRevision
from website.extensions import db

HEADER = ("reference;titre;resume;objectif;interet_public;promoteur;promoteur_type;sources;"
          "themes;statut;fin_prevue;intelligence_artificielle")
ROW_1 = ("HDH-2025-0042;Asthme de l'enfant et pollution;Ce projet étudie l'asthme.;Mesurer;"
         "Prévenir;CHU de Valmont;hopital;DCIR|PMSI-MCO;pediatrie;en-cours;2027-06-30;non")
ROW_2 = ("HDH-2025-0043;Chutes des personnes âgées;Ce projet étudie les chutes.;Décrire;"
         "Prévenir;Université de Bellerive;recherche;PMSI-MCO;vieillissement;autorise;;oui")


def _write(tmp_path, name: str, text: str, bom: bool = False):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(Project.id))),
                db.session.scalar(select(func.count(ProjectRevision.id))))


@pytest.mark.parametrize("bom", [False, True])
def test_import_semicolon_csv(app, runner, tmp_path, bom):
    path = _write(tmp_path, "p.csv", "\n".join([HEADER, ROW_1, ROW_2]) + "\n", bom=bom)
    result = runner.invoke(args=["registry", "import", str(path), "--by", "Import test"])
    assert result.exit_code == 0, result.output
    assert "2 création(s)" in result.output
    assert _counts(app) == (2, 2)
    with app.app_context():
        project = db.session.scalar(select(Project).where(Project.reference == "HDH-2025-0043"))
        assert project.uses_ai is True and [s.code for s in project.sources] == ["PMSI-MCO"]
        assert project.revisions[0].author == "Import test"


def test_import_comma_csv(app, runner, tmp_path):
    text = "\n".join(line.replace(";", ",").replace("Ce projet étudie l'asthme.",
                                                    '"Ce projet, sur l\'asthme."')
                     for line in [HEADER, ROW_1])
    result = runner.invoke(args=["registry", "import", str(_write(tmp_path, "p.csv", text))])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Project.summary)) == "Ce projet, sur l'asthme."


def test_import_json(app, runner, tmp_path):
    rows = [{"reference": "HDH-2025-0100", "titre": "Diabète", "resume": "Résumé",
             "objectif": "O", "interet_public": "I", "promoteur": "Laboratoires Aurore",
             "promoteur_type": "entreprise", "sources": ["DCIR"], "statut": "depose",
             "but_commercial": True}]
    path = _write(tmp_path, "p.json", json.dumps(rows, ensure_ascii=False))
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Project.commercial)) is True


def test_reimport_changes_nothing(app, runner, tmp_path):
    path = _write(tmp_path, "p.csv", "\n".join([HEADER, ROW_1, ROW_2]))
    runner.invoke(args=["registry", "import", str(path)])
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 0
    assert "0 création(s), 0 mise(s) à jour, 2 inchangé(s)" in result.output
    assert _counts(app) == (2, 2)


def test_changed_row_updates_with_a_revision(app, runner, tmp_path):
    runner.invoke(args=["registry", "import", str(_write(tmp_path, "a.csv",
                                                         "\n".join([HEADER, ROW_1])))])
    changed = ROW_1.replace("en-cours", "termine")
    result = runner.invoke(args=["registry", "import", str(_write(tmp_path, "b.csv",
                                                                  "\n".join([HEADER, changed])))])
    assert "1 mise(s) à jour" in result.output
    assert _counts(app) == (1, 2)


def test_errors_are_reported_by_line_and_field_and_nothing_is_written(app, runner, tmp_path):
    bad_date = ROW_2.replace(";autorise;;oui", ";autorise;30/06/2027;peut-être")
    bad_source = ROW_1.replace("DCIR|PMSI-MCO", "DCIR|INCONNUE")
    missing_title = ROW_1.replace("HDH-2025-0042;Asthme de l'enfant et pollution",
                                  "HDH-2025-0044;")
    text = "\n".join([HEADER, bad_source, bad_date, missing_title, ROW_1.replace("0042", "0045")])
    result = runner.invoke(args=["registry", "import", str(_write(tmp_path, "p.csv", text))])
    assert result.exit_code != 0
    output = result.output
    assert "ligne 2, champ « sources » : source(s) inconnue(s) : INCONNUE" in output
    assert "ligne 3, champ « fin_prevue » : date invalide" in output
    assert "ligne 3, champ « intelligence_artificielle »" in output
    assert "ligne 4, champ « titre » : champ obligatoire manquant" in output
    assert "rien n'a été importé" in output
    assert _counts(app) == (0, 0)


def test_unknown_column_and_unreadable_file(app, runner, tmp_path):
    result = runner.invoke(args=["registry", "import",
                                 str(_write(tmp_path, "p.csv", HEADER + ";couleur\n"))])
    assert "colonne(s) inconnue(s) : couleur" in result.output
    path = tmp_path / "latin1.csv"
    path.write_bytes("référence".encode("latin-1"))
    result = runner.invoke(args=["registry", "import", str(path)])
    assert "pas en UTF-8" in result.output


def test_dry_run_writes_nothing(app, runner, tmp_path):
    path = _write(tmp_path, "p.csv", "\n".join([HEADER, ROW_1, ROW_2]))
    result = runner.invoke(args=["registry", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Vérification seulement : 2 création(s)" in result.output
    assert _counts(app) == (0, 0)
