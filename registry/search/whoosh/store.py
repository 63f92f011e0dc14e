"""The Whoosh index on local disk: ``<dir>/current`` → ``<dir>/index-<id>``; one writer at a
time across processes; rebuilt aside and swapped in; a version file for HTTP validators."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec

from registry.search.whoosh.analysis import SCHEMA_FIELDS, build_schema, french_analyzer, to_fields
from registry.search.whoosh.generation import Generation

log = logging.getLogger("registry.search.whoosh")

WRITE_LOCK_TIMEOUT = 300.0
UNUSABLE_WARNING_INTERVAL = 60.0  # seconds between two "no usable index" warnings


class IndexStore:
    """Whoosh on local disk: ``<dir>/current`` → ``<dir>/index-<id>``; storage and writes
    (``WhooshBackend`` adds the searches)."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.root = Path(directory)
        self.current = self.root / "current"
        self.lock_path = self.root / "write.lock"
        self.version_path = self.root / "version"
        self.schema = build_schema()
        self.analyzer = french_analyzer()
        self._local = threading.local()
        self._generations: OrderedDict[tuple, Generation] = OrderedDict()
        self._generations_lock = threading.Lock()
        self._warned_at = -math.inf
        self._version: tuple[tuple[int, int, int], tuple[str, datetime | None]] | None = None

    # -- storage
    def _has_index(self) -> bool:
        """Whether ``current`` holds an index. Whoosh lists its table of contents, then opens
        the newest: a writer in another process may commit a newer one and delete that file in
        between (FileNotFoundError), so the check is made again."""
        for _attempt in range(5):
            try:
                return self.current.exists() and whoosh_index.exists_in(str(self.current))
            except FileNotFoundError:
                time.sleep(0.01)
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
        """(token, moment) of the index's last change, for HTTP validators and the page
        cache (asked before every kept search page): one ``stat`` of the version file, read
        again only when it was replaced (``_mark`` replaces it, so its inode changes). Without
        the file (no index yet, or one written before it existed) the token names the
        ``current`` target, or says there is none."""
        try:
            status = os.stat(self.version_path)
            key = (status.st_ino, status.st_mtime_ns, status.st_size)
            known = self._version
            if known is not None and known[0] == key:
                return known[1]
            token, _space, moment = self.version_path.read_text(encoding="ascii").partition(" ")
            version = (token, datetime.fromtimestamp(int(moment) / 1e9, tz=UTC))
            self._version = (key, version)
            return version
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
        """The index in ``current`` (again after a FileNotFoundError: see ``_has_index``)."""
        for _attempt in range(5):
            try:
                return whoosh_index.open_dir(str(self.current))
            except FileNotFoundError:
                time.sleep(0.01)
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

    def _generation(self, searcher) -> Generation:
        key = (self._local.target, searcher.reader().generation(), searcher.doc_count_all())
        with self._generations_lock:
            generation = self._generations.get(key)
            if generation is None:
                generation = Generation(searcher)
                self._generations[key] = generation
                while len(self._generations) > 2:  # the current one and the one before
                    self._generations.popitem(last=False)
            return generation

    # -- writes
    def index(self, documents: Iterable[dict]) -> int:
        docs = [to_fields(d) for d in documents]
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
                    writer.add_document(**to_fields(doc))
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
