"""The API key never shows: not in the terminal, the report, the cache, logs or error messages,
even when the server echoes it back in an answer or an error body."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from pytest_llmjudge.calls.cache import FILE_NAME
from pytest_llmjudge.testing import ChatServer, completion

KEY = "sk-secret-echo-5a4b3c2d1e0f9"
MODULE = """
import pytest
from pytest_llmjudge import Judge


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[Judge(name="m", model="stub-model")])
def test_eval(llmjudge_result):
    llmjudge_result.check()
"""


class EchoServer(ChatServer):
    """Echoes the bearer token: in the model's answer ("ok"), or in a 503 or 401 error body."""

    mode = "ok"

    async def _answer(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = headers.get("authorization", "")[len("Bearer ") :]
        if self.mode == "ok":
            content = json.dumps({"consistency": 0, "reason": f"I was called with {token}"})
            return 200, completion("stub-model", content, []), {}
        status = 503 if self.mode == "503" else 401
        return status, {"message": f"rejected key {token}"}, {}


def test_the_key_never_appears(project: Any, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1]))
    pytester.makepyfile(test_eval=MODULE)
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    logs = ["--log-file", "log.txt", "--log-file-level", "DEBUG", "--log-level", "DEBUG"]
    texts: list[str] = []
    with EchoServer() as server:
        monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
        for mode, extra in [
            ("ok", []),
            ("503", ["--llmjudge-cache", "refresh", "--llmjudge-retries", "2"]),
            ("401", ["--llmjudge-cache", "refresh", "--llmjudge-concurrency", "1"]),
        ]:
            server.mode = mode
            result = pytester.runpytest("-rA", "--llmjudge-report", "r.json", *logs, *extra)
            report = (pytester.path / "r.json").read_text()
            texts += [result.stdout.str(), result.stderr.str(), report]
            texts.append((pytester.path / "log.txt").read_text())
            assert "***" in report  # the server did echo the key, and it was masked
            if mode == "ok":
                assert (
                    json.loads(report)["runs"][0]["cases"][0]["reason"] == "I was called with ***"
                )  # noqa: E501
        assert server.count == 3 + 6 + 1  # 3 answers, 3 x 2 tries of 503, one 401 stops the judge

    stdout_401, log_401 = texts[-4], texts[-1]
    assert 'HTTP 401: {"message": "rejected key ***"}: a permanent error' in stdout_401
    assert 'judge m: HTTP 401: {"message": "rejected key ***"}; no further requests' in log_401
    folder = pytester.path / ".llmjudge" / "cache"
    blobs = [path.read_bytes() for path in folder.iterdir() if path.name.startswith(FILE_NAME)]
    with sqlite3.connect(folder / FILE_NAME) as db:
        stored = [row[0] for row in db.execute("SELECT text FROM responses")]
    assert len(stored) == 3 and all("***" in text for text in stored)
    for text in texts:
        assert KEY not in text
    for blob in blobs:
        assert KEY.encode() not in blob
