"""Declaring an evaluation wrongly is an error that names the mistake (and what is known)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def setup(project):  # type: ignore[no-untyped-def]
    project.cases(project.make_rows([1, 0, 1, 0]))
    return project


@pytest.mark.parametrize("where", ["cli", "ini", "cli -n 2"])
def test_a_session_threshold_naming_no_judge_is_an_error(
    setup, pytester: pytest.Pytester, where: str
) -> None:
    setup.scripted()
    args: list[str] = []
    if where == "ini":
        setup.ini("llmjudge_thresholds = scriptd:accuracy>=0.9\n")
    else:
        args = ["--llmjudge-threshold", "scriptd:accuracy>=0.9"]
    if where.endswith("-n 2"):
        args += ["-n", "2", "-p", "xdist"]
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    output = result.stdout.str() + result.stderr.str()
    assert (
        "threshold scriptd:accuracy>=0.9 names no judge or generator of the run: unknown name "
        "'scriptd'; did you mean 'scripted'? (known: scripted)"
    ) in output
    if where == "ini":
        assert "ini llmjudge_thresholds" in output


def test_a_marker_threshold_naming_no_judge_of_its_marker_is_an_error(
    setup, pytester: pytest.Pytester
) -> None:
    setup.scripted(name="test_a")
    setup.scripted(name="test_b", extra=', thresholds=["scriptd:accuracy>=0.5"]')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error of test_b
    result.stdout.fnmatch_lines(
        ["*test_b.py::test_eval: thresholds=: threshold scriptd:accuracy>=0.5 names no judge*"]
    )


def test_threshold_naming_the_judge_is_accepted(setup, pytester: pytest.Pytester) -> None:
    setup.scripted()
    result = pytester.runpytest("--llmjudge-threshold", "scripted:accuracy>=0.9")
    result.assert_outcomes(passed=4)


def test_regate_refuses_a_threshold_naming_no_judge(setup, pytester: pytest.Pytester) -> None:
    from pytest_llmjudge.outputs.regate import main

    setup.scripted()
    pytester.runpytest("--llmjudge-report=report.json").assert_outcomes(passed=4)
    report = str(setup.path / "report.json")
    with pytest.raises(SystemExit) as exit_info:
        main([report, "--threshold", "ofline:accuracy>=0.9"])
    assert exit_info.value.code == 2
    assert main([report, "--threshold", "scripted:accuracy>=0.9"]) == 0


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        ("accuracy>=70", "accuracy is a rate between 0 and 1, not 70 (for 70% write 0.7)"),
        ("acuracy>=0.7", "unknown metric 'acuracy'; did you mean 'accuracy'?*(known: *f1*"),
    ],
)
def test_bad_threshold_values_and_names(
    setup, pytester: pytest.Pytester, threshold: str, message: str
) -> None:
    setup.scripted(extra=f", thresholds=[{threshold!r}]")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines([f"*{message}*"])
    cli = pytester.runpytest("--llmjudge-threshold", threshold)
    assert cli.ret == pytest.ExitCode.USAGE_ERROR
    cli.stderr.fnmatch_lines([f"*{message}*"])


def test_count_thresholds_take_counts(setup, pytester: pytest.Pytester) -> None:
    setup.scripted(extra=', thresholds=["n>=4"]')
    pytester.runpytest().assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ('judges="scripted"', "judges= takes a list: write judges=['scripted']"),
        ("judges=JUDGE", "judges= takes a list: put the Judge in one, judges=[...]"),
        ('datasets="cases.jsonl"', "datasets= takes a list: write datasets=['cases.jsonl']"),
    ],
)
def test_a_bare_item_where_a_list_is_due_is_an_error(
    setup, pytester: pytest.Pytester, argument: str, message: str
) -> None:
    pytester.makepyfile(
        test_eval=f"""
        import pytest
        from pytest_llmjudge import Judge

        JUDGE = Judge(name="scripted", backend="function", function=lambda case: case.target)


        @pytest.fixture
        def scripted():
            return JUDGE


        @pytest.mark.llmjudge({"dataset='cases.jsonl', " if "datasets" not in argument else ""}"""
        f"""{argument}{", judges=[JUDGE]" if "judges" not in argument else ""})
        def test_eval(llmjudge_result):
            llmjudge_result.check()
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert message in result.stdout.str()
    assert "duplicate" not in result.stdout.str()


@pytest.mark.parametrize(
    ("marker", "fixture"),
    [
        ('llmjudge(dataset="cases.jsonl", judges=[JUDGE])', "llmjudge_result"),
        (
            'llmjudge_generator(dataset="cases.jsonl", generators=["g"], judge=JUDGE)',
            "llmjudge_answer",
        ),
    ],
)
def test_a_marked_test_without_its_fixture_is_an_error(
    setup, pytester: pytest.Pytester, marker: str, fixture: str
) -> None:
    pytester.makepyfile(
        test_eval=f"""
        import pytest
        from pytest_llmjudge import Judge

        JUDGE = Judge(name="j", backend="function", function=lambda case: case.target)


        @pytest.mark.{marker}
        def test_eval():
            assert True
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    result.stdout.fnmatch_lines(
        [f"*test_eval.py::test_eval: marked @pytest.mark.* but takes no {fixture} argument*"]
    )
    assert "1 passed" not in result.stdout.str()


def test_evaluate_refuses_a_threshold_naming_no_judge(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pytest_llmjudge import ConfigError, Judge, evaluate

    path = tmp_path / "cases.jsonl"
    rows = [{"premise": "a", "hypothesis": "b", "target": t} for t in (0, 1)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    judge = Judge(name="fn", backend="function", function=lambda case: case.target)
    with pytest.raises(ConfigError, match=r"threshold fnn:accuracy>=0.5 .*did you mean 'fn'"):
        evaluate(path, [judge], thresholds=["fnn:accuracy>=0.5"])
