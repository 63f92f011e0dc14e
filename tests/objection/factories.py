"""Builders for objection tests: valid NIRs and form submissions."""

from __future__ import annotations

import re
import struct
import zlib

from objection.identity import key_of

DISTINCT_NIR_BODY = "2850375056123"  # woman, born March 1985, Paris
CHILD_NIR_BODY = "2160575056123"     # girl, born May 2016, Paris

# Whole (tiny) files of each accepted type: the form parses them (objection/document_checks).
PDF = (b"%PDF-1.3\n1 0 obj\n<< /Type /Pages /Count 1 /Kids [ 3 0 R ] >>\nendobj\n"
       b"2 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\n"
       b"3 0 obj\n<< /Type /Page /Resources << >> /MediaBox [ 0 0 595 842 ] /Parent 1 0 R >>"
       b"\nendobj\n")
# a real cross-reference table (the document checks parse the file: objection/document_checks)
_OFFSETS = [PDF.index(f"{n} 0 obj".encode()) for n in (1, 2, 3)]
PDF += (b"xref\n0 4\n0000000000 65535 f \n"
        + b"".join(f"{offset:010d} 00000 n \n".encode() for offset in _OFFSETS)
        + f"trailer\n<< /Size 4 /Root 2 0 R >>\nstartxref\n{len(PDF)}\n%%EOF\n".encode())
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


# A 1×1 transparent PNG, every chunk with its CRC.
PNG = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
       + _png_chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
       + _png_chunk(b"IEND", b""))


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
