"""API keys for the HTTP API: read from the environment, compared in constant time, checked per request."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bot.errors import ConfigError

API_KEYS_ENV = "FINBOT_API_KEYS"
# A file of sha256 hex digests, one a line ("# comments" allowed): keys can be rotated without the plain key on disk.
API_KEY_HASHES_ENV = "FINBOT_API_KEY_HASHES_FILE"
MIN_KEY_CHARS = 16
KEY_REQUIRED = "An API key is required: send it as `X-API-Key: <key>` or `Authorization: Bearer <key>`."
CHALLENGE = 'Bearer realm="finbot", ApiKey header="X-API-Key"'

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from FINBOT_API_KEYS.")
bearer = HTTPBearer(auto_error=False, description="The same API key as `Authorization: Bearer <key>`.")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class ApiKeys:
    """The accepted keys, held only as sha256 digests."""

    digests: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, keys: Iterable[str]) -> ApiKeys:
        return cls(tuple(_digest(key) for key in keys))

    def __bool__(self) -> bool:
        return bool(self.digests)

    def identify(self, presented: str) -> str | None:
        """A short id of the matching key (safe to log), or None. Compares with every key, in constant time."""
        digest = _digest(presented)
        found: bytes | None = None
        for candidate in self.digests:
            if hmac.compare_digest(candidate, digest):
                found = candidate
        return f"key:{found.hex()[:8]}" if found is not None else None


def api_keys_from_env(environ: Mapping[str, str]) -> ApiKeys:
    """FINBOT_API_KEYS (comma-separated) plus the digests in FINBOT_API_KEY_HASHES_FILE, if set."""
    keys = [key.strip() for key in environ.get(API_KEYS_ENV, "").split(",") if key.strip()]
    for n, key in enumerate(keys, start=1):
        if len(key) < MIN_KEY_CHARS:
            raise ConfigError(
                f"{API_KEYS_ENV}: key {n} is {len(key)} characters; use at least {MIN_KEY_CHARS} random "
                "characters, e.g. from `openssl rand -hex 24`."
            )
    digests = [_digest(key) for key in keys]
    hashes_file = environ.get(API_KEY_HASHES_ENV, "")
    if hashes_file:
        digests += _read_digests(Path(hashes_file))
    return ApiKeys(tuple(digests))


def _read_digests(path: Path) -> list[bytes]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"{API_KEY_HASHES_ENV}: cannot read {path}: {exc.strerror}. Fix the path or unset it."
        ) from None
    digests = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip().removeprefix("sha256:")
        if not text:
            continue
        try:
            digest = bytes.fromhex(text)
        except ValueError:
            digest = b""
        if len(digest) != 32:
            raise ConfigError(
                f"{path}:{number}: expected a sha256 hex digest (64 hex digits, from "
                "`printf %s KEY | sha256sum`)."
            )
        digests.append(digest)
    return digests


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, required: bool, keys: ApiKeys, insecure: bool) -> None:
    """Refuse to serve without keys when auth is on, and off loopback with auth off unless --insecure."""
    if required and not keys:
        raise ConfigError(
            f"auth.required is true but {API_KEYS_ENV} is empty. Export {API_KEYS_ENV}=<key>[,<key>...] "
            "(e.g. from `openssl rand -hex 24`), or set auth.required: false for local use on 127.0.0.1."
        )
    if not required and not is_loopback(host) and not insecure:
        raise ConfigError(
            f"auth.required is false: refusing to serve {host} without API keys. Set auth.required: true and "
            f"export {API_KEYS_ENV}, bind 127.0.0.1, or pass --insecure if something in front of finbot "
            "authenticates."
        )


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": CHALLENGE})


class Authenticator:
    """A FastAPI dependency: the caller's id (`key:<8 hex>`, or `addr:<client>` with auth off), else a 401."""

    def __init__(self, keys: ApiKeys, required: bool) -> None:
        self.keys = keys
        self.required = required

    async def __call__(
        self,
        request: Request,
        api_key: Annotated[str | None, Security(api_key_header)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> str:
        presented = api_key or (credentials.credentials if credentials else None)
        if not self.required:
            return self.identify(presented) or f"addr:{request.client.host if request.client else 'unknown'}"
        if not presented:
            raise unauthorized(KEY_REQUIRED)
        caller = self.identify(presented)
        if caller is None:
            raise unauthorized("The API key is not valid. Check it against FINBOT_API_KEYS on the server.")
        return caller

    def identify(self, presented: str | None) -> str | None:
        return self.keys.identify(presented) if presented else None

    def require(self, request: Request) -> str:
        """The caller of a route that checks its key itself (/metrics): a valid key is always needed."""
        presented = request.headers.get("x-api-key")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not presented and scheme.lower() == "bearer":
            presented = token.strip()
        caller = self.identify(presented)
        if caller is None:
            raise unauthorized(KEY_REQUIRED)
        return caller
