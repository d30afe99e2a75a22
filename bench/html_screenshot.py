"""Render the HTML report of a sample evaluation in headless Chromium and save a screenshot.

    .venv/bin/python bench/html_screenshot.py [OUT_DIR]

Runs the plugin (in a child pytest) on data/news-dev.jsonl with three offline function judges
and one hostile case (a `<script>` in its summary), writes `report.html` with --llmjudge-html,
then renders it with Debian's chromium (`apt-get install chromium`) to `report.png`. Prints the
sizes, the render time and whether the page made any network request (it must not).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = {
    "id": "hostile-1",
    "premise": "The museum opens at <b>nine</b> & closes at five.",
    "hypothesis": "<script>document.title='pwned'</script> The museum opens at ten.",
    "target": 0,
}

TEST_MODULE = '''
import re
import pytest
from pytest_llmjudge import Judge

WORD = re.compile(r"[\\w'-]+")


def overlap(case):
    """Consistent when 85% of the summary's words are in the document."""
    doc = {w.lower() for w in WORD.findall(case.premise)}
    words = [w.lower() for w in WORD.findall(case.hypothesis)]
    share = sum(w in doc for w in words) / max(1, len(words))
    missing = sorted({w for w in words if w not in doc})[:5]
    return {"prediction": int(share >= 0.85),
            "reason": f"{share:.0%} of the summary's words are in the document; new: {missing}"}


def trusting(case):
    return {"prediction": 1, "reason": "the summary reads plausibly"}


def numbers(case):
    """Inconsistent when the summary has a number the document lacks; unsure without numbers."""
    doc, summ = set(re.findall(r"\\d+", case.premise)), set(re.findall(r"\\d+", case.hypothesis))
    if not summ:
        return "I cannot tell."
    new = sorted(summ - doc)
    return {"prediction": int(not new), "reason": f"numbers not in the document: {new}"}


JUDGES = [Judge(name=n, backend="function", function=f)
          for n, f in (("overlap", overlap), ("trusting", trusting), ("numbers", numbers))]


@pytest.mark.llmjudge(dataset="cases.jsonl", judges=JUDGES, thresholds=["accuracy>=0.6"])
def test_news(llmjudge_result):
    llmjudge_result.check()
'''


def build_report(work: Path) -> Path:
    """Run the plugin on the sample project; return the HTML report's path."""
    rows = [
        json.loads(line) for line in (ROOT / "data" / "news-dev.jsonl").read_text().splitlines()
    ]
    rows = rows[:24] + [HOSTILE]
    (work / "cases.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (work / "test_news.py").write_text(textwrap.dedent(TEST_MODULE))
    (work / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    html = work / "report.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--llmjudge-html",
            str(html),
        ],
        cwd=work,
        capture_output=True,
        check=False,
    )
    if not html.exists():
        raise SystemExit("the plugin wrote no HTML report")
    return html


def screenshot(html: Path, png: Path, profile: Path) -> tuple[float, str]:
    """Render `html` to `png` with headless Chromium; returns (seconds, chromium's stderr)."""
    started = time.perf_counter()
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
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            "--hide-scrollbars",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return time.perf_counter() - started, done.stderr


def main() -> None:
    if not Path(CHROMIUM).exists():
        raise SystemExit("chromium not found: apt-get install -y chromium")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".llmjudge" / "html-bench"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        html = build_report(work)
        shutil.copy(html, out / "report.html")
        png = out / "report.png"
        seconds, stderr = screenshot(out / "report.html", png, work / "profile")
    text = (out / "report.html").read_text()
    print(f"report.html: {len(text):,} bytes; report.png: {png.stat().st_size:,} bytes")
    print(f"chromium render + screenshot: {seconds:.1f} s")
    print(f"raw <script> in the page: {'<script>' in text}; escaped: {'&lt;script&gt;' in text}")
    network = [line for line in stderr.splitlines() if "http://" in line or "https://" in line]
    print(f"chromium log lines naming http(s) URLs: {len(network)}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
