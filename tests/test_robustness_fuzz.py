"""The CI-bounded pass of the coverage-guided fuzz harnesses (fuzz/, see fuzz/README.md).

Each harness runs a fixed number of inputs (about ten seconds) from its seed corpus (a fresh working corpus in a temp
directory, so nothing is written into the repository) and must finish without a crash.  The
long runs are manual: ``fuzz/run.sh MINUTES``.  Skipped where atheris cannot be imported: it
ships wheels for CPython 3.11+ on x86_64 Linux only (pyproject's ``test`` extra installs it
there), and building it from source needs clang's libFuzzer.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
#: a fixed seed and run count: the CI pass is the same every time (a failure is a change in
#: uffdpte, not luck); max_total_time only caps a slow machine
RUNS = {"fuzz_tokens": 20000, "fuzz_scan": 1500}

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not importable (wheels: CPython 3.11+ on x86_64 Linux; elsewhere it "
           "must be built with clang/libFuzzer) -- the fuzz harnesses cannot run")


@pytest.mark.parametrize("harness, seeds", [
    ("fuzz_tokens", ["fuzz/seeds/tokens"]),
    ("fuzz_scan", ["fuzz/seeds/scan", "examples"]),
])
def test_fuzz_harness_short_run(harness, seeds, tmp_path):
    name = harness.removeprefix("fuzz_")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    r = subprocess.run(
        [sys.executable, str(FUZZ / f"{harness}.py"), "-seed=8", f"-runs={RUNS[harness]}",
         "-max_total_time=60", f"-dict={FUZZ / f'{name}.dict'}", "-print_final_stats=1",
         f"-artifact_prefix={tmp_path}/", "-close_fd_mask=1", str(corpus),
         *(str(ROOT / s) for s in seeds)],
        capture_output=True, timeout=300, cwd=tmp_path)
    err = r.stderr.decode("utf-8", "replace")
    crashes = sorted(tmp_path.glob("crash-*")) + sorted(tmp_path.glob("timeout-*"))
    assert r.returncode == 0 and not crashes, (
        f"{harness} found a failing input: {[(str(c), c.read_bytes()[:2000]) for c in crashes]}\n"
        f"reproduce: python3 fuzz/{harness}.py <that file>\n{err[-4000:]}")
    assert "Uncaught Python exception" not in err
    runs = [ln for ln in err.splitlines() if ln.startswith("stat::number_of_executed_units:")]
    assert runs and int(runs[0].split()[-1]) > 100, err[-2000:]
