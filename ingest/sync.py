"""The sync plan: compare the corpus with what the index holds, file by file, by content fingerprint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest.documents import LoadContext
from ingest.errors import DocumentError
from ingest.sources import SourceFile, fingerprint
from ingest.store import IndexedFile


@dataclass(frozen=True)
class Change:
    source: SourceFile
    fingerprint: str


@dataclass
class Plan:
    """What a run will do. Applying it is idempotent: a run killed half-way is finished by the next."""

    add: list[Change] = field(default_factory=list)  # not in the index yet
    update: list[Change] = field(default_factory=list)  # changed, or left half-written by a killed run
    unchanged: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)  # indexed, but gone from the corpus folders
    skipped: list[str] = field(default_factory=list)  # unsupported format, or a link out of the corpus
    failed: list[DocumentError] = field(default_factory=list)  # unreadable, empty, too large: old chunks stay
    scanned: int = 0
    context: LoadContext = field(default_factory=LoadContext)  # what loaders may know of the whole corpus

    @property
    def changes(self) -> list[Change]:
        return [*self.add, *self.update]

    @property
    def writes(self) -> bool:
        return bool(self.add or self.update or self.delete)


def make_plan(
    sources: Sequence[SourceFile],
    indexed: Mapping[str, IndexedFile],
    supported: frozenset[str],
    max_bytes: int,
    context: LoadContext | None = None,
) -> Plan:
    """Decide, per file, add / update / unchanged / delete / skip / fail. Reads files, writes nothing."""
    context = context or LoadContext()
    plan = Plan(scanned=len(sources), context=context)
    seen: dict[str, SourceFile] = {}
    for source in sources:
        rel = source.rel
        if source.path.suffix.lower() not in supported:
            plan.skipped.append(rel)
            continue
        if rel in seen:
            plan.failed.append(
                DocumentError(source.path, f"has the same relative path as {seen[rel].path}; "
                              "rename one, or index the two folders into separate collections")
            )
            continue
        seen[rel] = source
        try:
            digest = fingerprint(source, max_bytes, context.doc_blocks)
        except DocumentError as exc:
            plan.failed.append(exc)
            continue
        held = indexed.get(rel)
        if held is None:
            plan.add.append(Change(source, digest))
        elif held.fingerprint != digest or not held.complete:
            plan.update.append(Change(source, digest))
        else:
            plan.unchanged.append(rel)
    # A file that is still there keeps its chunks, even when it was skipped or failed this time.
    present = {source.rel for source in sources}
    plan.delete = sorted(path for path in indexed if path not in present)
    return plan
