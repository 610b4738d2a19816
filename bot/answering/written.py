"""LLM answer mode: the extractive answer's sources go to the writer, its reply is checked sentence by
sentence (bot/answering/citations.py), and the extractive answer stays whenever the reply can't be used."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.answering.citations import check
from bot.answering.compose import where_in
from bot.answering.llm_writer import LlmError
from bot.answering.prompt import ABSTAIN

if TYPE_CHECKING:
    from bot.answering.answer import Answer
    from bot.answering.llm_writer import LlmWriter

logger = logging.getLogger(__name__)

EXTRACTIVE, LLM, FALLBACK = "extractive", "llm", "llm-fallback"
_CITATION = re.compile(r"\[[\d,\s-]*\]")
_ABSTAIN_WORDS = re.sub(r"\W+", " ", ABSTAIN.lower()).strip()


@dataclass(frozen=True)
class Writing:
    """The writer, how strictly its sentences are checked (llm.min_overlap) and whether its "the sources don't
    answer" outweighs the extractive answer's confidence (llm.model_abstains)."""

    writer: LlmWriter
    min_overlap: float
    believe_abstention: bool = False

    def rewrite(self, answer: Answer) -> Answer:
        """The model's checked answer in place of the extractive one, or the extractive one saying why not.
        An abstention, a metric value and an answer without sources are left as they are."""
        if not wanted(answer):
            return answer
        started = time.perf_counter()
        try:
            reply = self.writer.write(answer.question, answer.sources, answer.parts)
        except LlmError as exc:
            return failed(answer, exc)
        return self.finish(answer, reply, (time.perf_counter() - started) * 1000)

    def draft(self, answer: Answer) -> Generator[str, None, None]:
        """The model's reply to `answer`'s question as it is produced (LlmError when it fails); `finish`
        then checks it. Only for an answer that is `wanted`."""
        return self.writer.stream(answer.question, answer.sources, answer.parts)

    def rewrite_live(self, answer: Answer, show: Callable[[str], None]) -> Answer:
        """`rewrite`, passing each piece of the model's draft to `show` as it is produced."""
        if not wanted(answer):
            return answer
        pieces: list[str] = []
        try:
            for piece in self.draft(answer):
                pieces.append(piece)
                show(piece)
        except LlmError as exc:
            return failed(answer, exc)
        return self.finish(answer, "".join(pieces))

    def finish(self, answer: Answer, reply: str, ms: float = 0.0) -> Answer:
        """The checked reply in place of the extractive answer, or the extractive answer saying why not."""
        if not reply.strip():
            return failed(answer, LlmError(f"{self.writer.provider} model replied with nothing"))
        if is_abstention(reply):
            logger.info("answer %s: the %s model found no answer in the sources (%.0f ms)", answer.id,
                        self.writer.provider, ms)
            if self.believe_abstention:
                return replace(answer, text=abstention(answer), abstained=True, lead="", mode=LLM)
            return fallback(answer, "the model found no answer in these sources, so check the quoted lines",
                            "the model abstained")
        checked = check(reply, {s.n: s.text for s in answer.sources}, self.min_overlap)
        removed = checked.removed
        for sentence in removed:
            logger.debug("answer %s: removed a sentence that %s", answer.id, sentence.problem)
        if not any(not s.heading for s in checked.kept):
            return fallback(answer, "none of the model's sentences was supported by its sources",
                            f"{len(removed)} sentence(s) removed", len(removed))
        logger.info("answer %s written by %s in %.0f ms: %d sentence(s) kept, %d removed", answer.id,
                    self.writer.provider, ms, len(checked.claims) - len(removed), len(removed))
        return replace(answer, text=checked.text, lead=checked.text, mode=LLM, removed_sentences=len(removed))


def wanted(answer: Answer) -> bool:
    """Whether the model is asked to write this answer: not for an abstention (it stays one), a metric value
    or an answer without sources."""
    return not answer.abstained and bool(answer.sources) and answer.value is None


def failed(answer: Answer, exc: LlmError) -> Answer:
    return fallback(answer, "the model could not be reached or did not answer in time", str(exc))


def fallback(answer: Answer, why: str, detail: str, removed: int = 0) -> Answer:
    """The extractive answer, with one line saying why it is not the written one."""
    logger.warning("answer %s: quoting instead of writing: %s (%s)", answer.id, why, detail)
    note = f"(Quoted answer: {why}.)"
    return replace(answer, text=f"{answer.text}\n\n{note}", mode=FALLBACK, removed_sentences=removed)


def is_abstention(reply: str) -> bool:
    """The reply is the fixed "the sources do not answer" sentence (give or take case, punctuation and a
    citation a model adds out of habit)."""
    return re.sub(r"\W+", " ", _CITATION.sub(" ", reply.lower())).strip() == _ABSTAIN_WORDS


def abstention(answer: Answer) -> str:
    closest = "; ".join(f"{s.path}{where_in(s)} [{s.n}]" for s in answer.sources[:3])
    return f"{ABSTAIN} The closest passages were: {closest}."
