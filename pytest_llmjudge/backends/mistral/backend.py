"""MistralBackend: a Mistral (or Mistral-compatible) chat model asked for a JSON verdict.

Two transports send the same request: `http` (client.MistralClient on aiohttp, the default,
~0.45 ms of CPU per call) and `sdk` (the official SDK's chat.complete_async, sdk.SDKChat,
~5-15 ms). Both raise the same CallErrors for the same failures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_llmjudge.backends.mistral.wire import (
    DEFAULT_SERVER_URL,
    LOGPROBS,
    RESPONSE_FORMAT,
    api_key,
    base_url,
    key_problem,
)
from pytest_llmjudge.calls.protocol import ModelResponse
from pytest_llmjudge.errors import CallError
from pytest_llmjudge.model.dataset import Case
from pytest_llmjudge.model.judge import Judge
from pytest_llmjudge.model.verdict import Verdict, parse_verdict
from pytest_llmjudge.settings import Settings

if TYPE_CHECKING:  # imported on the first call: the plugin imports this module at start-up
    from pytest_llmjudge.backends.mistral.client import MistralClient
    from pytest_llmjudge.backends.mistral.sdk import SDKChat

__all__ = ["DEFAULT_SERVER_URL", "MistralBackend"]


class MistralBackend:
    """Asks a Mistral (or Mistral-compatible) chat model for a JSON verdict (a ModelBackend)."""

    name = "mistral"

    def __init__(self, judge: Judge, settings: Settings) -> None:
        self._judge = judge
        self.notes: list[str] = []
        self._settings = settings
        self._key = api_key()
        self._chat: MistralClient | SDKChat | None = None
        self.transport = settings.scale.transport

    def unavailable(self) -> str | None:
        return key_problem(self._key)

    @property
    def judge_spec(self) -> Judge:
        """The judge this backend asks."""
        return self._judge

    @property
    def api_key(self) -> str | None:
        """The API key (from MISTRAL_API_KEY), for the batch client of the same server."""
        return self._key

    @property
    def server(self) -> str:
        """The server's base URL: the judge's, MISTRAL_SERVER_URL, the ini key or the API."""
        return base_url(self._judge, self._settings)

    def limit_key(self) -> str:
        """Requests to one server share its rate limit."""
        return f"mistral:{self.server}"

    def request_params(self, case: Case) -> dict[str, Any]:
        """The chat request's parameters for `case` (a generator subclass sends other ones)."""
        judge = self._judge
        params = {
            "model": judge.model,
            "messages": judge.messages(case),
            "response_format": RESPONSE_FORMAT,
            "temperature": judge.temperature,
            "max_tokens": judge.max_tokens,
        }
        if judge.options.get("logprobs"):  # a server that returns them (e.g. vLLM): opt-in
            params.update(LOGPROBS)
        return params

    def request_identity(self, case: Case) -> dict[str, Any]:
        """What determines the answer: server, model, messages, sampling (never the key)."""
        return {"backend": self.name, "server": self.server, **self.request_params(case)}

    def chat_body(self, case: Case) -> dict[str, Any]:
        """The JSON body of the chat completion request for `case`, as the SDK sends it."""
        judge = self._judge
        return {
            "model": judge.model,
            "messages": judge.messages(case),
            "temperature": judge.temperature,
            "max_tokens": judge.max_tokens,
            "stream": False,
            "response_format": RESPONSE_FORMAT,
            **(LOGPROBS if judge.options.get("logprobs") else {}),
        }

    def _transport(self) -> MistralClient | SDKChat:
        if self._chat is None:
            if self.transport == "sdk":
                from pytest_llmjudge.backends.mistral.sdk import SDKChat

                self._chat = SDKChat(self._key, self.server, self._settings.timeout_s)
            else:
                from pytest_llmjudge.backends.mistral.client import MistralClient

                self._chat = MistralClient(
                    self._key, self.server, self._settings.timeout_s, self._settings.concurrency
                )
        return self._chat

    async def call(self, case: Case) -> ModelResponse:
        """One chat completion; HTTP, timeout and connection errors are raised as CallError."""
        chat = self._transport()
        if self.transport == "sdk":  # its chat.complete takes no log-probability parameters
            params = self.request_params(case)
            return await chat.complete({k: v for k, v in params.items() if k not in LOGPROBS})
        return await chat.complete(self.chat_body(case))

    def parse(self, response: ModelResponse) -> Verdict:
        """The verdict in a chat completion's text (unscored when ambiguous)."""
        verdict = parse_verdict(response.text)
        update: dict[str, Any] = {"tokens": response.tokens}
        if verdict.scored and response.probability is not None:
            update["probability"] = response.probability
        return verdict.model_copy(update=update)

    async def judge(self, case: Case) -> Verdict:
        """One try, errors as unscored verdicts (the runner's reliable path uses call())."""
        try:
            return self.parse(await self.call(case))
        except CallError as exc:
            return Verdict.unscored(exc.message, raw=exc.raw)

    async def aclose(self) -> None:
        """Close the transport's sessions."""
        chat, self._chat = self._chat, None
        if chat is not None:
            await chat.aclose()
