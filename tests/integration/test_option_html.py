"""--llmjudge-html / llmjudge_html: one self-contained HTML file per session."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fakes.generator_project import GENERATION_ERROR, generator_project

from pytest_llmjudge.scoring.stats import wilson_interval

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


def test_a_generator_only_session_writes_the_html(project, pytester: pytest.Pytester) -> None:  # type: ignore[no-untyped-def]
    generator_project(project, ', generators=[WRITER], thresholds=["hallucination_rate<=0.3"]')
    result = pytester.runpytest("--llmjudge-html", "gen.html")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # 0.4 > 0.3
    result.stdout.fnmatch_lines(["llmjudge: HTML report written to gen.html"])
    html = (project.path / "gen.html").read_text()
    refs = Refs()
    refs.feed(html)
    assert "script" not in refs.tags  # the answer's <script> is text
    assert not re.search(r"(?i)https?://", html)
    assert '<p class="muted">1 generator run, 5 answers judged.</p>' in html
    assert "0 runs" not in html and "Judge " not in html
    assert 'Generator writer at t0 on gen <span class="badge bad">failed</span>' in html
    assert "judge: <code>fn</code>" in html and "relevancy by: <code>lexical</code>" in html
    assert "sampling: <code>temperature 0.0, max_tokens 128</code> · 1 sample per case" in html
    # the metrics with their Wilson interval (2 of 5) and the gate's outcome
    low, high = wilson_interval(2, 5)
    assert f'<td class="num">0.400 [{low:.2f}, {high:.2f}]</td>' in html  # the overview
    assert (
        f'<tr><td>hallucination rate</td><td class="num">0.400</td>'
        f'<td class="num">[{low:.3f}, {high:.3f}]</td>'
        '<td>&lt;= 0.3: <span class="bad">FAILED</span></td></tr>'
    ) in html
    assert '<tr><td>faithfulness</td><td class="num">0.600</td>' in html
    assert "1 unscored answer counted as hallucinations." in html
    # the flagged answers: g2 (inconsistent) and g3 (unscored), escaped, with question and context
    assert "Answers judged hallucinated and unscored (2)" in html
    assert (
        "&lt;script&gt;alert(&#x27;gen&#x27;)&lt;/script&gt; It was built by Martians &amp; co."
        in html
    )
    assert "Martians &lt;b&gt;are&lt;/b&gt; not in the context" in html
    assert "When was tower number 2 built?" in html
    assert "The tower number 2 was built in 1902 by the town of Orlen." in html
    assert '<td>g3#1</td><td><span class="bad">unscored</span></td>' in html
    assert GENERATION_ERROR in html
    assert "g1#1" not in html  # consistent answers are not listed
    assert html.count("<svg") == 1  # the generators' chart


def test_html_of_judges_and_generators_with_a_comparison(  # type: ignore[no-untyped-def]
    setup, pytester: pytest.Pytester
) -> None:
    generator_project(setup, ', generators=[WRITER, TUNED], compare=("writer", "tuned")')
    pytester.runpytest("--llmjudge-html", "report.html")
    html = (setup.path / "report.html").read_text()
    assert "2 runs, 8 cases judged; 2 generator runs, 10 answers judged." in html
    assert "Judge scripted on cases" in html and "Generator tuned at t0 on gen" in html
    assert "Against baseline generator writer" in html
    assert "hallucination rate: baseline 0.400, this generator 0.000" in html
    assert "No answer was judged hallucinated or left unscored." in html  # tuned's section
    assert html.count("<svg") == 2  # one chart of the judges, one of the generators


def test_html_lists_skipped_generator_runs(project, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    generator_project(project, judge="MISTRAL")
    result = pytester.runpytest("--llmjudge-html", "skipped.html")
    result.assert_outcomes(skipped=5)
    html = (project.path / "skipped.html").read_text()
    assert "Skipped generator runs" in html
    assert "generator <b>writer</b> at t0 on gen: judge m: MISTRAL_API_KEY is not set" in html
    assert "1 run skipped." in html


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
