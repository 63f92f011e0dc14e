"""Builders for objection tests: valid NIRs and form submissions."""

from __future__ import annotations

import re

from objection.identity import key_of

DISTINCT_NIR_BODY = "2850375056123"  # woman, born March 1985, Paris
CHILD_NIR_BODY = "2160575056123"     # girl, born May 2016, Paris

# Whole (tiny) files of each accepted type: the form checks how a file starts AND ends.
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


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


def child_values(**changes: str) -> dict[str, str]:
    """A parent filing for their daughter, aged 10 in 2026."""
    return form_values(**{"filer": "child", "representative_name": "Jean Parent",
                          "nir": make_nir(CHILD_NIR_BODY), "birth_name": "Zorglubienne",
                          "first_names": "Capucine", "birth_day": "10", "birth_month": "5",
                          "birth_year": "2016", **changes})


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


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body built in memory, and its content type. (The test client's own
    encoder spools big bodies to a temporary file it never closes: a ResourceWarning.)"""
    boundary = "----hdh-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
