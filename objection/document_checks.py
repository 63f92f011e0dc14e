"""Supporting documents are read by their parsers before anyone opens them, not only by their
first and last bytes: a file is accepted only when it is wholly a PDF, a JPEG or a PNG, with
nothing active or foreign inside.

* **PNG**: every chunk walked, its CRC checked; IHDR first, IEND last with nothing after it;
  at most ``MAX_SIDE`` pixels a side and ``MAX_PIXELS`` in all (a 60000×60000 image of a few
  kilobytes would take gigabytes to open).
* **JPEG**: every segment walked from SOI to EOI (lengths that hold, a frame header with
  sane dimensions, entropy-coded data then EOI, nothing after it).
* **PDF**: parsed by pypdf (strict), at least one page, not encrypted; no JavaScript, launch,
  embedded file, rich media, XFA form or automatic action (``/OpenAction``, ``/AA``), looked
  for both in the parsed objects and in the raw bytes (names decoded from ``#xx``).
* **All**: no HTML, script or SVG markup anywhere in the bytes (a browser sniffing the file
  would run it), and at most ``MAX_BYTES``.

``check(content)`` returns the MIME type, or raises ``DocumentRejected`` with the reason (for
logs and tests; the form shows one French message).
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
import zlib

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 20_000
MAX_PIXELS = 60_000_000  # a 60-megapixel photo; a scan of an A4 page at 600 dpi is 35
_MARKUP = re.compile(rb"<\s*(?:html|script|body|head|iframe|svg|object|embed|meta|!doctype)\b"
                     rb"|javascript:", re.IGNORECASE)
_PDF_ACTIVE = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
               "/RichMedia", "/XFA", "/OpenAction", "/AA", "/SubmitForm", "/ImportData",
               "/GoToR", "/GoToE"}
_PDF_NAME = re.compile(rb"/[A-Za-z0-9#]+")
log = logging.getLogger(__name__)


class DocumentRejected(ValueError):
    """Not an acceptable document; the message says why (never shown to the filer)."""


def check(content: bytes) -> str:
    """The document's MIME type if it is a whole, passive PDF, JPEG or PNG."""
    if not content or len(content) > MAX_BYTES:
        raise DocumentRejected("empty or too large")
    if _MARKUP.search(content):
        raise DocumentRejected("markup inside")
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_png(content)
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        _check_jpeg(content)
        return "image/jpeg"
    if content.startswith(b"%PDF-"):
        _check_pdf(content)
        return "application/pdf"
    raise DocumentRejected("not a PDF, JPEG or PNG")


def kind_or_none(content: bytes) -> str | None:
    try:
        return check(content)
    except DocumentRejected as error:
        log.info("document refused: %s", error)
        return None


def _check_size(width: int, height: int) -> None:
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise DocumentRejected(f"image of {width}×{height} pixels")


def _check_png(content: bytes) -> None:
    position, first, ended = 8, True, False
    while position < len(content):
        if ended:
            raise DocumentRejected("data after IEND")
        if position + 12 > len(content):
            raise DocumentRejected("truncated chunk")
        length, kind = struct.unpack(">I4s", content[position:position + 8])
        data_end = position + 8 + length
        if data_end + 4 > len(content):
            raise DocumentRejected("chunk longer than the file")
        (crc,) = struct.unpack(">I", content[data_end:data_end + 4])
        if zlib.crc32(content[position + 4:data_end]) != crc:
            raise DocumentRejected("chunk CRC")
        if first:
            if kind != b"IHDR" or length != 13:
                raise DocumentRejected("IHDR not first")
            width, height = struct.unpack(">II", content[position + 8:position + 16])
            _check_size(width, height)
            first = False
        ended = kind == b"IEND"
        position = data_end + 4
    if not ended:
        raise DocumentRejected("no IEND")


_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _check_jpeg(content: bytes) -> None:
    position, framed = 2, False
    while True:
        if position + 4 > len(content) or content[position] != 0xFF:
            raise DocumentRejected("segment marker expected")
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        if marker == 0xD9:
            raise DocumentRejected("EOI before the image data")
        (length,) = struct.unpack(">H", content[position + 2:position + 4])
        if length < 2 or position + 2 + length > len(content):
            raise DocumentRejected("segment longer than the file")
        if marker in _FRAMES:
            if length < 8:
                raise DocumentRejected("short frame header")
            height, width = struct.unpack(">HH", content[position + 5:position + 9])
            _check_size(width, height)
            framed = True
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to EOI
            break
    if not framed:
        raise DocumentRejected("no frame header")
    if not content.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise DocumentRejected("data after EOI, or no EOI")


def _pdf_names(content: bytes) -> set[str]:
    """Every name in the raw bytes, with ``#xx`` escapes decoded (``/J#61vaScript``)."""
    names = set()
    for raw in _PDF_NAME.findall(content):
        try:
            names.add(re.sub(rb"#([0-9A-Fa-f]{2})",
                             lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1"))
        except ValueError:
            continue
    return names


def _walk(node, seen: set[int], depth: int = 0) -> None:
    """Visit the parsed objects from the catalogue; raise on an active key."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if depth > 60:
        return
    if isinstance(node, IndirectObject):
        if node.idnum in seen:
            return
        seen.add(node.idnum)
        node = node.get_object()
    if isinstance(node, DictionaryObject):
        active = _PDF_ACTIVE.intersection(str(key) for key in node)
        if active or str(node.get("/S", "")) in _PDF_ACTIVE:
            raise DocumentRejected(f"active content {sorted(active) or node.get('/S')}")
        for value in node.values():
            _walk(value, seen, depth + 1)
    elif isinstance(node, ArrayObject):
        for value in node:
            _walk(value, seen, depth + 1)


def _check_pdf(content: bytes) -> None:
    active = _PDF_ACTIVE.intersection(_pdf_names(content))
    if active:
        raise DocumentRejected(f"active content {sorted(active)}")
    if b"%%EOF" not in content[-1024:]:
        raise DocumentRejected("no %%EOF at the end")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=True)
            if reader.is_encrypted:
                raise DocumentRejected("encrypted")
            if len(reader.pages) < 1:
                raise DocumentRejected("no page")
            _walk(reader.trailer["/Root"], set())
    except DocumentRejected:
        raise
    except (PdfReadError, PyPdfError, KeyError, ValueError, TypeError, AttributeError,
            RecursionError, struct.error, zlib.error) as error:
        raise DocumentRejected(f"unreadable PDF ({type(error).__name__})") from error
