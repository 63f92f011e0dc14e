"""What every search of one index generation shares: bitsets, columns, sort orders, rankings."""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from datetime import date

from registry.search.types import FACETS
from registry.search.whoosh.analysis import EPOCH
from registry.search.whoosh.postings import (
    bits_from_ids,
    column_values,
    field_lengths,
    flags_from_bits,
    postings,
)


class Generation:
    """What every search of one index generation shares: bitsets, columns, rankings.

    Built from a reader, read-only afterwards except for lazily added entries (guarded by
    ``lock``); shared by all threads of the process that search this generation.
    """

    def __init__(self, searcher):
        reader = searcher.reader()
        self.size = size = reader.doc_count_all()
        self.lock = threading.Lock()
        if reader.has_deletions():
            self.live = bits_from_ids(reader.all_doc_ids(), size)
        else:
            self.live = (1 << size) - 1
        # An empty index has no columns at all.
        columns = (lambda name: column_values(reader, name)) if size else (lambda name: [])
        self.pids = array("q", columns("pid"))
        leaves = list(reader.leaf_readers())
        self.facets: dict[str, dict[str, int]] = {}
        for name in FACETS:
            if name == "overdue":
                continue
            values: dict[str, int] = {}
            for raw in reader.lexicon(name):
                value = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                ids = [d + offset for leaf, offset in leaves
                       for d in postings(leaf, name, value)[0]]
                bits = bits_from_ids(ids, size) & self.live
                if value and bits:
                    values[value] = bits
            self.facets[name] = values
        # (due day, docnum) of documents without results, by due day: the documents overdue
        # on a given day are a prefix of this list.
        without_results = flags_from_bits(self.facets["results"].get("non", 0), size)
        self.due = sorted((int(day), d) for d, day in enumerate(columns("results_due"))
                          if day and without_results[d])
        self._columns: dict[str, list] = {}
        self._orders: dict[str, array] = {}
        self._overdue: dict[date, int] = {}
        self._lengths: dict[str, bytes] = {}
        self.rankings: OrderedDict[tuple, tuple[int, array]] = OrderedDict()

    # -- columns and sort orders, on first use (with the calling thread's reader)
    def column(self, reader, name: str) -> list:
        if name not in self._columns:
            self._columns[name] = column_values(reader, name) if self.size else []
        return self._columns[name]

    def order(self, sort: str, reader) -> array:
        """Every document number, in the order of ``sort``."""
        with self.lock:
            if sort not in self._orders:
                docs = range(self.size)
                if sort == "title":
                    ordered = sorted(docs, key=self.column(reader, "title_sort").__getitem__)
                elif sort == "reference":
                    ordered = sorted(docs, key=self.column(reader, "reference_sort")
                                     .__getitem__, reverse=True)
                elif sort == "year":
                    years = self.column(reader, "year_sort")
                    refs = self.column(reader, "reference_sort")
                    ordered = sorted(docs, key=lambda d: (-years[d], refs[d]))
                else:  # recent
                    ordered = sorted(docs, key=self.column(reader, "updated").__getitem__,
                                     reverse=True)
                self._orders[sort] = array("i", ordered)
            return self._orders[sort]

    def lengths(self, fieldname: str, reader) -> bytes:
        """Every document's length in ``fieldname`` as a byte (for BM25's normalisation)."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = b"".join(field_lengths(leaf, fieldname)
                                                for leaf, _offset in reader.leaf_readers())
        return self._lengths[fieldname]

    def term_bits(self, reader, fieldname: str, value: str) -> int:
        """The live documents having ``value`` in ``fieldname``, read from its postings (for
        filters with too many values to keep a bitset each, such as the named sponsor)."""
        ids = [d + offset for leaf, offset in reader.leaf_readers()
               for d in postings(leaf, fieldname, value)[0]]
        return bits_from_ids(ids, self.size) & self.live

    def overdue(self, today: date) -> int:
        """Documents without results whose due date is before ``today`` (cached per day)."""
        with self.lock:
            bits = self._overdue.get(today)
            if bits is None:
                limit = (today - EPOCH).days
                bits = bits_from_ids((d for day, d in self.due if day < limit), self.size)
                bits &= self.live
                self._overdue = {today: bits}  # one day at a time is all anyone asks
            return bits

    def facet_sets(self, today: date) -> dict[str, dict[str, int]]:
        overdue = self.overdue(today)
        return {**self.facets, "overdue": {"oui": overdue, "non": self.live & ~overdue}}
