"""The HTML report, the GitHub job summary and the JUnit properties, rendered from report dicts."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from pytest_llmjudge.outputs.github import (
    append_step_summary,
    cell,
    step_summary_path,
    summary_lines,
)
from pytest_llmjudge.outputs.html import render_html
from pytest_llmjudge.outputs.junit import case_properties, run_properties

HOSTILE = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"


def metrics(**extra: Any) -> dict[str, Any]:
    base = {
        "n": 4,
        "scored": 3,
        "unscored": 1,
        "coverage": 0.75,
        "counted": 4,
        "tp": 1,
        "fp": 1,
        "tn": 1,
        "fn": 1,
        "accuracy": 0.5,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "accuracy_ci": [0.15, 0.85],
        "f1_ci": [0.0, 1.0],
        "positive": 1,
        "unscored_policy": "wrong",
    }
    return {**base, **extra}


def run(judge: str = "j1", dataset: str = "news", **extra: Any) -> dict[str, Any]:
    base = {
        "test": "test_eval.py::test_eval",
        "judge": judge,
        "dataset": dataset,
        "model": "m",
        "backend": "function",
        "kind": "prompted",
        "dataset_path": "/x/news.jsonl",
        "metrics": metrics(),
        "thresholds": [
            {"metric": "accuracy", "op": ">=", "value": 0.6, "actual": 0.5, "passed": False}
        ],
        "passed": False,
        "cases": [
            {"id": "c1", "target": 1, "prediction": 1, "correct": True, "reason": "fine"},
            {
                "id": "c2",
                "target": 0,
                "prediction": 1,
                "correct": False,
                "reason": HOSTILE,
                "premise": "Doc <b>two</b>",
                "hypothesis": HOSTILE,
            },
            {
                "id": "c3",
                "target": 1,
                "prediction": None,
                "correct": False,
                "reason": "",
                "error": "model output is not JSON",
                "raw": "<maybe>",
            },
        ],
    }
    return {**base, **extra}


def report(*runs: dict[str, Any], skipped: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"passed": all(r["passed"] for r in runs), "runs": list(runs), "skipped": skipped or []}


class Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_html_escapes_everything_from_data_and_models() -> None:
    html = render_html(report(run()))
    tags = parse(html)
    assert not [t for t, _ in tags.tags if t in {"script", "img", "iframe", "object"}]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Doc &lt;b&gt;two&lt;/b&gt;" in html
    assert "&lt;maybe&gt;" in html  # an unscored case's raw output
    assert not any(k.startswith("on") for _, attrs in tags.tags for k in attrs)


def test_html_is_self_contained() -> None:
    html = render_html(report(run(), run("j2")))
    for _, attrs in parse(html).tags:
        for key in ("src", "href", "xlink:href", "action"):
            value = attrs.get(key) or ""
            assert not re.match(r"(?i)\s*(https?:)?//", value), (key, value)
    assert "@import" not in html and "url(" not in html
    assert html.count("<style>") == 1 and "<svg" in html


def test_html_lists_mismatches_confusion_and_chart_bars() -> None:
    html = render_html(report(run("j1"), run("j2", metrics=metrics(tp=3, fn=0))))
    assert html.count("<rect") - 2 == 2 * 4  # 4 metrics x 2 runs, plus 2 legend swatches
    assert "Mismatched and unscored cases (2)" in html
    assert ">c2<" in html and ">c3<" in html and ">c1<" not in html
    assert re.search(r'class="hit">3<br><small>TP', html)
    assert "1 unscored case counted as wrong answers." in html
    assert "accuracy [95% CI]" in html and "0.500 [0.15, 0.85]" in html


def test_html_shows_a_baseline_comparison_and_skips() -> None:
    compared = run(
        comparison={"baseline": "main", "verdict": "worse", "why": "3 broken", "passed": False}
    )
    html = render_html(
        report(compared, skipped=[{"judge": "m", "dataset": "d", "reason": "no <key>"}])
    )
    assert "Against baseline main" in html and "worse" in html and "3 broken" in html
    assert "Skipped runs" in html and "no &lt;key&gt;" in html


def test_github_summary_table() -> None:
    lines = list(summary_lines(report(run("j1"), run("j|2"))))
    assert lines[0] == "## LLM judge evaluation: ❌ failed"
    assert lines[2].startswith("| judge | dataset | n | unscored | accuracy [95% CI] |")
    rows = lines[4:6]
    assert lines[6] == ""
    assert rows[0].startswith(
        "| j1 | news | 4 | 1 | 0.500 [0.15, 0.85] | 0.500 | 0.500 | 0.500 [0.00, 1.00] |"
    )
    assert "❌ accuracy >= 0.6 (0.500)" in rows[0]
    assert rows[1].startswith("| j\\|2 |")  # a pipe cannot break the table
    text = "\n".join(lines)
    assert "<script>" not in text and "&lt;script>" in text
    assert "<details><summary>4 mismatched or unscored case(s)</summary>" in text


def test_github_summary_comparison_is_optional() -> None:
    plain = "\n".join(summary_lines(report(run())))
    assert "vs " not in plain
    compared = run(
        passed=True,
        thresholds=[],
        comparison={"baseline": "main", "verdict": "better", "why": "5 fixed"},
    )
    text = "\n".join(summary_lines(report(compared)))
    assert "✅ vs main: better" in text
    assert "vs baseline `main`: 5 fixed" in text
    assert text.startswith("## LLM judge evaluation: ✅ passed")


def test_github_summary_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert step_summary_path({}) is None
    path = step_summary_path({"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert path == tmp_path / "s.md"
    path.write_text("earlier step\n")
    assert append_step_summary(path, report(run())) is True
    assert append_step_summary(path, report()) is False
    text = path.read_text()
    assert text.startswith("earlier step\n## LLM judge evaluation")
    assert cell("a\nb | c") == "a b \\| c"


def test_junit_properties() -> None:
    props = dict(case_properties("j", "d", "c3", 1, None, "", "not JSON"))
    assert props["llmjudge.prediction"] == "unscored"
    assert props["llmjudge.correct"] == "false"
    assert props["llmjudge.error"] == "not JSON"
    suite = dict(run_properties(report(run("j1"), run("j2"))))
    assert suite["llmjudge.j1.news.accuracy"] == "0.5"
    assert suite["llmjudge.j1.news.accuracy_ci"] == "0.15,0.85"
    assert suite["llmjudge.j2.news.gate.accuracy>=0.6"] == "failed"
    assert suite["llmjudge.passed"] == "false"
    twice = dict(run_properties(report(run("j1"), run("j1", test="t2"))))
    assert "llmjudge.t2.j1.news.n" in twice  # two runs of one judge on one dataset


def generator_run(generator: str = "writer", **extra: Any) -> dict[str, Any]:
    base = {
        "test": "test_gen.py::test_gen",
        "generator": generator,
        "point": "t0.5",
        "dataset": "gen",
        "sampling": {
            "temperature": 0.5,
            "top_p": None,
            "top_k": None,
            "max_tokens": 64,
            "samples": 2,
        },
        "judge": "fn",
        "relevancy_by": None,
        "metrics": {
            "n": 4,
            "cases": 2,
            "samples": 2,
            "scored": 4,
            "unscored": 0,
            "coverage": 1.0,
            "hallucinated": 1,
            "hallucination_rate": 0.25,
            "hallucination_rate_ci": [0.05, 0.7],
            "faithfulness": 0.75,
            "faithfulness_ci": [0.3, 0.95],
            "relevancy": 0.0,
            "relevancy_n": 0,
            "answer_words": 6.0,
            "answer_tokens": None,
            "unscored_policy": "wrong",
        },
        "thresholds": [],
        "passed": True,
        "answers": [
            {"id": "c1#1", "case": "c1", "prompt": "Q?", "answer": "fine", "consistent": 1},
            {
                "id": "c1#2",
                "case": "c1",
                "prompt": HOSTILE,
                "answer": HOSTILE,
                "consistent": 0,
                "reason": HOSTILE,
                "context": "x" * 5000,
            },
        ],
    }
    return {**base, **extra}


def test_html_of_a_generator_run_escapes_clips_and_leaves_out_unrated_relevancy() -> None:
    html = render_html({"passed": True, "generator_runs": [generator_run()]})
    tags = parse(html)
    assert not [t for t, _ in tags.tags if t in {"script", "img", "iframe", "object"}]
    assert html.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 3
    assert "x" * 599 + "…" in html and "x" * 601 not in html  # an excerpt of the context
    assert "<td>relevancy</td>" not in html  # never rated: no 0.000 that reads as a score
    assert "4 (2 cases x 2)" in html
    assert '<td class="num">0.250 [0.05, 0.70]</td>' in html
    assert "1 generator run, 2 answers judged." in html


def test_junit_generator_properties_never_collide_with_a_judge_run() -> None:
    # a judge named "generator" on a dataset labelled like a generator run's tail
    judge = run("generator", "writer.t0.5.gen")
    suite = list(
        run_properties({"passed": True, "runs": [judge], "generator_runs": [generator_run()]})
    )
    names = [name for name, _ in suite]
    assert len(names) == len(set(names))
    values = dict(suite)
    assert values["llmjudge.generator.writer.t0.5.gen.n"] == "4"  # the judge run's
    assert values["llmjudge_generator.writer.t0.5.gen.n"] == "4"  # the generator run's
    assert values["llmjudge_generator.writer.t0.5.gen.hallucination_rate_ci"] == "0.05,0.7"
    assert "llmjudge_generator.writer.t0.5.gen.relevancy" not in values  # not rated
    assert values["llmjudge_generator.writer.t0.5.gen.answer_tokens"] == "n/a"  # none counted
    twice = dict(run_properties({"generator_runs": [generator_run(), generator_run(test="t2")]}))
    assert "llmjudge_generator.t2.writer.t0.5.gen.n" in twice


def test_github_summary_of_generator_runs() -> None:
    text = "\n".join(summary_lines({"passed": True, "generator_runs": [generator_run("w|2")]}))
    assert "| w\\|2 | t0.5 | gen | 4 (2x2) | 0 | 0.250 [0.05, 0.70] | 0.750 | - | - |" in text
    assert "<script>" not in text and "&lt;script>" in text
    assert "1 answer(s) judged hallucinated or unscored" in text
