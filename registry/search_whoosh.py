"""The Whoosh backend of ``registry.search``: local files, French analysis, bitset facets.

What we do about Whoosh's limits:
* ``LanguageAnalyzer("fr")`` stems without folding accents: our chain folds accents, then stems,
  so ``hopital``, ``Hôpital`` and ``HÔPITAUX`` meet on the same term.
* Only one writer may hold Whoosh's lock (another worker gets ``LockError`` at once): every
  write first takes an ``fcntl`` lock on ``SEARCH_INDEX_DIR/write.lock``, so writers from any
  process wait their turn instead of failing.
* Rebuilds never interrupt searches: a complete index is built in a new directory, then the
  ``current`` symlink is replaced atomically; searchers notice the new target and reopen.
  Writes wait during a rebuild (same lock), then land in the new index.
* Speed (measured in ``bench/``; see ``docs/search.md``). Whoosh's collectors score, sort and
  group in pure Python per matching document, and a page or a count walks every match again.
  We use Whoosh for storage, analysis, postings, spelling and highlighting, and do the rest
  with document *bitsets* (Python ints: ``&`` and ``bit_count()`` run in C):
  - per index generation (shared by the threads of a process, rebuilt when the index
    changes): the live documents, one bitset per facet value, the project id, the sort keys and
    the results-due date of every document;
  - filters are bitsets AND-ed together; facet counts are ``bit_count()`` of intersections
    (disjunctive: a selected facet is counted without its own filter);
  - a text query reads each term's postings once, scores them (BM25F, field boosts) and
    keeps the full ranking in a small per-generation cache, so the next page, another filter
    or an export of the same words costs a walk through that ranking;
  - stored fields (for highlighted snippets) are read for the page's documents only.
* User text is never parsed as Whoosh query syntax: words are analysed and AND-ed, capped at
  ``MAX_TERMS`` terms and ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import operator
import os
import re
import shutil
import sys
import threading
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from itertools import accumulate, compress, islice, repeat
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.codec.whoosh3 import W3Codec
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map
from whoosh.util.numeric import byte_to_length, length_to_byte

from core.clock import local_today
from registry.search import FACETS, MAX_TERMS, SearchQuery, SearchResult, stamp

log = logging.getLogger(__name__)

# Field → weight of a match in it. The one place relevance is tuned.
TEXT_FIELDS = {"title": 4.0, "summary": 1.5, "objective": 1.0, "public_interest": 0.7,
               "sponsor": 1.5, "keywords": 2.0}
REFERENCE_BOOST = 1000.0  # a word shaped like a reference puts that project first
BM25_K1, BM25_B = 1.2, 0.75
WRITE_LOCK_TIMEOUT = 300.0
RANKING_CACHE = 32   # text queries kept ranked per index generation
UNUSABLE_WARNING_INTERVAL = 60.0  # seconds between two "no usable index" warnings
EPOCH = date(1970, 1, 1)


def _fold(text: str) -> str:
    return text.translate(accent_map)


_STOPWORDS = frozenset(
    {_fold(w) for w in stopwords_for_language("fr")}
    | {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "le", "la", "les", "un", "une", "au",
       "aux", "ou", "pour", "par", "sur", "dans", "chez", "avec", "sans", "sous", "entre",
       "vers", "the", "of", "and", "in"}
)


def french_analyzer():
    """Tokenise, lower-case, fold accents, drop stop words, stem (Snowball French)."""
    return (RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(stoplist=_STOPWORDS, minsize=1) | StemFilter(lang="fr"))


def spelling_analyzer():
    """Whole words, accents kept (no stemming): "Vouliez-vous dire" offers real, accented words."""
    return RegexTokenizer(r"\w+") | LowercaseFilter() | StopFilter(stoplist=_STOPWORDS, minsize=3)


def _keyed(field):
    """An ID/KEYWORD field that also records per-document lengths.

    Whoosh looks up a field length for every posting it writes and, for fields without a
    lengths column, checks the disk for that column each time (one ``stat`` per posting:
    half of the index build time). A lengths column makes the lookup a cached read.
    """
    field.scorable = True
    return field


def build_schema() -> Schema:
    analyzer = french_analyzer()
    return Schema(
        key=_keyed(ID(unique=True, stored=True)),
        reference=_keyed(ID()),
        title=TEXT(analyzer=analyzer, phrase=False, stored=True),
        summary=TEXT(analyzer=analyzer, phrase=False, stored=True),
        objective=TEXT(analyzer=analyzer, phrase=False),
        public_interest=TEXT(analyzer=analyzer, phrase=False),
        sponsor=TEXT(analyzer=analyzer, phrase=False),
        keywords=TEXT(analyzer=analyzer, phrase=False),
        spell=TEXT(analyzer=spelling_analyzer(), phrase=False, spelling=True),
        status=_keyed(ID()), theme=_keyed(KEYWORD(commas=True)),
        source=_keyed(KEYWORD(commas=True)), sponsor_kind=_keyed(ID()), year=_keyed(ID()),
        ai=_keyed(ID()), results=_keyed(ID()),
        # Columns only (one value per document, not searchable): the project id, the sort
        # keys, and the day results are due (days since 1970-01-01, 0 when not known):
        # "overdue" is computed from it at query time, so it never goes stale.
        pid=COLUMN(NumericColumn("q")),
        results_due=COLUMN(NumericColumn("i")),
        title_sort=COLUMN(VarBytesColumn()), reference_sort=COLUMN(VarBytesColumn()),
        year_sort=COLUMN(NumericColumn("i")), updated=COLUMN(NumericColumn("q")),
    )


SCHEMA_FIELDS = frozenset(build_schema().names())


def _day_number(value: Any) -> int:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return (value - EPOCH).days
    if isinstance(value, str) and value:
        return (date.fromisoformat(value[:10]) - EPOCH).days
    return 0


def _to_fields(doc: dict[str, Any]) -> dict[str, Any]:
    year = doc.get("year_authorised")
    words = " ".join(str(doc.get(k) or "") for k in ("title", "summary", "objective",
                                                     "sponsor_name", "keywords"))
    return {
        "key": str(doc["id"]),
        "pid": int(doc["id"]),
        "reference": str(doc.get("reference", "")).upper(),
        "title": str(doc.get("title") or ""),
        "summary": str(doc.get("summary") or ""),
        "objective": str(doc.get("objective") or ""),
        "public_interest": str(doc.get("public_interest") or ""),
        "sponsor": f"{doc.get('sponsor_name') or ''} {doc.get('city') or ''}",
        "keywords": str(doc.get("keywords") or ""),
        "spell": words,
        "status": str(doc.get("status") or ""),
        "theme": ",".join(doc.get("themes") or []),
        "source": ",".join(doc.get("sources") or []),
        "sponsor_kind": str(doc.get("sponsor_kind") or ""),
        "year": str(year) if year else "",
        "ai": "oui" if doc.get("uses_ai") else "non",
        "results": "oui" if doc.get("has_results") else "non",
        "results_due": max(0, _day_number(doc.get("results_due_on"))),
        "title_sort": _fold(str(doc.get("title") or "").lower()).encode(),
        "reference_sort": str(doc.get("reference", "")).upper().encode(),
        "year_sort": int(year or 0),
        "updated": stamp(doc.get("updated_at") or datetime.now(UTC)),
    }


_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_REFERENCE = re.compile(r"^HDH-\d{4}-\d{4}$", re.IGNORECASE)


# --------------------------------------------------------------------------- bitsets

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


# --------------------------------------------------------------------------- Whoosh internals

_BLOCK_API = ("_read_data", "_data", "_byteids", "_blocklength", "_next_block")


def _postings(leaf, fieldname: str, text: str) -> tuple[list[int], list[float]]:
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


def _numbers(creader, count: int) -> list[int] | bytes:
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


def _column(reader, fieldname: str) -> list:
    """Every document's value in a column field, across segments."""
    values: list = []
    for leaf, _offset in reader.leaf_readers():
        creader = leaf.column_reader(fieldname, translate=False)
        if hasattr(creader, "_typecode"):
            values.extend(_numbers(creader, leaf.doc_count_all()))
        else:
            values.extend(creader)
    return values


def _field_lengths(leaf, fieldname: str) -> bytes:
    """Every document's length in ``fieldname``, one byte each as Whoosh stores it (decode
    with ``byte_to_length``)."""
    count = leaf.doc_count_all()
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        perdoc = leaf._perdoc
        if not perdoc.has_column(_lenfield(fieldname)):
            return bytes(count)
        return bytes(_numbers(perdoc.column_reader(_lenfield(fieldname), LENGTHS_COLUMN),
                              count))
    except (ImportError, AttributeError):
        return bytes(length_to_byte(leaf.doc_field_length(d, fieldname, 0) or 0)
                     for d in range(count))


# --------------------------------------------------------------------------- per generation

class _Generation:
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
        columns = (lambda name: _column(reader, name)) if size else (lambda name: [])
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
                       for d in _postings(leaf, name, value)[0]]
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
    def _column(self, reader, name: str) -> list:
        if name not in self._columns:
            self._columns[name] = _column(reader, name) if self.size else []
        return self._columns[name]

    def order(self, sort: str, reader) -> array:
        """Every document number, in the order of ``sort``."""
        with self.lock:
            if sort not in self._orders:
                docs = range(self.size)
                if sort == "title":
                    ordered = sorted(docs, key=self._column(reader, "title_sort").__getitem__)
                elif sort == "reference":
                    ordered = sorted(docs, key=self._column(reader, "reference_sort")
                                     .__getitem__, reverse=True)
                elif sort == "year":
                    years = self._column(reader, "year_sort")
                    refs = self._column(reader, "reference_sort")
                    ordered = sorted(docs, key=lambda d: (-years[d], refs[d]))
                else:  # recent
                    ordered = sorted(docs, key=self._column(reader, "updated").__getitem__,
                                     reverse=True)
                self._orders[sort] = array("i", ordered)
            return self._orders[sort]

    def lengths(self, fieldname: str, reader) -> bytes:
        """Every document's length in ``fieldname`` as a byte (for BM25's normalisation)."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = b"".join(_field_lengths(leaf, fieldname)
                                                for leaf, _offset in reader.leaf_readers())
        return self._lengths[fieldname]

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


# --------------------------------------------------------------------------- backend

class WhooshBackend:
    """Whoosh on local disk: ``<dir>/current`` → ``<dir>/index-<id>``."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.root = Path(directory)
        self.current = self.root / "current"
        self.lock_path = self.root / "write.lock"
        self.version_path = self.root / "version"
        self.schema = build_schema()
        self.analyzer = french_analyzer()
        self._local = threading.local()
        self._generations: OrderedDict[tuple, _Generation] = OrderedDict()
        self._generations_lock = threading.Lock()
        self._warned_at = -math.inf

    # -- storage
    def _has_index(self) -> bool:
        return self.current.exists() and whoosh_index.exists_in(str(self.current))

    def exists(self) -> bool:
        """An index is in place and was built with the current schema."""
        if not self._has_index():
            return False
        return set(self._open().schema.names()) == SCHEMA_FIELDS

    def _ensure(self) -> None:
        if self._has_index():
            return
        with self._write_lock():
            if not self._has_index():
                target = self._new_generation()
                whoosh_index.create_in(str(target), self.schema)
                self._swap(target)
                self._mark()

    def _new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / f"index-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
        target.mkdir()
        return target

    def _mark(self) -> None:
        """Record that the index changed (after every commit and swap, under the write lock):
        a new random token and the moment, in ``<dir>/version``, replaced atomically."""
        temporary = self.root / f".version-{uuid.uuid4().hex}"
        temporary.write_text(f"{uuid.uuid4().hex} {time.time_ns()}\n", encoding="ascii")
        os.replace(temporary, self.version_path)

    def version(self) -> tuple[str, datetime | None]:
        """(token, moment) of the index's last change, for HTTP validators: one small file
        read, no directory listing. Without the file (no index yet, or one written before
        it existed) the token names the ``current`` target, or says there is none."""
        try:
            token, _space, moment = self.version_path.read_text(encoding="ascii").partition(" ")
            return token, datetime.fromtimestamp(int(moment) / 1e9, tz=UTC)
        except (OSError, ValueError):
            pass
        try:
            return f"unmarked:{os.readlink(self.current)}", None
        except OSError:
            return "none", None

    def _swap(self, target: Path) -> None:
        previous = self.current.resolve() if self.current.is_symlink() else None
        temporary = self.root / f".current-{uuid.uuid4().hex}"
        os.symlink(target.name, temporary)
        os.replace(temporary, self.current)  # atomic on POSIX
        if previous and previous != target.resolve() and previous.exists():
            shutil.rmtree(previous, ignore_errors=True)

    @contextlib.contextmanager
    def _write_lock(self, timeout: float = WRITE_LOCK_TIMEOUT) -> Iterator[None]:
        """One writer at a time across threads and processes; others wait, never fail."""
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        with open(self.lock_path, "a+") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("search index write lock not obtained") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open(self):
        return whoosh_index.open_dir(str(self.current))

    @staticmethod
    def _writer(index, **options):
        """A writer with our codec: big uncompressed posting blocks, because a search reads
        a term's postings whole (2.3 times faster to read than Whoosh's default 128-posting
        zlib blocks, for an index about twice as large)."""
        return index.writer(codec=W3Codec(blocklimit=1024, compression=0), **options)

    def _searcher(self):
        """This thread's searcher, reused until the index changes (new target or commit), or
        None when there is no usable index.

        Reads never create an index: an empty one made here would pass for the real one, and
        ``flask registry reindex --if-missing`` would then leave the register looking empty.
        Without an index (or with one of an older schema) searches answer nothing and a
        warning says what to run. Not ``Searcher.refresh()``: it reuses segment readers and can
        keep stale deletions.
        """
        cached = getattr(self._local, "searcher", None)
        try:
            target = os.readlink(self.current)
        except OSError:
            target = None
        if cached is not None and self._local.target == target and cached.up_to_date():
            return cached
        if cached is not None:
            cached.close()
            self._local.searcher = None
        if target is None or not self._has_index():
            self._unusable("no search index in %s: run `flask registry reindex`")
            return None
        index = self._open()
        if set(index.schema.names()) != SCHEMA_FIELDS:
            self._unusable("the search index in %s was built with an older schema: "
                           "run `flask registry reindex`")
            return None
        self._local.searcher = index.searcher()
        self._local.target = target
        return self._local.searcher

    def _unusable(self, message: str) -> None:
        """Log why searches answer nothing, at most once a minute per process."""
        now = time.monotonic()
        if now - self._warned_at >= UNUSABLE_WARNING_INTERVAL:
            self._warned_at = now
            log.warning(message, self.root)

    def _generation(self, searcher) -> _Generation:
        key = (self._local.target, searcher.reader().generation(), searcher.doc_count_all())
        with self._generations_lock:
            generation = self._generations.get(key)
            if generation is None:
                generation = _Generation(searcher)
                self._generations[key] = generation
                while len(self._generations) > 2:  # the current one and the one before
                    self._generations.popitem(last=False)
            return generation

    # -- writes
    def index(self, documents: Iterable[dict]) -> int:
        docs = [_to_fields(d) for d in documents]
        if not docs:
            return 0
        self._ensure()
        with self._write_lock():
            writer = self._writer(self._open())
            try:
                for doc in docs:
                    writer.update_document(**doc)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            self._mark()
        return len(docs)

    def remove(self, ids: Iterable[int]) -> None:
        keys = [str(i) for i in ids]
        if not keys:
            return
        self._ensure()
        with self._write_lock():
            writer = self._writer(self._open())
            for key in keys:
                writer.delete_by_term("key", key)
            writer.commit()
            self._mark()

    def rebuild(self, documents: Iterable[dict],
                progress: Callable[[int], None] | None = None) -> int:
        """Build a full index aside, then swap it in; searches go on meanwhile."""
        with self._write_lock():
            target = self._new_generation()
            new_index = whoosh_index.create_in(str(target), self.schema)
            writer = self._writer(new_index, limitmb=512)
            count = 0
            try:
                for doc in documents:
                    writer.add_document(**_to_fields(doc))
                    count += 1
                    if progress:
                        progress(1)
                writer.commit(optimize=True)
            except BaseException:
                writer.cancel()
                shutil.rmtree(target, ignore_errors=True)
                raise
            self._swap(target)
            self._mark()
        return count

    # -- reads
    def count(self) -> int:
        searcher = self._searcher()
        return searcher.doc_count() if searcher is not None else 0

    def ids(self) -> set[int]:
        return set(self.stamps())

    def stamps(self) -> dict[int, int]:
        """Project id → ``registry.search.stamp`` of the version indexed (empty without an
        index), so set-up can tell an index that drifted from the database."""
        searcher = self._searcher()
        if searcher is None:
            return {}
        generation = self._generation(searcher)
        with generation.lock:
            updated = generation._column(searcher.reader(), "updated")
        flags = flags_from_bits(generation.live, generation.size)
        return {generation.pids[d]: int(updated[d]) for d in range(generation.size)
                if flags[d]}

    def _clauses(self, text: str) -> tuple[list[tuple[str | None, list[str]]], list[str]]:
        """The words of ``text`` as AND-ed clauses: (reference or None, analysed tokens)."""
        words = _WORD.findall(text)[:MAX_TERMS]
        clauses: list[tuple[str | None, list[str]]] = []
        for word in words:
            tokens = [t.text for t in self.analyzer(word)]
            if _REFERENCE.match(word):
                clauses.append((word.upper(), tokens))
            elif tokens:  # a stop word alone adds nothing
                clauses.append((None, tokens))
        return clauses, words

    def _term_scores(self, searcher, generation: _Generation,
                     token: str) -> tuple[list[float], bytes]:
        """BM25F score of every document for ``token`` (0.0 where absent, a dense list: the
        fastest structure for Python to update), and which documents contain it."""
        reader = searcher.reader()
        leaves = list(reader.leaf_readers())
        scores = [0.0] * generation.size
        count = reader.doc_count_all()
        for fieldname, boost in TEXT_FIELDS.items():
            frequency = reader.doc_frequency(fieldname, token)
            if not frequency:
                continue
            idf = math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))
            average = (reader.field_length(fieldname) / count) or 1.0
            lengths = generation.lengths(fieldname, reader)
            factor = boost * idf * (BM25_K1 + 1)
            # BM25's length normalisation for each of the 256 length bytes.
            norms = [BM25_K1 * (1 - BM25_B + BM25_B * byte_to_length(b) / average)
                     for b in range(256)]
            for leaf, offset in leaves:
                ids, weights = _postings(leaf, fieldname, token)
                if offset:
                    ids = [docnum + offset for docnum in ids]
                for docnum, weight in zip(ids, weights, strict=True):
                    scores[docnum] += factor * weight / (weight + norms[lengths[docnum]])
        # Every posting adds a positive score (BM25's idf here is log(1 + …) > 0), so the
        # documents containing the token are those with a score.
        return scores, bytes(map(bool, scores))

    def _ranking(self, searcher, generation: _Generation,
                 clauses: list[tuple[str | None, list[str]]]) -> tuple[int, array]:
        """(bitset of matching documents, all of them best first) for AND-ed clauses."""
        key = tuple((ref, tuple(tokens)) for ref, tokens in clauses)
        with generation.lock:
            cached = generation.rankings.get(key)
            if cached is not None:
                generation.rankings.move_to_end(key)
                return cached
        size = generation.size
        totals: list[float] | None = None
        matched = generation.live
        bonus: dict[int, float] = {}
        for reference, tokens in clauses:
            bits = generation.live
            for token in tokens:
                scores, present = self._term_scores(searcher, generation, token)
                totals = scores if totals is None else list(map(operator.add, totals, scores))
                bits &= bits_from_flags(present)
            if reference is not None:
                ref_ids = [d + offset for leaf, offset in searcher.reader().leaf_readers()
                           for d in _postings(leaf, "reference", reference)[0]]
                for docnum in ref_ids:
                    bonus[docnum] = bonus.get(docnum, 0.0) + REFERENCE_BOOST
                bits |= bits_from_ids(ref_ids, size) & generation.live
            matched &= bits
        if totals is None:
            totals = [0.0] * size
        for docnum, extra in bonus.items():
            totals[docnum] += extra
        candidates = compress(range(size), flags_from_bits(matched, size))
        ranking = (matched, array("i", sorted(candidates, key=totals.__getitem__,
                                                reverse=True)))
        with generation.lock:
            generation.rankings[key] = ranking
            while len(generation.rankings) > RANKING_CACHE:
                generation.rankings.popitem(last=False)
        return ranking

    def _match(self, query: SearchQuery):
        """(searcher, generation, base bitset, order, facet bitsets, words), or None when the
        text is only stop words or symbols (nothing can match) or there is no usable index.

        ``base`` is what the text matches (every live document without text); ``order`` is
        the text ranking, or the field order the query sorts by.
        """
        searcher = self._searcher()
        if searcher is None:
            return None
        generation = self._generation(searcher)
        clauses, words = self._clauses(query.text)
        if query.text and not clauses:
            return None
        facet_sets = generation.facet_sets(query.today or local_today())
        order: array | None = None
        if clauses:
            base, order = self._ranking(searcher, generation, clauses)
        else:
            base = generation.live
        if query.sort != "relevance" or not clauses:
            order = generation.order(query.sort if query.sort != "relevance" else "recent",
                                     searcher.reader())
        return searcher, generation, base, order, facet_sets, words

    @staticmethod
    def _selected(facet_sets: dict[str, dict[str, int]],
                  filters: dict[str, list[str]]) -> dict[str, int]:
        """Facet → documents having any of its selected values."""
        selected: dict[str, int] = {}
        for name, values in filters.items():
            bits = 0
            for value in values:
                bits |= facet_sets[name].get(value, 0)
            selected[name] = bits
        return selected

    @staticmethod
    def _walk(order: Iterable[int], flags: bytes, start: int, stop: int | None) -> list[int]:
        return list(islice((d for d in order if flags[d]), start, stop))

    def search(self, query: SearchQuery) -> SearchResult:
        query = query.normalised()
        match = self._match(query)
        if match is None:  # nothing can match, or no usable index (then not ``ready``)
            return SearchResult(ids=[], total=0, page=query.page, pages=1, facets={},
                                highlights={}, suggestion=None,
                                ready=getattr(self._local, "searcher", None) is not None)
        searcher, generation, base, order, facet_sets, words = match
        selected = self._selected(facet_sets, query.filters)
        matched = base
        for bits in selected.values():
            matched &= bits
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in FACETS:
            candidates = matched
            if name in selected:  # disjunctive: counted without its own filter
                candidates = base
                for other, bits in selected.items():
                    if other != name:
                        candidates &= bits
            counts = [(value, (bits & candidates).bit_count())
                      for value, bits in facet_sets[name].items()]
            facets[name] = sorted(((v, c) for v, c in counts if c),
                                  key=lambda kv: (-kv[1], kv[0]))
        total = matched.bit_count()
        pages = max(1, -(-total // query.per_page))
        docnums: list[int] = []
        if total and query.page <= pages:
            flags = flags_from_bits(matched, generation.size)
            start = (query.page - 1) * query.per_page
            docnums = self._walk(order, flags, start, start + query.per_page)
        highlights = self._highlights(searcher, generation, docnums, query.text) \
            if query.text and docnums else {}
        suggestion = self._suggest(searcher, words) if query.text and total < 3 else None
        return SearchResult(ids=[generation.pids[d] for d in docnums], total=total,
                            page=query.page, pages=pages, facets=facets,
                            highlights=highlights, suggestion=suggestion)

    def matching_ids(self, query: SearchQuery) -> list[int]:
        """Every matching project id, in the query's order (for exports and feeds)."""
        query = query.normalised()
        match = self._match(query)
        if match is None:
            return []
        _searcher, generation, base, order, facet_sets, _words = match
        matched = base
        for bits in self._selected(facet_sets, query.filters).values():
            matched &= bits
        if not matched:
            return []
        flags = flags_from_bits(matched, generation.size)
        return [generation.pids[d] for d in self._walk(order, flags, 0, None)]

    def _highlights(self, searcher, generation: _Generation, docnums: list[int],
                    text: str) -> dict[int, str]:
        """Snippets with the matched words in ``<mark>``, for the page's documents only."""
        clauses, _words = self._clauses(text)
        terms = frozenset(token for _ref, tokens in clauses for token in tokens)
        if not terms:
            return {}
        formatter = HtmlFormatter(tagname="mark", between=" … ")
        fragmenter = ContextFragmenter(maxchars=220, surround=60)
        reader = searcher.reader()
        snippets: dict[int, str] = {}
        for docnum in docnums:
            stored = reader.stored_fields(docnum)
            for name, top in (("summary", 2), ("title", 3)):
                snippet = highlight(stored.get(name) or "", terms, self.analyzer, fragmenter,
                                    formatter, top=top)
                if snippet:
                    snippets[generation.pids[docnum]] = snippet
                    break
        return snippets

    def _suggest(self, searcher, words: list[str]) -> str | None:
        changed, corrected = False, []
        reader = searcher.reader()
        for word in words:
            lowered = word.lower()
            if len(lowered) < 4 or _fold(lowered) in _STOPWORDS or _REFERENCE.match(word) or (
                    "spell", lowered) in reader:
                corrected.append(word)
                continue
            options = searcher.suggest("spell", lowered, limit=1, maxdist=2)
            if options:
                corrected.append(options[0])
                changed = True
            else:
                corrected.append(word)
        return " ".join(corrected) if changed else None
