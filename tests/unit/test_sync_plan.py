"""make_plan and discover on plain files: no model, no Chroma."""

from pathlib import Path

from ingest.sources import SourceFile, discover, fingerprint
from ingest.store import IndexedFile
from ingest.sync import make_plan

SUPPORTED = frozenset({".md", ".yaml"})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_each_file_gets_one_action(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "same.md", "# Same\n\nUnchanged text.\n")
    write(root / "changed.md", "# Changed\n\nNew text.\n")
    write(root / "new.md", "# New\n\nBrand new.\n")
    write(root / "half.md", "# Half\n\nA killed run wrote part of this.\n")
    write(root / "sheet.xlsx", "not a format we read")
    sources = discover([root]).files
    digest = {s.rel: fingerprint(s, 10_000) for s in sources}
    indexed = {
        "same.md": IndexedFile(digest["same.md"], 2, 2),
        "changed.md": IndexedFile("an older fingerprint", 1, 1),
        "half.md": IndexedFile(digest["half.md"], 3, 1),
        "gone.md": IndexedFile("whatever", 1, 1),
    }
    plan = make_plan(sources, indexed, SUPPORTED, 10_000)
    assert [c.source.rel for c in plan.add] == ["new.md"]
    assert sorted(c.source.rel for c in plan.update) == ["changed.md", "half.md"]
    assert plan.unchanged == ["same.md"]
    assert plan.delete == ["gone.md"]
    assert plan.skipped == ["sheet.xlsx"]
    assert plan.scanned == 5


def test_a_failing_file_is_neither_updated_nor_deleted(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "big.md", "# Big\n\n" + "x" * 500)
    write(root / "empty.md", "\n \n")
    indexed = {"big.md": IndexedFile("old", 1, 1), "empty.md": IndexedFile("old", 1, 1)}
    plan = make_plan(discover([root]).files, indexed, SUPPORTED, 100)
    assert not plan.changes and not plan.delete
    reasons = sorted(error.reason for error in plan.failed)
    assert reasons[0].startswith("is 0.000507 MB, over the 0.0001 MB limit (corpus.max_file_mb)")
    assert reasons[1] == "is empty; add content or delete the file"


def test_the_same_path_in_two_corpus_folders_is_reported(tmp_path: Path) -> None:
    first = write(tmp_path / "a" / "README.md", "# A\n\nOne.\n")
    second = write(tmp_path / "b" / "README.md", "# B\n\nTwo.\n")
    plan = make_plan(discover([first.parent, second.parent]).files, {}, SUPPORTED, 10_000)
    assert [c.source.path for c in plan.add] == [first]
    assert len(plan.failed) == 1 and plan.failed[0].path == str(second)
    assert "same relative path as" in plan.failed[0].reason


def test_the_fingerprint_follows_content_and_the_docs_blocks_it_quotes(tmp_path: Path) -> None:
    text = "models:\n  - name: fct_arr\n    description: '{{ doc(\"arr\") }}'\n"
    source = SourceFile(tmp_path, write(tmp_path / "m.yaml", text))
    blocks = {"arr": "Annual recurring revenue.", "mrr": "Monthly recurring revenue."}
    before = fingerprint(source, 1000, blocks)
    assert fingerprint(source, 1000, blocks) == before
    assert fingerprint(source, 1000, {**blocks, "mrr": "Edited, but not quoted here."}) == before
    assert fingerprint(source, 1000, {**blocks, "arr": "ARR, edited."}) != before
    write(source.path, text.replace("fct_arr", "fct_arr_v2"))
    assert fingerprint(source, 1000, blocks) != before


def test_hidden_files_and_folders_are_not_discovered(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "config.md", "# no\n")
    write(tmp_path / ".draft.md", "# no\n")
    write(tmp_path / "docs" / "b.md", "# yes\n")
    write(tmp_path / "a.md", "# yes\n")
    assert [s.rel for s in discover([tmp_path]).files] == ["a.md", "docs/b.md"]
