"""--llmjudge-html / llmjudge_html: one self-contained HTML file per session."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

SCRIPT = "<script>document.title='pwned'</script>"
ANSWERS = {"c2": {"prediction": 1, "reason": "reads <b>fine</b> & plausible"}, "c3": "no json"}
SECOND_JUDGE = """
ALWAYS = Judge(name="always1", backend="function", function=lambda case: 1)


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=[ALWAYS])
def test_always(llmjudge_result):
    llmjudge_result.check()
"""


class Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in {"src", "href", "xlink:href", "action"}]


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    rows = project.make_rows([1, 0, 0, 1])
    rows[1]["hypothesis"] = f"{SCRIPT} The summary of two."
    rows[1]["premise"] = "Document <two> & more."
    project.cases(rows)
    path = project.scripted(answers=ANSWERS)
    path.write_text(path.read_text() + SECOND_JUDGE)
    return project


def test_html_report(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--llmjudge-html", "out/report.html")
    result.stdout.fnmatch_lines(["llmjudge: HTML report written to out?report.html"])
    html = (setup.path / "out" / "report.html").read_text()
    assert not (setup.path / "out" / "report.html.tmp").exists()
    refs = Refs()
    refs.feed(html)
    assert "script" not in refs.tags  # the summary's <script> is text, not an element
    assert html.count("&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;") == 2
    assert "Document &lt;two&gt; &amp; more." in html
    assert "reads &lt;b&gt;fine&lt;/b&gt; &amp; plausible" in html
    assert all(not re.match(r"(?i)\s*(https?:)?//", ref) for ref in refs.refs), refs.refs
    assert not re.search(r"(?i)https?://", html)
    # both judges, each with its mismatches: scripted c2 (wrong) and c3 (unscored); always1 c2, c3
    assert "Judge scripted on cases" in html and "Judge always1 on cases" in html
    assert html.count("Mismatched and unscored cases (2)") == 2
    assert "model output is not JSON" in html and "raw output: no json" in html
    assert html.count("<svg") == 1 and "<figcaption>" in html


def test_html_path_from_ini(setup, pytester: pytest.Pytester) -> None:
    setup.ini("llmjudge_html = reports/eval.html\n")
    pytester.runpytest()
    assert "Judge scripted on cases" in (setup.path / "reports" / "eval.html").read_text()


def test_no_html_without_the_option(setup, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest()
    assert "HTML report" not in result.stdout.str()
    assert not list(setup.path.rglob("*.html"))


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium is not installed (apt-get install chromium): the HTML report is not "
    "checked in a real browser",
)
def test_html_renders_in_headless_chromium(setup, pytester: pytest.Pytester, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytester.runpytest("--llmjudge-html", "report.html")
    page = setup.path / "report.html"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = done.stdout
    assert "<title>LLM judge evaluation</title>" in dom  # the <script> in a summary never ran
    assert "pwned" in dom and "<script>" not in dom
    assert dom.count("<rect") >= 8  # the chart's bars reached the DOM
