"""The torch-free query embedder against sentence-transformers: the same vectors, rankings and answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.answering.answerer import Answerer, load_answerer
from bot.config import load_config
from bot.retrieval.hybrid import load_vector_index
from ingest import onnx_embedder, store
from ingest.onnx_embedder import ModelFiles, OnnxEmbedder
from ingest.onnx_export import VERIFY_SENTENCES, ExportError, ensure_exported, verify
from tests.conftest import CORPUS

pytestmark = pytest.mark.model

QUERIES = [
    "what's the formula for DSO",
    "How is ARR calculated?",
    "which column of the payouts report is the arrival date?",
    "who approves a refund over the limit?",
    "GL 1030",
    "how do we recognise revenue on annual prepaid plans",
    "NDR vs GRR",
    "  whats the   travel policy for hotels??  ",
]


def passages() -> list[str]:
    """Real corpus text, short and long (several run past 256 tokens)."""
    texts = []
    for path in sorted(CORPUS.rglob("*.md"))[:12]:
        text = path.read_text()
        texts += [text[:300], text[:4000]]
    return texts


@pytest.fixture(scope="module")
def files() -> ModelFiles:
    found = onnx_embedder.model_files(Path(store.bundled_model_path()))
    assert found is not None
    return found


@pytest.fixture(scope="module")
def exported(files: ModelFiles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export into an empty cache, as on a clean machine."""
    return ensure_exported(files, tmp_path_factory.mktemp("onnx-cache")) / onnx_embedder.ONNX_FILE


def torch_vectors(texts: list[str]) -> np.ndarray:
    return np.array(store.load_bulk_embed_model().get_text_embedding_batch(texts))


def test_the_export_is_verified_and_keyed_by_the_weights_hash(files: ModelFiles, exported: Path) -> None:
    import hashlib

    assert exported.parent.name == hashlib.sha256(files.weights.read_bytes()).hexdigest()
    report = json.loads((exported.parent / onnx_embedder.VERIFIED_FILE).read_text())
    assert report["min_cosine"] > 0.9999 and report["sentences"] == len(VERIFY_SENTENCES)


def test_vectors_agree_with_torch(files: ModelFiles, exported: Path) -> None:
    texts = QUERIES + passages()
    onnx = OnnxEmbedder(files, exported).encode(texts)
    reference = torch_vectors(texts)
    cosines = (onnx * reference).sum(axis=1) / (np.linalg.norm(onnx, axis=1) * np.linalg.norm(reference, axis=1))
    assert cosines.min() > 0.9999, texts[int(cosines.argmin())][:80]
    # one at a time too: a single query is not padded, a batch pads to its longest
    single = np.array([OnnxEmbedder(files, exported).get_query_embedding(q) for q in QUERIES])
    assert np.abs(single - reference[: len(QUERIES)]).max() < 1e-5


def test_rankings_are_identical(files: ModelFiles, exported: Path) -> None:
    texts = passages()
    onnx = OnnxEmbedder(files, exported)
    query_onnx, passages_onnx = onnx.encode(QUERIES), onnx.encode(texts)
    query_torch, passages_torch = torch_vectors(QUERIES), torch_vectors(texts)
    for n in range(len(QUERIES)):
        ranked_onnx = np.argsort(-(passages_onnx @ query_onnx[n]), kind="stable")
        ranked_torch = np.argsort(-(passages_torch @ query_torch[n]), kind="stable")
        assert ranked_onnx.tolist() == ranked_torch.tolist(), QUERIES[n]


def test_the_tokenizer_reads_256_tokens_and_pads_only_to_the_longest(files: ModelFiles, exported: Path) -> None:
    tokenizer = OnnxEmbedder(files, exported).tokenizer
    long = VERIFY_SENTENCES[-1]
    assert len(tokenizer.encode(long).ids) == files.max_length == 256
    one = tokenizer.encode("GL 1030")
    assert len(one.ids) < 10 and all(one.attention_mask)  # not padded to 128
    short, longer = tokenizer.encode_batch(["GL 1030", "what's the formula for days sales outstanding"])
    assert len(short.ids) == len(longer.ids) < 20 and all(longer.attention_mask) and not all(short.attention_mask)


def test_the_shipped_128_token_limit_would_fail_the_check(files: ModelFiles, exported: Path) -> None:
    """The check that guards the cache catches the tokenizer trap: cut at 128 tokens, long texts drift."""
    as_shipped = ModelFiles(files.folder, files.weights, 128, files.normalize)
    with pytest.raises(ExportError, match="worst cosine"):
        verify(as_shipped, exported)


def test_answers_are_the_same_as_with_torch(indexed_config: Path) -> None:
    """The answer, its sources, scores and confidence are byte-identical whichever model embeds the question;
    --explain's similarities (rounded to 4 places) may differ in the last place, its ranks may not."""
    config = load_config(indexed_config)
    onnx = load_answerer(config)
    assert onnx.retriever.index is not None and isinstance(onnx.retriever.index.embed_model, OnnxEmbedder)
    same = onnx.retriever
    retriever = type(same)(
        onnx.chunks, load_vector_index(onnx.chunks, store.load_bulk_embed_model()), same.keyword_folder,
        same.mode, same.use_glossary, same.fusion,
    )
    torch = Answerer(retriever, onnx.chunks, onnx.top_k, onnx.min_confidence)
    for question in QUERIES:
        for doc_type in (None, "policy"):
            got, expected = (a.ask(question, doc_type=doc_type) for a in (onnx, torch))
            assert json.dumps(strip_id(got.to_dict())) == json.dumps(
                strip_id(expected.to_dict())
            ), question
            for ours, theirs in zip(got.sources, expected.sources, strict=True):
                assert (ours.explain.vector_rank, ours.explain.bm25_rank) == (
                    theirs.explain.vector_rank, theirs.explain.bm25_rank
                )
                if theirs.explain.similarity is not None:
                    assert ours.explain.similarity == pytest.approx(theirs.explain.similarity, abs=2e-4)


def strip_id(answer: dict) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in answer.items() if k != "id"}


def test_ingest_exports_the_model_into_an_empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean machine: the first ingest leaves the verified export behind, so the next question needs no torch."""
    from click.testing import CliRunner

    from bot.interfaces.cli import cli
    from tests.conftest import write_config, write_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_file(corpus, "refunds.md", "# Refunds\n\nAnnual plans are refunded pro rata within 30 days.\n")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, corpus)), "ingest"])
    assert result.exit_code == 0, result.output
    exported = list((tmp_path / "cache" / "finbot" / "onnx").glob(f"*/{onnx_embedder.VERIFIED_FILE}"))
    assert len(exported) == 1 and (exported[0].parent / onnx_embedder.ONNX_FILE).stat().st_size > 10_000_000


def test_without_a_writable_cache_questions_fall_back_to_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch_model = store.load_bulk_embed_model("", 64)  # loaded first: llama-index keeps its own cache there too
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    store.load_embed_model.cache_clear()
    try:
        embedder = store.load_embed_model()
        assert not isinstance(embedder, OnnxEmbedder)
        assert embedder is torch_model
    finally:
        store.load_embed_model.cache_clear()
