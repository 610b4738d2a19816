"""`finbot ask` through a running `finbot serve`: the model and index are already loaded there, so a
question costs one HTTP round trip instead of opening the index in a fresh process.

Only the standard library is imported (a one-shot ask must stay light). The server is used only when it
answers /healthz on http.host:http.port within a moment and reads the same index as this config
(`Index.identity()`); otherwise, or when it fails, the caller opens the index itself.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from typing import Any

from bot.config import Config

logger = logging.getLogger(__name__)

PROBE_SECONDS = 0.5  # how long /healthz may take before the server counts as absent
CLIENT_KEY_ENV = "FINBOT_API_KEY"  # the key `finbot ask` sends; else the first of the server's FINBOT_API_KEYS


def server_url(config: Config) -> str:
    host = config.http.host
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: reach it on loopback
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.http.port}"


def ask_server(config: Config, payload: dict[str, Any]) -> dict[str, Any] | None:
    """POST /v1/ask to the configured server when it serves this config's index; None to answer locally."""
    url = server_url(config)
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=PROBE_SECONDS) as response:
            health = json.load(response)
    except (OSError, ValueError):
        return None
    if health.get("index") != config.index.identity():
        logger.info("finbot serve at %s reads %s, not %s: answering locally", url, health.get("index"),
                    config.index.identity())
        return None
    headers = {"Content-Type": "application/json", "X-Finbot-Client": "cli"}  # recorded as cli (recording.cli)
    if key := os.environ.get(CLIENT_KEY_ENV) or os.environ.get("FINBOT_API_KEYS", "").split(",")[0].strip():
        headers["X-API-Key"] = key
    request = urllib.request.Request(f"{url}/v1/ask", json.dumps(payload).encode(), headers, method="POST")
    timeout = config.http.answer_timeout_seconds + 5
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        logger.warning("finbot serve at %s answered %s (%s): answering locally", url, exc.code, detail)
        return None
    except (OSError, ValueError) as exc:
        logger.warning("finbot serve at %s failed (%s): answering locally", url, exc)
        return None
    return body
