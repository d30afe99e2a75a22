"""GITHUB_STEP_SUMMARY: a Markdown table of the runs is appended to the job summary."""

from __future__ import annotations

import pytest
from fakes.generator_project import generator_project

from pytest_llmjudge.scoring.stats import wilson_interval

ANSWERS = {"c2": {"prediction": 1, "reason": "fine | <b>ok</b>"}, "c3": "not json"}


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 0, 1]))
    project.scripted(answers=ANSWERS, extra=', thresholds=["accuracy>=0.4", "f1>=0.9"]')
    return project


def test_summary_is_appended(setup, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    summary = setup.path / "step-summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = summary.read_text()
    assert text.startswith("# earlier step\n## LLM judge evaluation: ❌ failed\n")
    lines = text.splitlines()
    header = lines.index(
        "| judge | dataset | n | unscored | accuracy [95% CI] | precision | recall | F1 | gates |"
    )
    row = lines[header + 2]
    assert row.startswith("| scripted | cases | 4 | 1 | 0.500 [")
    assert "✅ accuracy >= 0.4 (0.500)" in row and "❌ f1 >= 0.9" in row
    assert "| c2 | 0 | 1 | fine \\| &lt;b>ok&lt;/b> |" in text  # escaped, the table intact
    assert "| c3 | 0 | unscored | model output is not JSON |" in text
    # a second session appends, never overwrites
    pytester.runpytest()
    assert summary.read_text().count("## LLM judge evaluation") == 2


def test_nothing_without_the_variable(setup, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.runpytest()
    assert not list(setup.path.glob("*.md"))


def test_nothing_without_runs(project, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    summary = project.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    assert pytester.runpytest().ret == 0
    assert not summary.exists()


def test_unwritable_summary_warns(project, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0]))
    project.scripted()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project.path / "missing-dir" / "s.md"))
    result = pytester.runpytest()
    assert result.ret == 0  # the evaluation's outcome is not changed by the summary
    result.stdout.fnmatch_lines(["WARNING: llmjudge: could not append to the job summary *"])


GENERATOR_HEADER = (
    "| generator | sampling | dataset | n | unscored | hallucination rate [95% CI] "
    "| faithfulness | relevancy | gates |"
)


def test_a_generator_only_session_gets_a_generator_table(
    project, pytester: pytest.Pytester, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    summary = project.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    generator_project(
        project,
        ', generators=[WRITER, TUNED], thresholds=["hallucination_rate<=0.3"], '
        'compare=("writer", "tuned")',
    )
    assert pytester.runpytest().ret == pytest.ExitCode.TESTS_FAILED
    text = summary.read_text()
    assert text.startswith("## LLM judge evaluation: ❌ failed\n")
    lines = text.splitlines()
    assert "| judge | dataset |" not in text  # no judge table without judge runs
    header = lines.index(GENERATOR_HEADER)
    assert lines[header + 1] == "|---|---|---|--:|--:|--:|--:|--:|---|"
    writer, tuned = lines[header + 2], lines[header + 3]
    low, high = wilson_interval(2, 5)
    assert writer.startswith(
        f"| writer | t0 | gen | 5 | 1 | 0.400 [{low:.2f}, {high:.2f}] | 0.600 |"
    )
    assert writer.endswith("| ❌ hallucination_rate &lt;= 0.3 (0.400) |")  # "<" escaped
    assert tuned.startswith("| tuned | t0 | gen | 5 | 0 | 0.000 [")
    assert (
        "✅ hallucination_rate &lt;= 0.3 (0.000)<br>✅ vs writer: no significant difference"
        in tuned
    )
    assert "- generator **tuned at t0 on gen** vs baseline `writer`: " in text
    assert "<details><summary>2 answer(s) judged hallucinated or unscored</summary>" in text
    # the answer's <script> cannot become HTML in the summary; the judge's reason is kept
    assert (
        "| writer at t0 on gen | g2#1 | 0 | &lt;script>alert('gen')&lt;/script> It was built "
        "by Martians & co. | Martians &lt;b>are&lt;/b> not in the context |"
    ) in text
    assert "| writer at t0 on gen | g3#1 | unscored |  | no answer to judge: RuntimeError" in text


def test_skipped_generator_runs_are_listed(project, pytester: pytest.Pytester, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    summary = project.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    generator_project(project, judge="MISTRAL")
    assert pytester.runpytest().ret == pytest.ExitCode.OK
    text = summary.read_text()
    assert "- skipped: generator writer at t0 on gen: judge m: MISTRAL_API_KEY is not set" in text
    assert GENERATOR_HEADER not in text
