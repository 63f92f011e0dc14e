"""The follow-up page for a new user: a field left empty is asked for (not called wrong, not
counted as a wrong code), and a lost code is explained."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from objection.documents import display_name
from objection.models import Objection
from tests.objection.factories import file_through_ui, hidden


def _post(client, prefix="", **data):
    tokens = hidden(client.get(f"{prefix}/opposition/suivi").get_data(as_text=True))
    return client.post(f"{prefix}/opposition/suivi", data={**tokens, **data})


@pytest.mark.parametrize(("data", "asked", "kept"), [
    ({"reference": "", "code": ""}, ["reference", "code"], ""),
    ({"reference": "OPP-7K3M-Q9TX-4", "code": "  "}, ["code"], "OPP-7K3M-Q9TX-4"),
    ({"reference": "", "code": "4F7K-9QXM-2B3T"}, ["reference"], ""),
])
def test_an_empty_field_is_asked_for_not_called_incorrect(client, data, asked, kept):
    response = _post(client, **data)
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200 and "incorrect" not in html
    assert 'class="error-summary"' in html
    for field in ("reference", "code"):
        assert (f'id="{field}-error"' in html) == (field in asked)
        if field in asked:
            assert re.search(rf'id="{field}"[^>]*aria-describedby="{field}-hint {field}-error"'
                             rf'[^>]*aria-invalid="true"', html)
            assert f'<a href="#{field}">Saisissez' in html
    assert f'name="reference" value="{kept}"' in html


def test_an_empty_code_is_not_counted_as_a_wrong_one(app, client):
    location = file_through_ui(client).headers["Location"]
    reference = re.findall(r"<strong>([^<]+)</strong>",
                           client.get(location).get_data(as_text=True))[0]
    for _ in range(6):  # more than the five wrong codes that lock a reference
        assert _post(client, reference=reference, code="").status_code == 200
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.failed_lookups == 0 and objection.locked_until is None


@pytest.mark.parametrize(("prefix", "texts"), [
    ("", ["Vous avez perdu votre code de suivi ?", "nous ne le gardons pas",
          "Votre demande reste enregistrée", 'href="/opposition">Faire une nouvelle demande']),
    ("/en", ["Lost your follow-up code?", "we do not keep it", "Your request stays recorded",
             'href="/en/opposition">Make a new request']),
])
def test_the_follow_up_page_says_what_to_do_with_a_lost_code(client, prefix, texts):
    html = client.get(f"{prefix}/opposition/suivi").get_data(as_text=True).replace("&#39;", "'")
    for text in texts:
        assert text in html, text


@pytest.mark.parametrize(("sent", "shown"), [
    ("livret.pdf", "livret.pdf"),
    ("C:\\Users\\jean\\Documents\\livret.pdf", "livret.pdf"),
    ("/home/jean/scan.png", "scan.png"),
    ("fdp\u202eexe.pdf", "fdpexe.pdf"),   # a right-to-left override would show "fdpfdp.exe"
    ("a\x00b\nc.pdf", "abc.pdf"),
    ("x" * 200 + ".pdf", "x" * 80),
])
def test_a_documents_name_is_shown_as_sent_without_hidden_characters(sent, shown):
    assert display_name(sent) == shown
