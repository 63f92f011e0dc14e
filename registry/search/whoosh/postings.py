"""Bitsets of documents, and fast reads of Whoosh's postings, columns and field lengths.

Whoosh reads one posting or value per Python call; these read whole blocks and columns at
once (checked against Whoosh's own counts, with its public API as the fallback)."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from itertools import accumulate, repeat

from whoosh.util.numeric import length_to_byte

_TO_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_TO_FLAGS = bytes.maketrans(b"01", b"\x00\x01")


def bits_from_ids(ids: Iterable[int], size: int) -> int:
    """A bitset (bit d set for document d) from document numbers."""
    flags = bytearray(size)
    for docnum in ids:
        flags[docnum] = 1
    return bits_from_flags(flags)


def bits_from_flags(flags: bytes | bytearray) -> int:
    """One byte (0 or 1) per document → bitset; the conversion runs in C."""
    return int(flags.translate(_TO_DIGITS)[::-1] or b"0", 2)


def flags_from_bits(bits: int, size: int) -> bytes:
    """Bitset → one byte (0 or 1) per document, for O(1) membership tests."""
    return bin(bits)[2:].encode()[::-1].ljust(size, b"0").translate(_TO_FLAGS)


_BLOCK_API = ("_read_data", "_data", "_byteids", "_blocklength", "_next_block")


def postings(leaf, fieldname: str, text: str) -> tuple[list[int], list[float]]:
    """(document numbers, weights) of a term in one segment.

    Whoosh's matchers step through postings one method call per document and decode each
    block's ids with a Python generator. Its on-disk matcher keeps a whole block in ``_data``
    (delta-coded ids, weights), which we decode a block at a time with ``accumulate`` (in C).
    Any other matcher, or a block layout we do not recognise (checked against the term's
    document frequency), goes through the public, slower ``items_as``.
    """
    if (fieldname, text) not in leaf:
        return [], []
    matcher = leaf.postings(fieldname, text)
    if all(hasattr(matcher, name) for name in _BLOCK_API):
        ids: list[int] = []
        weights: list[float] = []
        try:
            while matcher.is_active():
                if matcher._data is None:
                    matcher._read_data()
                block_ids, block_weights = matcher._data[0], matcher._data[1]
                count = matcher._blocklength
                ids.extend(block_ids if matcher._byteids else accumulate(block_ids))
                if block_weights is None or isinstance(block_weights, float):
                    weights.extend(repeat(block_weights or 1.0, count))
                else:
                    weights.extend(block_weights)
                matcher._next_block()
        except (TypeError, IndexError, ValueError):
            ids = []
        if ids and len(ids) == len(weights) == leaf.doc_frequency(fieldname, text):
            return ids, weights
        matcher = leaf.postings(fieldname, text)
    items = list(matcher.items_as("weight"))
    return [d for d, _ in items], [w for _, w in items]


def numbers(creader, count: int) -> list[int] | bytes:
    """All values of a numeric column of one segment, read in one go when we can.

    Whoosh's column readers unpack one value per call; its fixed-size numeric columns are
    stored contiguously (big-endian), so one read and an ``array`` conversion do the same."""
    typecode = getattr(creader, "_typecode", None)
    try:
        stored = creader._count
        raw = creader._dbfile.get(creader._basepos, stored * creader._fixedlen)
        default = creader._default
    except AttributeError:
        return list(creader)
    if typecode == "B":
        return bytes(raw) + bytes([default]) * (count - stored)
    values = array(typecode or "b")
    if typecode is None or values.itemsize != creader._fixedlen:
        return list(creader)
    values.frombytes(raw)
    if sys.byteorder == "little":
        values.byteswap()
    return values.tolist() + [default] * (count - stored)


def column_values(reader, fieldname: str) -> list:
    """Every document's value in a column field, across segments."""
    values: list = []
    for leaf, _offset in reader.leaf_readers():
        creader = leaf.column_reader(fieldname, translate=False)
        if hasattr(creader, "_typecode"):
            values.extend(numbers(creader, leaf.doc_count_all()))
        else:
            values.extend(creader)
    return values


def field_lengths(leaf, fieldname: str) -> bytes:
    """Every document's length in ``fieldname``, one byte each as Whoosh stores it (decode
    with ``byte_to_length``)."""
    count = leaf.doc_count_all()
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        perdoc = leaf._perdoc
        if not perdoc.has_column(_lenfield(fieldname)):
            return bytes(count)
        return bytes(numbers(perdoc.column_reader(_lenfield(fieldname), LENGTHS_COLUMN),
                              count))
    except (ImportError, AttributeError):
        return bytes(length_to_byte(leaf.doc_field_length(d, fieldname, 0) or 0)
                     for d in range(count))
