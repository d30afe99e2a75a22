"""A bad dataset stops collection with one `file:line: problem` message and no traceback."""

from __future__ import annotations

import json

import pytest

GOOD = json.dumps({"id": "ok", "premise": "p", "hypothesis": "h", "target": 1})


@pytest.mark.parametrize(
    ("lines", "where", "problem"),
    [
        ([GOOD, '{"premise": "p", "hypothesis": "h", "target": 1'], 2, "invalid JSON"),
        ([GOOD, '{"premise": "p", "target": 1}'], 2, "missing field 'hypothesis'"),
        (
            [GOOD, '{"premise": "p", "hypothesis": "h", "target": 2}'],
            2,
            "field 'target': target must be 0 or 1, got 2",
        ),
        (
            ['{"premise": "p", "hypothesis": "h", "target": "1"}'],
            1,
            "field 'target': target must be 0 or 1, got '1'",
        ),
        ([GOOD, "", GOOD], 3, "duplicate id 'ok' (first on line 1)"),
    ],
)
def test_bad_row(
    project, pytester: pytest.Pytester, lines: list[str], where: int, problem: str
) -> None:
    path = project.cases(lines)
    project.scripted()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str()
    expected = f"llmjudge dataset error: {path}:{where}: {problem}"
    assert output.count(expected) == 1, output
    assert "Traceback" not in output
    assert "pydantic" not in output
    result.stdout.fnmatch_lines(["*ERROR collecting test_eval.py*", "*1 error*"])
    assert project.calls() == []  # no judge was asked anything


@pytest.mark.parametrize(
    ("content", "problem"), [(None, "file not found"), ("\n\n", "file is empty: no cases")]
)
def test_missing_or_empty_file(
    project, pytester: pytest.Pytester, content: str | None, problem: str
) -> None:
    if content is not None:
        (project.path / "cases.jsonl").write_text(content)
    project.scripted()
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = result.stdout.str()
    assert output.count(f"llmjudge dataset error: {project.path / 'cases.jsonl'}: {problem}") == 1
    assert "Traceback" not in output


def test_mapped_field_is_named_in_the_message(project, pytester: pytest.Pytester) -> None:
    path = project.cases([json.dumps({"document": "d", "label": 1})], name="mapped")
    pytester.makepyfile(
        test_mapped="""
        import pytest
        from pytest_llmjudge import Dataset, FieldMap, Judge

        DS = Dataset(path="mapped.jsonl",
                     fields=FieldMap(premise="document", hypothesis="summary", target="label"))

        @pytest.mark.llmjudge(dataset=DS, judges=[Judge(name="j", backend="function",
                                                       function=lambda c: 1)])
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*llmjudge dataset error: {path}:1: missing field 'summary'"])


def test_field_mapping_through_the_marker(project, pytester: pytest.Pytester) -> None:
    project.cases(
        [
            json.dumps({"key": "x1", "document": "d1", "summary": "s1", "label": 1}),
            json.dumps({"key": "x2", "document": "d2", "summary": "s2", "label": 0}),
        ],
        name="mapped",
    )
    pytester.makepyfile(
        test_mapped="""
        import pytest
        from pytest_llmjudge import Dataset, FieldMap, Judge

        DS = Dataset(path="mapped.jsonl", fields=FieldMap(
            premise="document", hypothesis="summary", target="label", id="key"))

        def judge(case):
            assert case.premise.startswith("d") and case.hypothesis.startswith("s")
            return case.target

        @pytest.mark.llmjudge(dataset=DS, judges=[Judge(name="j", backend="function",
                                                       function=judge)])
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(["*test_eval[[]j-x1] PASSED*", "*test_eval[[]j-x2] PASSED*"])
    result.assert_outcomes(passed=2)


def test_optional_missing_dataset_is_skipped(project, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_optional="""
        import pytest
        from pytest_llmjudge import Dataset, Judge

        @pytest.mark.llmjudge(dataset=Dataset(path="absent.jsonl", optional=True),
                              judges=[Judge(name="j", backend="function", function=lambda c: 1)])
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["SKIPPED*optional dataset*absent.jsonl not found"])


def test_a_skipped_evaluation_is_named_in_the_summary_without_rs(
    project, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_optional="""
        import pytest
        from pytest_llmjudge import Dataset, GenDataset, Judge

        JUDGE = Judge(name="j", backend="function", function=lambda c: 1)

        @pytest.mark.llmjudge(dataset=Dataset(path="absent.jsonl", optional=True), judges=[JUDGE])
        def test_eval(llmjudge_result):
            llmjudge_result.check()

        @pytest.mark.llmjudge_generator(
            dataset=GenDataset(path="gone.jsonl", optional=True), generators=["g"], judge=JUDGE
        )
        def test_gen(llmjudge_answer):
            llmjudge_answer.check()
        """
    )
    result = pytester.runpytest("--llmjudge-report=report.json")
    result.assert_outcomes(skipped=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*llmjudge summary*",
            "skipped: judge j on absent: optional dataset *absent.jsonl not found",
            "skipped: generator g at * on gone: optional dataset *gone.jsonl not found",
        ]
    )
    report = project.report()
    assert [s["judge"] for s in report["skipped"]] == ["j"]
    assert "absent.jsonl not found" in report["skipped"][0]["reason"]
    assert [s["generator"] for s in report["generator_skipped"]] == ["g"]


def test_limit_and_sample_select_items(project, pytester: pytest.Pytester) -> None:
    project.cases(project.make_rows([1] * 15 + [0] * 5))
    pytester.makepyfile(
        test_select="""
        import pytest
        from pytest_llmjudge import Dataset, Judge

        J = Judge(name="j", backend="function", function=lambda c: c.target)

        @pytest.mark.llmjudge(dataset=Dataset(path="cases.jsonl", limit=3), judges=[J])
        def test_limit(llmjudge_result):
            llmjudge_result.check()

        @pytest.mark.llmjudge(dataset=Dataset(path="cases.jsonl", sample=8, seed=2), judges=[J])
        def test_sample(llmjudge_result):
            assert llmjudge_result.case.target in (0, 1)
        """
    )
    collected = pytester.runpytest("--collect-only", "-q")
    lines = [line for line in collected.outlines if "::" in line]
    assert lines[:3] == [f"test_select.py::test_limit[j-c{i}]" for i in (1, 2, 3)]
    sample = [line for line in lines if "test_sample" in line]
    assert len(sample) == 8
    again = pytester.runpytest("--collect-only", "-q")
    assert [line for line in again.outlines if "test_sample" in line] == sample
    ids = [int(line.split("-c")[1].rstrip("]")) for line in sample]
    assert sum(i > 15 for i in ids) == 2  # 25% negatives kept
