"""Every chunk carries its file, section, line range and (PDFs) page into the index and out to the citation."""

from pathlib import Path

import pytest

from bot.answering.answer import Source
from ingest import store
from ingest.loaders import build_context
from ingest.pipeline import SourceFile, build_nodes
from tests.conftest import CORPUS


def test_pdf_chunks_carry_their_page_and_others_carry_none() -> None:
    pdf = build_nodes(SourceFile(CORPUS, CORPUS / "policies" / "travel_and_expense_policy.pdf"))
    assert {node.metadata[store.PAGE] for node in pdf} == {1, 2, 3}
    assert all(node.metadata[store.DOC_TYPE] == "policy" for node in pdf)
    assert store.PAGE in pdf[0].excluded_embed_metadata_keys
    csv = build_nodes(SourceFile(CORPUS, CORPUS / "reference" / "chart_of_accounts.csv"))
    assert all(store.PAGE not in node.metadata for node in csv)  # Chroma metadata cannot hold None


def test_every_corpus_chunk_has_a_valid_citation() -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    context = build_context(files)
    for path in files:
        lines = len(path.read_bytes().splitlines()) if path.suffix != ".pdf" else None
        for node in build_nodes(SourceFile(CORPUS, path), context):
            meta = node.metadata
            assert meta[store.PATH] == path.relative_to(CORPUS).as_posix()
            assert 1 <= meta[store.START_LINE] <= meta[store.END_LINE], meta
            assert lines is None or meta[store.END_LINE] <= lines, meta
            assert node.text.strip()


@pytest.mark.parametrize("name", ["Q3 close [draft].md", "chart of accounts (2026).csv", "a&b #1.json"])
def test_odd_file_names_are_indexed_and_cited_as_named(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "reference [old]"
    folder.mkdir()
    path = folder / name
    contents = {".md": "# Close\n\nBD5 sign-off.\n", ".csv": "a,b\n1,2\n", ".json": '{"a": [1, 2]}\n'}
    path.write_text(contents[path.suffix])
    nodes = build_nodes(SourceFile(tmp_path, path))
    assert nodes and {node.metadata[store.PATH] for node in nodes} == {f"reference [old]/{name}"}
    assert len({node.node_id for node in nodes}) == len(nodes)


def test_citation_shows_the_page_for_pdfs_and_lines_otherwise() -> None:
    pdf = Source(2, "policies/x.pdf", "Policy > Hotels", 4, 9, 0.7, "", "", page=3)
    assert pdf.citation() == "[2] policies/x.pdf p.3 (Policy > Hotels)"
    yaml = Source(1, "metrics/mrr.yaml", "metrics.arr", 87, 108, 0.7, "", "")
    assert yaml.citation() == "[1] metrics/mrr.yaml:87-108 (metrics.arr)"
