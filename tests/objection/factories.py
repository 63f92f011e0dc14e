"""Builders for objection tests: valid NIRs and form submissions."""

from __future__ import annotations

import re

from objection.identity import key_of

DISTINCT_NIR_BODY = "2850375056123"  # woman, born March 1985, Paris


def make_nir(body: str = DISTINCT_NIR_BODY) -> str:
    return f"{body}{key_of(body):02d}"


def form_values(**changes: str) -> dict[str, str]:
    values = {
        "filer": "self", "representative_name": "", "scope": "general",
        "project_reference": "", "nir": make_nir(), "birth_name": "Zorglubienne",
        "first_names": "Philomène", "birth_day": "14", "birth_month": "3",
        "birth_year": "1985", "sex": "F", "email": "philomene@exemple.fr", "consent": "oui",
    }
    values.update(changes)
    return values


_HIDDEN = re.compile(r'name="(csrf_token|token)" value="([^"]+)"')


def hidden(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


def file_through_ui(client, prefix: str = "", **changes: str):
    """GET the form, POST it, confirm the review: returns the final response."""
    page = client.get(f"{prefix}/opposition").get_data(as_text=True)
    tokens = hidden(page)
    review = client.post(f"{prefix}/opposition", data={**form_values(**changes), **tokens})
    assert review.status_code == 200, review.get_data(as_text=True)[:2000]
    confirm_tokens = hidden(review.get_data(as_text=True))
    return client.post(f"{prefix}/opposition/envoyer",
                       data={**form_values(**changes), **confirm_tokens, "action": "envoyer"})
