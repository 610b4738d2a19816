"""The LLM that writes an answer from the numbered sources: llama-index's OpenAI-like and Ollama
integrations, Anthropic's SDK (see `_anthropic`), and a local GGUF model in process (local_model.py).

One `LlmWriter` per process. Keys come from the environment only (OPENAI_API_KEY, ANTHROPIC_API_KEY), and
every provider failure (refused connection, timeout, HTTP error, empty reply) becomes an `LlmError`, which
the answerer turns into the extractive answer.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.answering.prompt import Prompt, build_prompt, source_chars
from bot.errors import ConfigError, FinbotError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from bot.answering.answer import Source
    from bot.config import Llm

Chat = Callable[[Prompt], str]  # the system + user message in, the model's reply text out
StreamChat = Callable[[Prompt], Iterator[str]]  # the same, the reply's text as it is produced

logger = logging.getLogger(__name__)

KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
# A local OpenAI-compatible server (vLLM, llama.cpp, Ollama's /v1) takes any key; the client insists on one.
NO_KEY = "not-needed"


class LlmError(FinbotError):
    """The model could not write an answer (down, too slow, an error or an empty reply)."""


class LlmWriter:
    """Asks the configured model for an answer to a question from numbered sources."""

    def __init__(
        self, chat: Chat, provider: str, model: str, errors: tuple[type[BaseException], ...],
        stream_chat: StreamChat | None = None, probe_url: str = "", window: tuple[int, int] = (8192, 600),
    ) -> None:
        self.chat = chat
        self.probe_url = probe_url  # any HTTP reply from here means the provider's server is up
        self.window = window  # (context window, max answer tokens): how much of the sources fits
        self.stream_chat = stream_chat
        self.provider = provider
        self.model = model
        self._errors = errors

    def write(self, question: str, sources: Sequence[Source], asks: Sequence[str] = ()) -> str:
        """The model's reply (raises LlmError when there is none)."""
        try:
            text = self.chat(self.prompt(question, sources, asks)).strip()
        except self._errors as exc:
            raise LlmError(f"{self.provider} model {self.model!r} failed: {type(exc).__name__}: {exc}") from exc
        if not text:
            raise LlmError(f"{self.provider} model {self.model!r} replied with nothing")
        return text

    def prompt(self, question: str, sources: Sequence[Source], asks: Sequence[str] = ()) -> Prompt:
        return build_prompt(question, sources, asks, source_chars(*self.window, len(sources)))

    def unreachable(self, timeout: float = 2.0) -> str:
        """Why the provider's server cannot be reached ("" when it answers HTTP at all, even with a 401)."""
        import httpx

        if not self.probe_url:
            return ""
        try:
            httpx.get(self.probe_url, timeout=timeout)
        except httpx.HTTPError as exc:
            return f"{self.provider} at {self.probe_url} cannot be reached ({type(exc).__name__})"
        return ""

    def stream(
        self, question: str, sources: Sequence[Source], asks: Sequence[str] = ()
    ) -> Generator[str, None, None]:
        """The model's reply as it is produced (raises LlmError, also part way through)."""
        prompt = self.prompt(question, sources, asks)
        if self.stream_chat is None:
            yield self.write(question, sources, asks)
            return
        try:
            yield from self.stream_chat(prompt)
        except self._errors as exc:
            raise LlmError(f"{self.provider} model {self.model!r} failed: {type(exc).__name__}: {exc}") from exc


def llama_index_chat(llm: LLM) -> tuple[Chat, StreamChat]:
    """A llama-index LLM as a Chat and a StreamChat."""
    from llama_index.core.llms import ChatMessage, MessageRole

    def messages(prompt: Prompt) -> list[ChatMessage]:
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=prompt.system),
            ChatMessage(role=MessageRole.USER, content=prompt.user),
        ]

    def chat(prompt: Prompt) -> str:
        return llm.chat(messages(prompt)).message.content or ""

    def stream_chat(prompt: Prompt) -> Iterator[str]:
        finished = False
        try:
            for part in llm.stream_chat(messages(prompt)):
                if part.delta:
                    yield part.delta
            finished = True
        finally:
            if not finished:
                # Stopped early (the reader left): llama-index's stream wrappers sit in a reference cycle, so
                # only a collection closes the HTTP response now, which is what ends the generation.
                gc.collect()

    return chat, stream_chat


def load_writer(settings: Llm, environ: Mapping[str, str]) -> LlmWriter:
    """The writer for `llm:` in the config, with its key from `environ` (ConfigError when one is missing)."""
    if settings.provider == "llama_cpp":
        from bot.answering.local_model import load_local

        return load_local(settings)
    if not settings.model:
        raise ConfigError("answer.mode is llm but llm.model is empty. Set llm.model (e.g. gpt-4o-mini).")
    key = environ.get(KEY_ENV.get(settings.provider, ""), "")
    if settings.provider == "openai":
        return _openai(settings, key)
    if settings.provider == "anthropic":
        return _anthropic(settings, key)
    return _ollama(settings)


def _openai(settings: Llm, key: str) -> LlmWriter:
    import openai
    from llama_index.llms.openai_like import OpenAILike

    if not key and not settings.api_base:
        raise ConfigError("llm.provider is openai but OPENAI_API_KEY is not set. Export it, or set llm.api_base "
                          "to your own OpenAI-compatible server (ending in /v1).")
    llm = OpenAILike(
        model=settings.model, api_base=settings.api_base or "https://api.openai.com/v1", api_key=key or NO_KEY,
        # Its defaults are a completion model with a 3,900-token window: wrong for every chat server.
        is_chat_model=True, context_window=settings.context_window, max_tokens=settings.max_tokens,
        temperature=settings.temperature, timeout=settings.timeout, max_retries=0,
    )
    chat, stream_chat = llama_index_chat(llm)
    return LlmWriter(chat, "openai", settings.model, (openai.APIError,), stream_chat, f"{llm.api_base}/models",
                     (settings.context_window, settings.max_tokens))


def _anthropic(settings: Llm, key: str) -> LlmWriter:
    # Anthropic's own SDK, not llama-index-llms-anthropic: its 0.12.3 builds `MessageParam(...)`, which the
    # installed anthropic 2.x made a Union, so every chat with a user message raises TypeError there.
    import anthropic

    if not key:
        raise ConfigError("llm.provider is anthropic but ANTHROPIC_API_KEY is not set. Export it.")
    client = anthropic.Anthropic(
        api_key=key, base_url=settings.api_base or None, timeout=settings.timeout, max_retries=0
    )

    def chat(prompt: Prompt) -> str:
        reply = client.messages.create(
            # max_tokens is required (no default to cut answers short); anthropic 2.x takes no temperature.
            model=settings.model, max_tokens=settings.max_tokens, system=prompt.system,
            messages=[{"role": "user", "content": prompt.user}],
        )
        return "".join(block.text for block in reply.content if block.type == "text")

    def stream_chat(prompt: Prompt) -> Iterator[str]:
        with client.messages.stream(
            model=settings.model, max_tokens=settings.max_tokens, system=prompt.system,
            messages=[{"role": "user", "content": prompt.user}],
        ) as stream:
            yield from stream.text_stream

    probe = f"{str(client.base_url).rstrip('/')}/v1/models"
    return LlmWriter(chat, "anthropic", settings.model, (anthropic.APIError,), stream_chat, probe,
                     (settings.context_window, settings.max_tokens))


def _ollama(settings: Llm) -> LlmWriter:
    import httpx
    import ollama
    from llama_index.llms.ollama import Ollama

    llm = Ollama(
        model=settings.model, base_url=settings.api_base or "http://127.0.0.1:11434",
        context_window=settings.context_window,  # unset, `.metadata` asks the server
        request_timeout=settings.timeout, temperature=settings.temperature,
        additional_kwargs={"num_predict": settings.max_tokens},
    )
    chat, stream_chat = llama_index_chat(llm)
    errors = (ollama.ResponseError, httpx.HTTPError, ConnectionError)
    return LlmWriter(chat, "ollama", settings.model, errors, stream_chat, f"{llm.base_url}/api/tags",
                     (settings.context_window, settings.max_tokens))
