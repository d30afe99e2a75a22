"""The Mistral wire protocol of every transport: headers, key, server, answers as CallErrors.

No HTTP library here: the aiohttp client (client.py), the SDK transport (sdk.py) and the batch
mode (batch.py) all read an answer through `read_completion` / `http_error` / `transport_error`,
so that their error mapping cannot drift.
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from typing import Any

from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.calls.retry import parse_retry_after
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import LABEL_AT
from pytest_llmjudge.secrets import clip_line
from pytest_llmjudge.settings import Settings

API_KEY_ENV = "MISTRAL_API_KEY"
SERVER_URL_ENV = "MISTRAL_SERVER_URL"
MISSING_KEY = f"{API_KEY_ENV} is not set: set it in the environment to run Mistral judges"
BAD_KEY = f"{API_KEY_ENV} has whitespace or control characters inside it: set it to the key alone"
DEFAULT_SERVER_URL = "https://api.mistral.ai"
CHAT_PATH = "/v1/chat/completions"
RESPONSE_FORMAT = {"type": "json_object"}
LOGPROBS = {"logprobs": True, "top_logprobs": 5}  # asked of servers that return them
INVALID = "Response validation failed"
# the fields the SDK's ChatCompletionResponse requires, with their JSON types
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "object": str,
    "model": str,
    "usage": dict,
    "created": int,
    "choices": list,
}


def api_key() -> str | None:
    """The API key: MISTRAL_API_KEY, surrounding whitespace (a pasted newline) stripped."""
    return (os.environ.get(API_KEY_ENV) or "").strip() or None


def key_problem(key: str | None) -> str | None:
    """Why `key` cannot be sent (missing, or whitespace or control characters inside it, which
    no HTTP header may carry), or None."""
    if not key:
        return MISSING_KEY
    if any(c.isspace() or not c.isprintable() for c in key):
        return BAD_KEY
    return None


def server_url(judge: Judge, settings: Settings) -> str | None:
    """The server of a Mistral judge: the judge's own, else MISTRAL_SERVER_URL, else the ini key."""
    return judge.server_url or os.environ.get(SERVER_URL_ENV) or settings.mistral_server_url


def base_url(judge: Judge, settings: Settings) -> str:
    """The server of a Mistral judge, the public API when none is configured."""
    return server_url(judge, settings) or DEFAULT_SERVER_URL


@lru_cache(maxsize=1)
def user_agent() -> str:
    """The user-agent the installed SDK sends (`mistral-client-python/<version>`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mistral-client-python/{version('mistralai')}"
    except PackageNotFoundError:  # pragma: no cover - mistralai is a dependency
        return "mistral-client-python"


def request_headers(key: str | None, json_body: bool = True) -> dict[str, str]:
    """The headers the SDK sends (no Authorization without a key; no content-type for a
    multipart body, whose boundary the HTTP library writes)."""
    headers = {"accept": "application/json", "user-agent": user_agent()}
    if json_body:
        headers["content-type"] = "application/json"
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def transport_error(
    exc: BaseException, timed_out: bool, timeout_s: float | None = None
) -> CallError:
    """The CallError of a request that got no HTTP answer (a timeout, a refused connection).

    A deadline that passed without a word (`exc` has no message) reads like the call runner's
    own: "request timed out after 60s"."""
    if timed_out and not str(exc) and timeout_s is not None:
        return CallError(f"request timed out after {timeout_s:g}s")
    what = "timed out" if timed_out else "failed"
    return CallError(f"request {what}: {type(exc).__name__}: {exc}")  # masked by CallError


def status_error(status: int, content: bytes, headers: Any) -> CallError:
    """The CallError of an HTTP error status (4XX/5XX), with Retry-After when the server sent it."""
    text = content.decode("utf-8", errors="replace")
    return CallError(
        http_error(status, text, headers),
        status=status,
        retry_after=parse_retry_after(header(headers, "retry-after")),
    )


def read_completion(status: int, headers: Any, content: bytes) -> ModelResponse:
    """A chat completion's text and tokens, or the CallError the SDK transport raises for it.

    `headers` is any case-insensitive mapping with .get()."""
    text = content.decode("utf-8", errors="replace")
    is_json = "json" in (headers.get("content-type") or "").lower()
    if status != 200 or not is_json:  # the SDK: 4XX/5XX "API error", else "Unexpected response"
        raise status_error(status, content, headers)
    try:
        data = json.loads(text)
        problem = _invalid(data)
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    if problem is not None:  # a 2xx whose body is not a chat completion
        raise CallError(
            f"invalid response (HTTP {status}): {INVALID}: {problem}",
            status=status,
            permanent=True,
            raw=short(text),
        )
    usage = data["usage"]
    counts = [usage.get(k) for k in ("total_tokens", "prompt_tokens", "completion_tokens")]
    tokens, prompt, completion = (c if isinstance(c, int) else None for c in counts)
    if not data["choices"]:
        raise CallError("response has no choices", status=200, permanent=True)
    choice = data["choices"][0]
    text = message_text(choice["message"].get("content"))
    return ModelResponse(text, tokens, prompt, completion, label_probability(choice))


def label_probability(choice: Any) -> float | None:
    """P("1") from a choice's log-probabilities (the OpenAI-style `logprobs.content` a server
    such as vLLM returns when asked): at the token that gives the label after `"consistency":`,
    the two labels' probabilities among its top alternatives, normalised; when only the chosen
    label is among them, its own probability. None when the choice has no log-probabilities."""
    content = (choice.get("logprobs") or {}).get("content") if isinstance(choice, dict) else None
    if not isinstance(content, list):
        return None
    seen = ""
    for entry in content:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None
        token = entry["token"]
        if token.strip() in ("0", "1") and LABEL_AT.search(seen):
            found: dict[str, float] = {}
            for alt in [entry, *(entry.get("top_logprobs") or [])]:
                label, value = str(alt.get("token", "")).strip(), alt.get("logprob")
                if label in ("0", "1") and isinstance(value, int | float):
                    found[label] = max(found.get(label, -math.inf), float(value))
            if "0" in found and "1" in found:
                return 1.0 / (1.0 + math.exp(found["0"] - found["1"]))
            chosen = math.exp(found.get(token.strip(), 0.0))
            return chosen if token.strip() == "1" else 1.0 - chosen
        seen += token
    return None


def _invalid(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    for name, kind in _REQUIRED.items():
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            return f"field {name!r} missing or not a {getattr(kind, '__name__', kind)}"
    for choice in data["choices"]:
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            return "a choice without a message"
    return None


def message_text(content: Any) -> str | None:
    """The text of a message's content: a string, or the text chunks of a chunk list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            chunk.get("text") if isinstance(chunk, dict) else getattr(chunk, "text", None)
            for chunk in content
        ]
        texts = [part for part in parts if isinstance(part, str)]
        return "".join(texts) if texts else None
    return None


def http_error(status: int, body: str, headers: Any) -> str:
    """The cause of an HTTP error status, with Retry-After when the server sent one."""
    retry_after = header(headers, "retry-after")
    after = f" (retry after {retry_after}s)" if retry_after else ""
    return f"HTTP {status}{after}: {short(body) or '(empty body)'}"


def short(body: str, limit: int = 300) -> str:
    """`body` on one line, secrets masked, then cut to `limit` characters (a key the body
    echoes across the cut is masked whole)."""
    return clip_line(body, limit)


def header(headers: Any, name: str) -> str | None:
    """A header's value from any mapping with .get() (None when absent)."""
    value = headers.get(name) if headers is not None else None
    return str(value) if value is not None else None
