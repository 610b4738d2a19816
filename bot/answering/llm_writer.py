"""The LLM that writes an answer from the numbered sources: llama-index's OpenAI-like and Ollama
integrations, and Anthropic's SDK (see `_anthropic`).

One `LlmWriter` per process. Keys come from the environment only (OPENAI_API_KEY, ANTHROPIC_API_KEY), and
every provider failure (refused connection, timeout, HTTP error, empty reply) becomes an `LlmError`, which
the answerer turns into the extractive answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.answering.prompt import Prompt, build_prompt
from bot.errors import ConfigError, FinbotError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from bot.answering.answer import Source
    from bot.config import Llm

Chat = Callable[[Prompt], str]  # the system + user message in, the model's reply text out

logger = logging.getLogger(__name__)

KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
# A local OpenAI-compatible server (vLLM, llama.cpp, Ollama's /v1) takes any key; the client insists on one.
NO_KEY = "not-needed"


class LlmError(FinbotError):
    """The model could not write an answer (down, too slow, an error or an empty reply)."""


class LlmWriter:
    """Asks the configured model for an answer to a question from numbered sources."""

    def __init__(self, chat: Chat, provider: str, model: str, errors: tuple[type[BaseException], ...]) -> None:
        self.chat = chat
        self.provider = provider
        self.model = model
        self._errors = errors

    def write(self, question: str, sources: Sequence[Source], asks: Sequence[str] = ()) -> str:
        """The model's reply (raises LlmError when there is none)."""
        try:
            text = self.chat(build_prompt(question, sources, asks)).strip()
        except self._errors as exc:
            raise LlmError(f"{self.provider} model {self.model!r} failed: {type(exc).__name__}: {exc}") from exc
        if not text:
            raise LlmError(f"{self.provider} model {self.model!r} replied with nothing")
        return text


def llama_index_chat(llm: LLM) -> Chat:
    """A llama-index LLM as a Chat."""
    from llama_index.core.llms import ChatMessage, MessageRole

    def chat(prompt: Prompt) -> str:
        reply = llm.chat([
            ChatMessage(role=MessageRole.SYSTEM, content=prompt.system),
            ChatMessage(role=MessageRole.USER, content=prompt.user),
        ])
        return reply.message.content or ""

    return chat


def load_writer(settings: Llm, environ: Mapping[str, str]) -> LlmWriter:
    """The writer for `llm:` in the config, with its key from `environ` (ConfigError when one is missing)."""
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
    return LlmWriter(llama_index_chat(llm), "openai", settings.model, (openai.APIError,))


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

    return LlmWriter(chat, "anthropic", settings.model, (anthropic.APIError,))


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
    return LlmWriter(
        llama_index_chat(llm), "ollama", settings.model, (ollama.ResponseError, httpx.HTTPError, ConnectionError)
    )
