"""The BM25 keyword index over every chunk, persisted next to the vector index and kept in step with it.

Ingest rebuilds it from the chunks in Chroma at the end of every run that changed the index (a full
rebuild: about a second per 10k chunks, see docs/benchmarks.md) and stamps it with the collection's
generation (`store.mark_changed`). Readers load the persisted copy when its stamp matches the
collection, and otherwise rebuild it from Chroma and persist it, so a stale or absent folder (another
machine in Chroma http mode, an ingest that stopped half-way) never serves old results.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest import line_map, store
from ingest.spelling import SPELLING_VERSION, SpellingStemmer

if TYPE_CHECKING:
    import bm25s
    import numpy as np
    from llama_index.retrievers.bm25 import BM25Retriever

logger = logging.getLogger(__name__)

# Words of two or more letters or digits; underscores and dots split identifiers, so the column
# `arrival_date` and the question's "arrival date" share their words. Letters joined by "&" are one word:
# finance writes M&IE, P&L, FP&A, G&A and T&E, which would otherwise leave a stop word or nothing.
TOKEN_PATTERN = r"(?u)[^\W_]+(?:&[^\W_]+)+|[^\W_]{2,}"
# Questions are typed like chat: bm25s's longer English list ("what", "does", "how", "we" are not in the
# short Lucene one, and outweighed a rare word like an account number) plus words chat adds to a question
# without meaning (contractions typed without the apostrophe, greetings, fillers).
CHAT_WORDS = (
    "whats", "hows", "whos", "wheres", "whens", "thats", "theres", "dont", "doesnt", "didnt", "isnt", "arent",
    "cant", "wont", "im", "ive", "hey", "hi", "hello", "pls", "plz", "please", "thanks", "thx", "vs", "versus",
    "etc", "eg", "ie", "ok", "okay", "got", "get", "gets", "want", "wants", "thing", "things", "stuff", "like",
)
STOPWORDS_VERSION = "en_plus+chat1"  # stamped on the persisted index: bump when the list changes
FORMAT = 1  # bump when what is persisted changes shape
_STAMP = "finbot-keyword.json"
_READ_PAGE = 2000
_MAX_STEMS = 200_000


def stopwords() -> list[str]:
    """The words BM25, the glossary and coverage leave out of questions and chunks."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return [*STOPWORDS_EN_PLUS, *CHAT_WORDS]


@functools.cache
def _splitter() -> tuple[Callable[[str], list[str]], frozenset[str]]:
    """TOKEN_PATTERN's findall and the stop words, compiled once."""
    return re.compile(TOKEN_PATTERN).findall, frozenset(stopwords())


def keyword_dir(index_path: Path, collection: str) -> Path:
    """Where the BM25 index of one collection lives: `<index.path>/keyword/<collection>`."""
    return index_path / "keyword" / collection


@dataclass(frozen=True)
class Chunk:
    """One indexed chunk as stored in Chroma: its id, text and citation metadata (keys in ingest/store.py)."""

    id: str
    text: str
    metadata: dict[str, Any]

    @property
    def path(self) -> str:
        return str(self.metadata.get(store.PATH, ""))

    @property
    def section(self) -> str:
        return str(self.metadata.get(store.SECTION) or "")

    @property
    def title(self) -> str:
        return str(self.metadata.get(store.TITLE) or "")

    @property
    def doc_type(self) -> str:
        return str(self.metadata.get(store.DOC_TYPE) or "other")

    @property
    def start_line(self) -> int:
        return int(self.metadata.get(store.START_LINE) or 0)

    @property
    def end_line(self) -> int:
        return int(self.metadata.get(store.END_LINE) or 0)

    def file_lines(self, first: int, last: int | None = None) -> tuple[int, int]:
        """The 1-based file lines that text lines first..last (0-based, inclusive) of this chunk came from."""
        last = first if last is None else last
        if self._line_ranges is None:
            return self.start_line + first, self.start_line + last
        picked = self._line_ranges[max(0, first) : last + 1] or self._line_ranges[-1:]
        return min(a for a, _ in picked), max(b for _, b in picked)

    @functools.cached_property
    def _line_ranges(self) -> list[tuple[int, int]] | None:
        encoded = self.metadata.get(store.LINE_MAP)
        return line_map.decode(str(encoded)) if encoded else None

    @property
    def headed_text(self) -> str:
        """Title, section and text: all the words a reader of the chunk sees."""
        return f"{self.title}\n{self.section}\n{self.text}"


@dataclass(frozen=True)
class LoadedBM25:
    """What answering needs of llama-index's BM25Retriever (its bm25s index and stemmer), read without it:
    loading llama-index costs a one-shot `finbot ask` 2-3 s."""

    bm25: bm25s.BM25
    stemmer: SpellingStemmer


@dataclass
class KeywordIndex:
    """BM25 over `chunks` (in the index's own order); `generation` is the collection stamp it was built at."""

    chunks: list[Chunk]
    generation: str
    retriever: BM25Retriever | LoadedBM25 | None  # None for an empty collection
    seconds: float = 0.0  # how long building or loading took
    loaded: bool = False  # True when read from the persisted folder, False when built from Chroma
    _positions: dict[str, int] = field(default_factory=dict, repr=False)
    _masks: dict[tuple[str | None, str | None], np.ndarray] = field(default_factory=dict, repr=False)
    _stems: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._positions = {chunk.id: i for i, chunk in enumerate(self.chunks)}

    def mask(self, doc_type: str | None, path_prefix: str | None) -> np.ndarray:
        """Which chunks pass a doc_type / path-prefix filter (bool per chunk, vectorised and cached)."""
        import numpy as np

        key = (doc_type, path_prefix)
        if key not in self._masks:
            keep = np.ones(len(self.chunks), dtype=bool)
            if doc_type:
                keep &= np.array([c.doc_type for c in self.chunks]) == doc_type
            if path_prefix:
                keep &= np.char.startswith(np.array([c.path for c in self.chunks], dtype=str), path_prefix)
            if len(self._masks) >= 64:  # filters are few in practice; keep memory bounded anyway
                self._masks.clear()
            self._masks[key] = keep
        return self._masks[key]

    def position(self, chunk_id: str) -> int | None:
        return self._positions.get(chunk_id)

    def tokens(self, text: str) -> list[str]:
        """The text's words as BM25 sees them: lower-cased, stop words out, in American spelling, stemmed."""
        return self.tokenize_many([text])[0]

    def word_stems(self, text: str) -> list[tuple[str, str]]:
        """(word, token) for each of the text's words that BM25 keeps: the lower-cased word and its token."""
        split, stop = _splitter()
        words = [w for w in split(text.lower()) if w not in stop]
        return list(zip(words, self.tokenize_many([" ".join(words)])[0], strict=True))

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's words exactly as `bm25s.tokenize` gives them (a test holds the two equal), without its
        per-call set-up, which cost an answer several milliseconds: answering tokenizes every line it scores.
        Stems are remembered per word."""
        split, stop = _splitter()
        stemmer = self.retriever.stemmer if self.retriever is not None else None
        if stemmer is None:
            return [[w for w in split(text.lower()) if w not in stop] for text in texts]
        stems = self._stems
        if len(stems) > _MAX_STEMS:  # bounded: questions keep bringing new words
            stems.clear()
        out = []
        for text in texts:
            words = []
            for word in split(text.lower()):
                if word in stop:
                    continue
                stem = stems.get(word)
                if stem is None:
                    stem = stems[word] = stemmer.stemWord(word)
                words.append(stem)
            out.append(words)
        return out

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the query tokens (zeros when none is in the vocabulary)."""
        import numpy as np

        if self.retriever is None:
            return np.zeros(0)
        bm25 = self.retriever.bm25
        known = [t for t in tokens if t in bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.chunks))
        return np.asarray(bm25.get_scores(known), dtype=float)

    def document_frequency(self, token: str) -> int:
        """How many chunks hold the (stemmed) token."""
        if self.retriever is None:
            return 0
        bm25 = self.retriever.bm25
        token_id = bm25.vocab_dict.get(token)
        if token_id is None:
            return 0
        indptr = bm25.scores["indptr"]
        return int(indptr[token_id + 1] - indptr[token_id])

    def idf(self, token: str) -> float:
        """How rare the (stemmed) token is in the index; highest for a word no chunk holds."""
        import math

        return math.log(1 + max(1, len(self.chunks)) / (self.document_frequency(token) + 0.5))

    def chunks_with(self, token: str) -> set[int]:
        """Positions of the chunks that hold the (stemmed) token."""
        if self.retriever is None:
            return set()
        bm25 = self.retriever.bm25
        token_id = bm25.vocab_dict.get(token)
        if token_id is None:
            return set()
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        return {int(i) for i in indices[indptr[token_id] : indptr[token_id + 1]]}

    def tokens_held(self, tokens: Iterable[str], positions: Sequence[int]) -> dict[int, int]:
        """How many of `tokens` (stemmed) each chunk at `positions` holds: the work scales with the positions
        asked about, not with how many chunks of the whole index share a common word."""
        held = dict.fromkeys(positions, 0)
        if self.retriever is None or not positions:
            return held
        import numpy as np

        bm25 = self.retriever.bm25
        indptr, indices = bm25.scores["indptr"], bm25.scores["indices"]
        wanted = np.asarray(positions)
        for token in set(tokens):
            token_id = bm25.vocab_dict.get(token)
            if token_id is None:
                continue
            for position in wanted[np.isin(wanted, indices[indptr[token_id] : indptr[token_id + 1]])]:
                held[int(position)] += 1
        return held


def read_chunks(index: store.ChunkIndex) -> list[Chunk]:
    """Every chunk in the collection, ordered by path and first line."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    chunks: list[Chunk] = []
    offset = 0
    while True:
        page = index.collection.get(include=["documents", "metadatas"], limit=_READ_PAGE, offset=offset)
        ids = page["ids"]
        if not ids:
            break
        for chunk_id, text, meta in zip(ids, page["documents"] or [], page["metadatas"] or [], strict=True):
            node = metadata_dict_to_node(dict(meta), text=text)
            chunks.append(Chunk(chunk_id, text or "", dict(node.metadata)))
        offset += len(ids)
    # A PDF's line numbers restart on every page: order by page first.
    chunks.sort(key=lambda c: (c.path, int(c.metadata.get(store.PAGE) or 0), c.start_line, c.id))
    return chunks


def from_chunks(chunks: list[Chunk], generation: str = "") -> KeywordIndex:
    """An in-memory BM25 index over the given chunks (tests and benchmarks; ingest uses `build`)."""
    return KeywordIndex(chunks, generation, _bm25(chunks) if chunks else None)


def build(index: store.ChunkIndex, folder: Path | None) -> KeywordIndex:
    """BM25 over every chunk in Chroma, persisted to `folder` (when given) with the collection's generation."""
    started = time.perf_counter()
    generation = store.generation(index.collection)  # read first: a write during the read leaves it stale
    chunks = read_chunks(index)
    retriever = _bm25(chunks) if chunks else None
    keyword = KeywordIndex(chunks, generation, retriever, time.perf_counter() - started)
    if folder is not None and retriever is not None:
        _persist(retriever, generation, len(chunks), folder)
    keyword.seconds = time.perf_counter() - started
    logger.info("built the BM25 index of %d chunks in %.2f s", len(chunks), keyword.seconds)
    return keyword


def load(index: store.ChunkIndex, folder: Path | None) -> KeywordIndex:
    """The persisted BM25 index if it matches the collection's generation, else rebuilt from Chroma (and persisted)."""
    started = time.perf_counter()
    generation = store.generation(index.collection)
    if folder is not None and _stamp(folder).get("generation") == generation:
        try:
            keyword = _load(folder, generation)
        except (OSError, ValueError, KeyError) as exc:  # half-written or from another version: rebuild
            logger.warning("the BM25 index in %s is unreadable (%s); rebuilding it from Chroma", folder, exc)
        else:
            keyword.seconds = time.perf_counter() - started
            logger.info("loaded the BM25 index of %d chunks in %.2f s", len(keyword.chunks), keyword.seconds)
            return keyword
    return build(index, folder)


def sync(index: store.ChunkIndex, folder: Path) -> bool:
    """Rebuild the persisted BM25 index unless it matches the collection's generation; True if it did."""
    if _stamp(folder).get("generation") == store.generation(index.collection):
        return False
    build(index, folder)
    return True


def _quiet_bm25s() -> None:
    # bm25s sets its own logger to DEBUG on import, which prints through the CLI's stderr handler.
    import bm25s  # noqa: F401

    logging.getLogger("bm25s").setLevel(logging.WARNING)


def _bm25(chunks: Sequence[Chunk]) -> BM25Retriever:
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.retrievers.bm25 import BM25Retriever

    _quiet_bm25s()
    # BM25 reads what the embedding reads: title and section (metric, model, column names) plus the text.
    nodes: list[BaseNode] = [
        TextNode(
            id_=c.id, text=c.text, metadata=c.metadata,
            excluded_embed_metadata_keys=[k for k in c.metadata if k not in store.EMBEDDED_METADATA],
        )
        for c in chunks
    ]
    return BM25Retriever(
        nodes=nodes, token_pattern=TOKEN_PATTERN, similarity_top_k=min(10, len(nodes)),
        language=stopwords(),  # type: ignore[arg-type]  # passed on to bm25s.tokenize, which takes a list too
        stemmer=SpellingStemmer(),  # bm25s calls its stemWords, as it would PyStemmer's
    )


def _persist(retriever: BM25Retriever, generation: str, chunks: int, folder: Path) -> None:
    """Write to a sibling folder, then swap it in, so a reader never sees half an index."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}"
    try:
        retriever.persist(str(staging), show_progress=False)
        (staging / _STAMP).write_text(
            json.dumps({"format": FORMAT, "generation": generation, "chunks": chunks, "token_pattern": TOKEN_PATTERN,
                        "stopwords": STOPWORDS_VERSION, "spelling": SPELLING_VERSION})
        )
        old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:  # a read-only folder must not stop answering: the in-memory index still serves
        logger.warning("could not persist the BM25 index to %s (%s); it will be rebuilt on next start", folder, exc)
        shutil.rmtree(staging, ignore_errors=True)


def _stamp(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / _STAMP).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    same_words = (data.get("token_pattern"), data.get("stopwords"), data.get("spelling")) == (
        TOKEN_PATTERN, STOPWORDS_VERSION, SPELLING_VERSION
    )
    if data.get("format") != FORMAT or not same_words:
        return {}
    return data


def _load(folder: Path, generation: str) -> KeywordIndex:
    import bm25s

    _quiet_bm25s()
    bm25 = bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False)
    retriever = LoadedBM25(bm25, SpellingStemmer())  # the stemmer _bm25() built the persisted index with
    chunks = []
    for entry in bm25.corpus:
        node = json.loads(entry["_node_content"])
        chunks.append(Chunk(node["id_"], node["text"], node["metadata"]))
    return KeywordIndex(chunks, generation, retriever, loaded=True)
