"""Searches on the Whoosh index: BM25F ranking, bitset filters and facets, snippets, spelling
suggestions (see ``registry.search.whoosh`` for why it is built this way)."""

from __future__ import annotations

import math
import operator
from array import array
from collections.abc import Iterable
from itertools import compress, islice

from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight
from whoosh.util.numeric import byte_to_length

from core.clock import local_today
from registry.search.terms import Clause, plan, suggestion
from registry.search.types import FACETS, SearchQuery, SearchResult
from registry.search.whoosh.generation import Generation
from registry.search.whoosh.postings import (
    bits_from_flags,
    bits_from_ids,
    flags_from_bits,
    postings,
)
from registry.search.whoosh.store import IndexStore

# Field → weight of a match in it. The one place relevance is tuned.
TEXT_FIELDS = {"title": 4.0, "summary": 1.5, "objective": 1.0, "public_interest": 0.7,
               "sponsor": 1.5, "keywords": 2.0}
REFERENCE_BOOST = 1000.0  # a word shaped like a reference puts that project first
BM25_K1, BM25_B = 1.2, 0.75
RANKING_CACHE = 32   # text queries kept ranked per index generation

# A clause of a query, analysed: (reference or None, facet flag or None, alternatives, each
# the tokens a document must all have). Hashable: the key of the rankings cache.
Analysed = tuple[str | None, tuple[str, str] | None, tuple[tuple[str, ...], ...]]


class WhooshBackend(IndexStore):
    """The default search backend (``SEARCH_BACKEND=whoosh``)."""

    transactional = False  # written after the database commits (``registry.service``)

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
            updated = generation.column(searcher.reader(), "updated")
        flags = flags_from_bits(generation.live, generation.size)
        return {generation.pids[d]: int(updated[d]) for d in range(generation.size)
                if flags[d]}

    def _clauses(self, text: str) -> tuple[list[Clause], list[Analysed]]:
        """The clauses of ``text`` (``registry.search.terms.plan``), and those that can match
        anything, analysed: alternatives that are only stop words are dropped, and a clause
        left with nothing to match by is dropped (a stop word alone adds nothing)."""
        clauses = plan(text)
        analysed: list[Analysed] = []
        for clause in clauses:
            alternatives = tuple(dict.fromkeys(
                tokens for tokens in (tuple(t.text for t in self.analyzer(alternative))
                                      for alternative in clause.alternatives) if tokens))
            if alternatives or clause.reference or clause.flag:
                analysed.append((clause.reference, clause.flag, alternatives))
        return clauses, analysed

    def _term_scores(self, searcher, generation: Generation,
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
                ids, weights = postings(leaf, fieldname, token)
                if offset:
                    ids = [docnum + offset for docnum in ids]
                for docnum, weight in zip(ids, weights, strict=True):
                    scores[docnum] += factor * weight / (weight + norms[lengths[docnum]])
        # Every posting adds a positive score (BM25's idf here is log(1 + …) > 0), so the
        # documents containing the token are those with a score.
        return scores, bytes(map(bool, scores))

    def _ranking(self, searcher, generation: Generation,
                 clauses: list[Analysed]) -> tuple[int, array]:
        """(bitset of matching documents, all of them best first) for AND-ed clauses."""
        key = tuple(clauses)
        with generation.lock:
            cached = generation.rankings.get(key)
            if cached is not None:
                generation.rankings.move_to_end(key)
                return cached
        size = generation.size
        totals: list[float] | None = None
        matched = generation.live
        bonus: dict[int, float] = {}
        terms: dict[str, tuple[list[float], int]] = {}  # token → (scores, bitset)
        for reference, flag, alternatives in clauses:
            bits = 0
            for tokens in alternatives:
                alternative = generation.live
                for token in tokens:
                    if token not in terms:
                        scores, present = self._term_scores(searcher, generation, token)
                        terms[token] = scores, bits_from_flags(present)
                    alternative &= terms[token][1]
                bits |= alternative
            # Each token of the clause scores once, whichever alternatives name it.
            for token in dict.fromkeys(t for tokens in alternatives for t in tokens):
                scores = terms[token][0]
                totals = scores if totals is None else list(map(operator.add, totals, scores))
            if reference is not None:
                ref_ids = [d + offset for leaf, offset in searcher.reader().leaf_readers()
                           for d in postings(leaf, "reference", reference)[0]]
                for docnum in ref_ids:
                    bonus[docnum] = bonus.get(docnum, 0.0) + REFERENCE_BOOST
                bits |= bits_from_ids(ref_ids, size) & generation.live
            if flag is not None:
                bits |= generation.facets.get(flag[0], {}).get(flag[1], 0)
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
        """(searcher, generation, base bitset, order, facet bitsets, clauses), or None when
        the text is only stop words or symbols (nothing can match) or there is no usable index.

        ``base`` is what the text matches (every live document without text); ``order`` is
        the text ranking, or the field order the query sorts by.
        """
        searcher = self._searcher()
        if searcher is None:
            return None
        generation = self._generation(searcher)
        clauses, analysed = self._clauses(query.text)
        if query.text and not analysed:
            return None
        facet_sets = generation.facet_sets(query.today or local_today())
        if "sponsor" in query.filters:
            facet_sets = {**facet_sets, "sponsor": {
                slug: generation.term_bits(searcher.reader(), "sponsor_slug", slug)
                for slug in query.filters["sponsor"]}}
        order: array | None = None
        if analysed:
            base, order = self._ranking(searcher, generation, analysed)
        else:
            base = generation.live
        if query.sort != "relevance" or not analysed:
            order = generation.order(query.sort if query.sort != "relevance" else "recent",
                                     searcher.reader())
        return searcher, generation, base, order, facet_sets, clauses

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
        searcher, generation, base, order, facet_sets, clauses = match
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
        suggested = self._suggest(searcher, clauses) if query.text and total < 3 else None
        return SearchResult(ids=[generation.pids[d] for d in docnums], total=total,
                            page=query.page, pages=pages, facets=facets,
                            highlights=highlights, suggestion=suggested)

    def matching_ids(self, query: SearchQuery) -> list[int]:
        """Every matching project id, in the query's order (for exports and feeds)."""
        query = query.normalised()
        match = self._match(query)
        if match is None:
            return []
        _searcher, generation, base, order, facet_sets, _clauses = match
        matched = base
        for bits in self._selected(facet_sets, query.filters).values():
            matched &= bits
        if not matched:
            return []
        flags = flags_from_bits(matched, generation.size)
        return [generation.pids[d] for d in self._walk(order, flags, 0, None)]

    def _highlights(self, searcher, generation: Generation, docnums: list[int],
                    text: str) -> dict[int, str]:
        """Snippets with the matched words in ``<mark>``, for the page's documents only."""
        _clauses, analysed = self._clauses(text)
        terms = frozenset(token for _reference, _flag, alternatives in analysed
                          for tokens in alternatives for token in tokens)
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

    def _suggest(self, searcher, clauses: list[Clause]) -> str | None:
        """The query with its unknown words replaced by the nearest known word (two edits at
        most), or None when every word is known."""
        corrections: dict[str, str] = {}
        reader = searcher.reader()
        for clause in clauses:
            lowered = clause.text.lower()
            if not clause.correctable or ("spell", lowered) in reader:
                continue
            options = searcher.suggest("spell", lowered, limit=1, maxdist=2)
            if options:
                corrections[clause.text] = options[0]
        return suggestion(clauses, corrections)
