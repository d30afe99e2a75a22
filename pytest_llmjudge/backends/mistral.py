"""Mistral chat completions in JSON mode through the official SDK (the only mistralai import)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from ..dataset import Case
from ..judge import Judge
from ..secrets import redact
from ..settings import Settings
from ..verdict import Verdict, parse_verdict

API_KEY_ENV = "MISTRAL_API_KEY"
SERVER_URL_ENV = "MISTRAL_SERVER_URL"
MISSING_KEY = f"{API_KEY_ENV} is not set: set it in the environment to run Mistral judges"


def server_url(judge: Judge, settings: Settings) -> str | None:
    """The server of a Mistral judge: the judge's own, else MISTRAL_SERVER_URL, else the ini key."""
    return judge.server_url or os.environ.get(SERVER_URL_ENV) or settings.mistral_server_url


class MistralBackend:
    """Asks a Mistral (or Mistral-compatible) chat model for a JSON verdict."""

    def __init__(
        self, judge: Judge, settings: Settings, async_client: httpx.AsyncClient | None = None
    ) -> None:
        self._judge = judge
        self._settings = settings
        self._key = os.environ.get(API_KEY_ENV) or None
        self._async_client = async_client
        self._client: Any = None

    def unavailable(self) -> str | None:
        return None if self._key else MISSING_KEY

    def _sdk(self) -> Any:
        if self._client is None:
            from mistralai.client import Mistral

            self._client = Mistral(
                api_key=self._key,
                server_url=server_url(self._judge, self._settings),
                async_client=self._async_client,
                timeout_ms=int(self._settings.timeout_s * 1000),
            )
        return self._client

    async def judge(self, case: Case) -> Verdict:
        from mistralai.client.errors import MistralError

        judge = self._judge
        try:
            response = await self._sdk().chat.complete_async(
                model=judge.model,
                messages=judge.messages(case),
                response_format={"type": "json_object"},
                temperature=judge.temperature,
                max_tokens=judge.max_tokens,
            )
        except MistralError as exc:
            return Verdict.unscored(redact(f"HTTP {exc.status_code}: {_short(exc.body)}"))
        tokens = response.usage.total_tokens if response.usage else None
        if not response.choices:
            return Verdict.unscored("response has no choices", tokens=tokens)
        content = response.choices[0].message.content
        text = content if isinstance(content, str) else None
        return parse_verdict(text).model_copy(update={"tokens": tokens})

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client.__exit__(None, None, None)
        if self._async_client is not None:
            await self._async_client.aclose()


def _short(body: str, limit: int = 300) -> str:
    body = " ".join(body.split())
    return body if len(body) <= limit else body[:limit] + "..."
