#!/usr/bin/env python3
"""uffdpte speed and memory benchmarks (issue 7): one command, prints a table.

    python benchmarks/bench.py            # about 1.5-2 minutes on a 2-core machine
    python benchmarks/bench.py --quick    # a rough look in well under a minute
    python benchmarks/bench.py --repeat 5 # exactly 5 alternating pairs per bulk target

Measures the uffdpte installed for this interpreter (sys.executable): its console script
next to it, else ``sys.executable -m uffdpte``; with no uffdpte installed, the source tree
beside this script through PYTHONPATH (said loudly: use a venv, see benchmarks/README.md).
Inputs are generated deterministically (benchmarks/gen.py, fixed seed) into a temp dir and
reused by later runs. Each target runs its command and its reference alternately
(A B A B ...); the table gives medians. The report goes to stdout, progress to stderr.
The script only prints: exit status 0, or 1 when a command failed (ERROR rows).
"""

from __future__ import annotations

# The harness imports little (no hashlib, statistics, dataclasses, tempfile, nor gen.py):
# a child's ru_maxrss reads no lower than the harness's own peak RSS (exec() keeps the
# high-water mark of the address space it replaces), so the harness stays near the bare
# interpreter's ~9 MB.
import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
import zlib
from pathlib import Path

T0 = time.perf_counter()
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GEN = HERE / "gen.py"
SEED = 7
N_VALUES = 1_000_000
SCAN_MB = 100
ONESHOT_VALUE = "0x8000000071c00227"
RSS_LIMIT_MB = 64

FLOOR_TEXT = ("import sys\nw = sys.stdout.write\n"
              "for line in sys.stdin:\n    w('%016x\\n' % int(line, 16))\n")
FLOOR_PARSE = "import sys\nfor line in sys.stdin.buffer:\n    int(line, 16)\n"
FLOOR_SCAN = ("import sys\nw = sys.stdout.write\n"
              "for line in open(sys.argv[1], encoding='utf-8', errors='replace'):\n    w(line)\n")

PINNED = {
    "x86_64": ["--kernel", "6.12", "--config", "all", "--levels", "4", "--scheme", "marker"],
    "arm64": ["--kernel", "6.12", "--config", "all", "--page-size", "4k", "--pa-bits", "48",
              "--scheme", "marker"],
}

PROBE = r"""
import importlib.util, json, os, sys
out = {"python": sys.version.split()[0], "executable": sys.executable,
       "path0": os.environ.get("PYTHONPATH", "")}
def pyc(pkg_dir):
    srcs = [os.path.join(d, f) for d, _, fs in os.walk(pkg_dir) for f in fs if f.endswith(".py")]
    have = sum(os.path.exists(importlib.util.cache_from_source(s)) for s in srcs)
    return [have, len(srcs)]
try:
    import click
    out["click_dir"] = os.path.dirname(click.__file__)
    out["click_pyc"] = pyc(out["click_dir"])
except Exception as e:
    out["click_error"] = repr(e)
try:
    import uffdpte
    out["dir"] = os.path.dirname(uffdpte.__file__)
    out["pyc"] = pyc(out["dir"])
    try:
        from importlib import metadata
        dist = metadata.distribution("uffdpte")
        out["version"] = dist.version
        du = dist.read_text("direct_url.json")
        out["editable"] = bool(du and json.loads(du).get("dir_info", {}).get("editable"))
    except Exception:
        out["version"] = None
except Exception as e:
    out["error"] = repr(e)
print(json.dumps(out))
"""


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def last_line(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, 2) - 4096))
        lines = f.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(no stderr)"


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# --- running one command ------------------------------------------------------------------

def median(xs) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


class Cmd:
    def __init__(self, argv: list[str], stdin: Path | None = None):
        self.argv = argv
        self.stdin = stdin         # file to read, else /dev/null


class Run:
    def __init__(self, seconds: float, rc: int, rss_mb: float, err: str, cpu: float):
        self.seconds, self.rc, self.rss_mb, self.err = seconds, rc, rss_mb, err
        self.cpu = cpu             # user + system seconds of the child and its children


class Runner:
    def __init__(self, env: dict[str, str], cwd: Path):
        self.env, self.cwd = env, cwd
        self.errfile = cwd / "stderr.txt"

    def run(self, cmd: Cmd, stdout: Path | None = None) -> Run:
        """Wall time, exit status and peak RSS (ru_maxrss from wait4) of one command."""
        fin = open(cmd.stdin, "rb") if cmd.stdin else open(os.devnull, "rb")
        fout = open(stdout, "wb") if stdout else open(os.devnull, "wb")
        ferr = open(self.errfile, "wb")
        try:
            t = time.perf_counter()
            p = subprocess.Popen(cmd.argv, stdin=fin, stdout=fout, stderr=ferr,
                                 cwd=self.cwd, env=self.env)
            _, status, ru = os.wait4(p.pid, 0)
            seconds = time.perf_counter() - t
            p.returncode = rc = os.waitstatus_to_exitcode(status)
        finally:
            for f in (fin, fout, ferr):
                f.close()
        err = ""
        if rc != 0:
            err = f"exit {rc}: {last_line(self.errfile)}"
        return Run(seconds, rc, ru.ru_maxrss / 1024, err, ru.ru_utime + ru.ru_stime)

    def stream(self, producer: list[str], consumer: list[str]) -> Run:
        """producer | consumer > /dev/null; time and peak RSS of the consumer."""
        with open(os.devnull, "wb") as null, open(self.errfile, "wb") as ferr:
            t = time.perf_counter()
            gen_p = subprocess.Popen(producer, stdout=subprocess.PIPE, cwd=self.cwd, env=self.env)
            p = subprocess.Popen(consumer, stdin=gen_p.stdout, stdout=null, stderr=ferr,
                                 cwd=self.cwd, env=self.env)
            gen_p.stdout.close()
            _, status, ru = os.wait4(p.pid, 0)
            seconds = time.perf_counter() - t
            p.returncode = rc = os.waitstatus_to_exitcode(status)
            grc = gen_p.wait()
        err = ""
        if rc != 0 or grc != 0:
            err = f"exit {rc} (generator {grc}): {last_line(self.errfile)}"
        return Run(seconds, rc or grc, ru.ru_maxrss / 1024, err, ru.ru_utime + ru.ru_stime)


# --- targets --------------------------------------------------------------------------------

class Target:
    """A command (A) and its reference (B), run alternately."""

    def __init__(self, key: str, name: str, a: Cmd | None, b: Cmd | None, kind: str,
                 limit: float, values: int = 0, nbytes: int = 0, sample: Cmd | None = None,
                 check: str = "lines"):
        self.key, self.name, self.a, self.b = key, name, a, b
        self.kind = kind            # "ratio" (A/B <= limit) or "mbps" (MB/s >= limit)
        self.limit = limit
        self.values = values        # values per run, for values/s
        self.nbytes = nbytes        # input bytes per run, for MB/s
        self.sample = sample        # the same command on a small input, checked before timing
        self.check = check          # the sample's output: lines, jsonl, json, scan, any
        self.sample_lines = 0
        self.a_runs: list[Run] = []
        self.b_runs: list[Run] = []
        self.error = self.unavailable = self.note = ""

    def active(self) -> bool:
        return not self.error and not self.unavailable

    def med(self, runs: list[Run]) -> float:
        return median(r.seconds for r in runs)

    def cpu(self, runs: list[Run]) -> float:
        return median(r.cpu for r in runs)


def fmt_t(s: float) -> str:
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def check_sample(t: Target, runner: Runner, work: Path) -> None:
    """Run the command on the small input and check its output's shape (so a crash or a
    wrong output is an ERROR row, not a fast time)."""
    out = work / f"sample-out-{t.key}.txt"
    r = runner.run(t.sample, stdout=out)
    if r.rc != 0:
        t.error = r.err
        return
    n = bad = 0
    try:
        with open(out, encoding="utf-8", errors="replace") as f:
            if t.check == "json":
                if not isinstance(json.load(f), dict):
                    t.error = "sample: --json summary is not one JSON object"
                return
            for ln in f:
                n += 1
                if t.check == "lines":
                    bad += not ln.startswith("0x")
                elif t.check == "jsonl":
                    json.loads(ln)
                elif t.check == "scan" and "--only" not in t.sample.argv:
                    n -= "uffdpte:" not in ln
        if t.check in ("lines", "jsonl") and (n != t.sample_lines or bad):
            t.error = f"sample: {n} lines for {t.sample_lines} values" + (
                f", {bad} not starting with 0x" if bad else "")
        elif t.check == "scan":
            t.note = f"{n} decodes in the 2 MB sample"
            if n == 0:
                t.error = "sample: no decodes in 2 MB of generated dmesg"
        elif n == 0:
            t.error = "sample: no output"
    except ValueError as e:
        t.error = f"sample: invalid JSON: {e}"
    finally:
        out.unlink(missing_ok=True)


# --- inputs -----------------------------------------------------------------------------------

def prepare_inputs(work: Path, seed: int, fresh: bool) -> dict[str, Path]:
    """The 1M-value files and the 100 MB dmesg, generated in parallel subprocesses (the
    harness stays small: a child's ru_maxrss can read no lower than its parent's), reused
    when the manifest says they are complete."""
    files = {"x86_64": work / "x86_64.values", "arm64": work / "arm64.values",
             "dmesg": work / "dmesg-100MB.txt"}
    manifest = work / "manifest.json"
    have = json.loads(manifest.read_text()) if manifest.exists() and not fresh else {}
    todo = [k for k, p in files.items()
            if not (p.exists() and have.get(k, {}).get("size") == p.stat().st_size)]
    if todo:
        t = time.perf_counter()
        log(f"generating {', '.join(todo)} into {work} ...")
        args = {"x86_64": ["values", "x86_64", str(N_VALUES)],
                "arm64": ["values", "arm64", str(N_VALUES)],
                "dmesg": ["dmesg", str(SCAN_MB)]}
        procs = []
        for k in todo:
            tmp = files[k].with_suffix(".tmp")
            f = open(tmp, "wb")
            procs.append((k, tmp, f, subprocess.Popen(
                [sys.executable, str(GEN), *args[k], "--seed", str(seed)], stdout=f)))
        for k, tmp, f, p in procs:
            if p.wait() != 0:
                sys.exit(f"bench: generating {k} failed")
            f.close()
            tmp.replace(files[k])
            digest = subprocess.run(
                [sys.executable, "-c", "import hashlib, sys\nh = hashlib.sha256()\n"
                 "with open(sys.argv[1], 'rb') as f:\n    for b in iter(lambda: f.read(1 << 20),"
                 " b''):\n        h.update(b)\nprint(h.hexdigest()[:16])", str(files[k])],
                capture_output=True, text=True, check=True).stdout.strip()
            have[k] = {"size": files[k].stat().st_size, "sha256": digest}
        manifest.write_text(json.dumps(have, indent=1))
        log(f"generated in {time.perf_counter() - t:.1f} s")
    else:
        log(f"reusing inputs in {work}")
    # small samples for the output checks: every 50th value; the first 2 MB of dmesg
    for arch in ("x86_64", "arm64"):
        s = work / f"{arch}.sample"
        if fresh or not s.exists() or todo:
            with open(files[arch], "rb") as fi, open(s, "wb") as fo:
                for i, line in enumerate(fi):
                    if i % 50 == 0:
                        fo.write(line)
        files[f"{arch}.sample"] = s
    s = work / "dmesg.sample"
    if fresh or not s.exists() or todo:
        with open(files["dmesg"], "rb") as fi, open(s, "wb") as fo:
            size = 0
            for line in fi:
                fo.write(line)
                size += len(line)
                if size >= 2_000_000:
                    break
    files["dmesg.sample"] = s
    files["manifest"] = manifest
    return files


# --- what is measured ---------------------------------------------------------------------------

def probe(env: dict[str, str], cwd: Path) -> dict:
    r = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=cwd, capture_output=True,
                       text=True)
    return json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr.strip()}


def choose_uffdpte(env: dict[str, str], work: Path) -> tuple[list[str], dict, list[str]]:
    """(argv prefix for uffdpte, probe info, notes)."""
    notes: list[str] = []
    info = probe(env, work)
    if "error" in info:
        if (REPO / "uffdpte" / "__init__.py").exists():
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
            info = probe(env, work)
            info["mode"] = "NOT INSTALLED: the source tree via PYTHONPATH"
            notes.append(f"uffdpte is not installed for {sys.executable}: measuring the "
                         f"source tree {REPO} through PYTHONPATH. For fair start-up numbers "
                         "install it into a venv (benchmarks/README.md).")
        if "error" in info:
            sys.exit(f"bench: cannot import uffdpte with {sys.executable}: {info['error']}")
    else:
        info["mode"] = "editable install" if info.get("editable") else "installed"
        if not info.get("editable") and Path(info["dir"]).resolve().is_relative_to(REPO):
            info["mode"] = "the source tree, found on sys.path (PYTHONPATH?)"
    if "click_error" in info:
        sys.exit(f"bench: click is not importable with {sys.executable}: {info['click_error']}")
    script = Path(sys.executable).parent / "uffdpte"
    prefix = [sys.executable, "-m", "uffdpte"]
    if info["mode"] != "NOT INSTALLED: the source tree via PYTHONPATH" and script.is_file() \
            and os.access(script, os.X_OK):
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace")
        interp = first[2:].strip().split()[0] if first.startswith("#!") else ""
        if interp and os.path.realpath(interp) == os.path.realpath(sys.executable):
            prefix = [str(script)]
        else:
            notes.append(f"{script} runs {interp or '?'}, not {sys.executable}: using -m uffdpte")
    # bytecode: without .pyc every run would compile uffdpte (PYTHONDONTWRITEBYTECODE=1 or
    # a source tree): give both sides a bytecode cache in the temp dir instead
    have, total = info["pyc"]
    chave, ctotal = info["click_pyc"]
    if have < total or chave < ctotal:
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        notes.append(f"only {have}/{total} uffdpte (and {chave}/{ctotal} click) modules have "
                     f".pyc files: commands and references run with PYTHONPYCACHEPREFIX="
                     f"{work / 'pycache'} (written by the warm-up runs)"
                     + (" and without PYTHONDONTWRITEBYTECODE" if os.environ.get(
                         "PYTHONDONTWRITEBYTECODE") else ""))
    return prefix, info, notes


def has_summary(uff: list[str], runner: Runner, command: str) -> bool:
    """Does `uffdpte COMMAND --help` list --summary (the histogram; scan's early
    --summary/--no-summary, statistics on stderr, does not count)?"""
    r = subprocess.run(uff + [command, "--help"], capture_output=True, text=True,
                       cwd=runner.cwd, env=runner.env)
    return any(w.startswith("--summary") and "/" not in w
               for w in (ln.strip().split("  ")[0] for ln in r.stdout.splitlines()))


BREAKDOWN = r"""
import sys, time
t0 = time.perf_counter()
import click
t1 = time.perf_counter()
import uffdpte.cli
t2 = time.perf_counter()
sys.argv = ["uffdpte", "decode", sys.argv[1]]
try:
    uffdpte.cli.main()
except SystemExit:
    pass
t3 = time.perf_counter()
print("%f %f %f" % (t1 - t0, t2 - t1, t3 - t2), file=sys.stderr)
"""


def import_report(runner: Runner) -> str:
    """Where the one-shot's time goes: in-process timings, and what it imports
    (python -X importtime)."""
    parts = []
    for _ in range(7):
        r = subprocess.run([sys.executable, "-c", BREAKDOWN, ONESHOT_VALUE],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           cwd=runner.cwd, env=runner.env)
        try:
            parts.append([float(x) for x in r.stderr.split()[-3:]])
        except ValueError:
            return f"one-shot breakdown failed: {r.stderr.strip()[-200:]}"
    click_s, cli_s, main_s = (median(p[i] for p in parts) * 1000 for i in range(3))
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "uffdpte", "decode",
                        ONESHOT_VALUE], capture_output=True, text=True, cwd=runner.cwd,
                       env=runner.env)
    mods = []
    for ln in r.stderr.splitlines():
        if ln.startswith("import time:") and "|" in ln and "self [us]" not in ln:
            self_us, cum_us, name = (x.strip() for x in ln[len("import time:"):].split("|"))
            mods.append((name, int(self_us), int(cum_us)))
    ours = [m for m in mods if m[0].startswith("uffdpte")]
    names = {m[0] for m in mods}
    other = "arm64" if os.uname().machine in ("x86_64", "amd64") else "x86_64"
    unwanted = [m for m in ("rich", "bitstring", "uffdpte.render.term", f"uffdpte.layouts.{other}",
                            "uffdpte.scan", "uffdpte.pagemap", "uffdpte.summary") if m in names]
    top = sorted(ours, key=lambda m: -m[1])[:5]
    return (f"one-shot in process (median of 7): import click {click_s:.1f} ms, then import "
            f"uffdpte.cli {cli_s:.1f} ms, then main() {main_s:.1f} ms (its own imports included)\n"
            f"  imports {len(names)} modules, {len(ours)} of uffdpte "
            f"({sum(m[1] for m in ours) / 1000:.1f} ms self time); "
            f"not wanted on this path: {', '.join(unwanted) or 'none'}\n"
            f"  slowest uffdpte modules (self): "
            + ", ".join(f"{n} {t / 1000:.1f} ms" for n, t, _ in top))


# --- the table ------------------------------------------------------------------------------------

def row(t: Target) -> list[str]:
    """# target n uffdpte reference ratio cpu-ratio limit result figures"""
    n = str(len(t.a_runs)) if t.a_runs else "-"
    if t.unavailable:
        return [t.key, t.name, "-", "-", "-", "-", "-", lim(t), "n/a", t.unavailable]
    if t.error:
        return [t.key, t.name, n, "-", "-", "-", "-", lim(t), "ERROR", t.error[:100]]
    a, b = t.med(t.a_runs), t.med(t.b_runs)
    ca, cb = t.cpu(t.a_runs), t.cpu(t.b_runs)
    figs = []
    if t.kind == "ratio":
        ok = a / b <= t.limit
        if t.values:
            figs.append(f"{t.values / a / 1e6:.2f} M val/s ({a / t.values * 1e6:.2f} us/val), "
                        f"floor {t.values / b / 1e6:.2f} M val/s")
        else:
            figs.append(f"+{(a - b) * 1000:.1f} ms over the reference")
    else:
        mbps = t.nbytes / a / 1e6
        ok = mbps >= t.limit
        figs.append(f"{mbps:.1f} MB/s ({t.nbytes / ca / 1e6:.1f} MB/s of CPU), "
                    f"floor {t.nbytes / b / 1e6:.0f} MB/s")
    if t.note:
        figs.append(t.note)
    return [t.key, t.name, n, fmt_t(a), fmt_t(b), f"{a / b:.2f}x", f"{ca / cb:.2f}x", lim(t),
            "PASS" if ok else "FAIL", "; ".join(figs)]


def lim(t: Target) -> str:
    if t.kind == "ratio":
        return f"<= {t.limit:g}x"
    if t.kind == "mbps":
        return f">= {t.limit:g} MB/s"
    return f"< {t.limit:g} MB"


def table(rows: list[list[str]]) -> str:
    head = ["#", "target", "n", "uffdpte", "reference", "ratio", "cpu", "limit", "result",
            "figures"]
    rows = [head] + rows
    w = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    out = []
    for i, r in enumerate(rows):
        out.append("  ".join(c.ljust(w[j]) if j < len(w) else c for j, c in enumerate(r)).rstrip())
        if i == 0:
            out.append("  ".join("-" * x for x in w) + "  " + "-" * 7)
    return "\n".join(out)


# --- main -----------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="one round of the bulk targets, 10 one-shot pairs, smaller streams")
    ap.add_argument("--repeat", type=int, metavar="N",
                    help="exactly N alternating pairs per bulk/scan target (default: up to 3, "
                         "as many as fit the time budget)")
    ap.add_argument("--oneshot", type=int, metavar="N", help="one-shot pairs (default 30; quick 10)")
    ap.add_argument("--budget", type=float, default=105, metavar="S",
                    help="seconds the whole run aims at when --repeat is not given (default 105)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"input seed (default {SEED})")
    ap.add_argument("--workdir", type=Path,
                    help="where inputs are generated and kept (default: a temp dir per seed)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the inputs")
    ap.add_argument("--decode-stream-mb", type=float, metavar="MB",
                    help="values piped into decode for the memory target (default 34; quick 17; "
                         "1000 checks the issue's 1 GB, in minutes)")
    ap.add_argument("--scan-stream-mb", type=float, metavar="MB",
                    help="dmesg piped into scan for the memory target (default 200; quick 100)")
    args = ap.parse_args()
    oneshot_n = args.oneshot or (10 if args.quick else 30)
    max_rounds = args.repeat or (1 if args.quick else 3)
    dec_mb = args.decode_stream_mb or (17 if args.quick else 34)
    scan_mb = args.scan_stream_mb or (100 if args.quick else 200)

    # inputs are kept per seed and per version of gen.py (its CRC): a changed generator
    # regenerates them
    gen_crc = zlib.crc32(GEN.read_bytes())
    work = args.workdir or (Path(os.environ.get("TMPDIR") or "/tmp") / "uffdpte-bench"
                            / f"seed{args.seed}-gen{gen_crc:08x}")
    work.mkdir(parents=True, exist_ok=True)
    if not args.workdir:  # inputs of older versions of gen.py for this seed: not needed again
        for old in work.parent.glob(f"seed{args.seed}-gen*"):
            if old != work and old.is_dir():
                for d, dirs, fs in os.walk(old, topdown=False):
                    for f in fs:
                        os.unlink(os.path.join(d, f))
                    for sub in dirs:
                        os.rmdir(os.path.join(d, sub))
                old.rmdir()
    env = dict(os.environ)
    uff, info, notes = choose_uffdpte(env, work)
    runner = Runner(env, work)
    py = sys.executable
    U = shlex.join(uff)

    print(f"uffdpte benchmarks (issue 7){' --quick' if args.quick else ''}: "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {os.uname().sysname} {os.uname().machine}, "
          f"{os.cpu_count()} CPUs (load average {load()}), Python {info['python']}")
    print(f"measuring: {U}  ({info['mode']}, uffdpte {info.get('version') or '?'} in "
          f"{info['dir']}; .pyc {info['pyc'][0]}/{info['pyc'][1]})")
    print(f"reference interpreter: {py} (click in {info['click_dir']})")
    for n in notes:
        print(f"note: {n}")
    sys.stdout.flush()

    files = prepare_inputs(work, args.seed, args.fresh)
    man = json.loads(files["manifest"].read_text())
    print(f"inputs (seed {args.seed}, {work}): "
          + ", ".join(f"{k} {v['size'] / 1e6:.0f} MB sha256:{v['sha256']}" for k, v in man.items()))
    summary_ok = has_summary(uff, runner, "decode")
    scan_summary_ok = has_summary(uff, runner, "scan")

    def floor(code: str, stdin: Path | None, *extra: str) -> Cmd:
        return Cmd([py, "-c", code, *extra], stdin)

    # 1. one-shot
    one = Target("1", f"one-shot: decode {ONESHOT_VALUE} | cat", None, None, "ratio", 1.3)
    one.a = Cmd(["/bin/sh", "-c", f"{U} decode {ONESHOT_VALUE} | cat"])
    one.b = Cmd(["/bin/sh", "-c", f"{shlex.quote(py)} -c 'import click'"])
    one.sample, one.check = Cmd(one.a.argv), "any"

    bulk: list[Target] = []
    for i, (arch, pinned) in enumerate([("x86_64", False), ("x86_64", True),
                                        ("arm64", False), ("arm64", True)]):
        argv = uff + ["decode", "--arch", arch] + (PINNED[arch] if pinned else []) + ["-"]
        name = f"text {arch}, {'pinned 6.12' if pinned else 'unpinned'}"
        bulk.append(Target(f"2{'abcd'[i]}", name, Cmd(argv, files[arch]),
                           floor(FLOOR_TEXT, files[arch]), "ratio", 4.0, values=N_VALUES,
                           sample=Cmd(argv, files[f"{arch}.sample"]), check="lines"))
    for i, arch in enumerate(("x86_64", "arm64")):
        argv = uff + ["decode", "--json", "--arch", arch, "-"]
        bulk.append(Target(f"3{'ab'[i]}", f"json {arch}, unpinned", Cmd(argv, files[arch]),
                           floor(FLOOR_TEXT, files[arch]), "ratio", 6.0, values=N_VALUES,
                           sample=Cmd(argv, files[f"{arch}.sample"]), check="jsonl"))
    for i, opt in enumerate(("", "--only", "--summary")):
        argv = uff + ["scan"] + ([opt] if opt else []) + [str(files["dmesg"])]
        sargv = argv[:-1] + [str(files["dmesg.sample"])]
        t = Target(f"5{'abc'[i]}", f"scan {opt + ' ' if opt else ''}FILE, {SCAN_MB} MB dmesg",
                   Cmd(argv), floor(FLOOR_SCAN, None, str(files["dmesg"])), "mbps", 50.0,
                   nbytes=files["dmesg"].stat().st_size, sample=Cmd(sargv),
                   check="any" if opt == "--summary" else "scan")
        if opt == "--summary" and not scan_summary_ok:
            t.unavailable = "not available: `uffdpte scan --help` lists no --summary"
        bulk.append(t)
    for i, (arch, js) in enumerate([("x86_64", False), ("x86_64", True),
                                    ("arm64", False), ("arm64", True)]):
        argv = uff + ["decode", "--summary"] + (["--json"] if js else []) + ["--arch", arch, "-"]
        t = Target(f"6{'abcd'[i]}", f"summary{' --json' if js else ''} {arch}, unpinned",
                   Cmd(argv, files[arch]), floor(FLOOR_PARSE, files[arch]), "ratio", 2.0,
                   values=N_VALUES, sample=Cmd(argv, files[f"{arch}.sample"]),
                   check="json" if js else "any")
        if not summary_ok:
            t.unavailable = "not available: `uffdpte decode --help` lists no --summary"
        bulk.append(t)
    for t in bulk:
        if t.check in ("lines", "jsonl"):
            t.sample_lines = sum(1 for _ in open(t.sample.stdin, "rb"))

    # output checks (also the warm-up: imports compiled, inputs in the page cache)
    log("checking outputs on small inputs ...")
    for t in [one] + bulk:
        if t.active():
            check_sample(t, runner, work)
            if t.error:
                log(f"  {t.key} {t.name}: {t.error}")
    one_line = ""
    if not one.error:
        out = work / "oneshot.txt"
        runner.run(Cmd(one.a.argv), stdout=out)
        one_line = out.read_text().strip()

    # 1. one-shot, alternating
    if not one.error:
        log(f"one-shot: {oneshot_n} alternating pairs ...")
        for _ in range(2):
            runner.run(one.a), runner.run(one.b)
        for _ in range(oneshot_n):
            for cmd, runs in ((one.a, one.a_runs), (one.b, one.b_runs)):
                r = runner.run(cmd)
                runs.append(r)
                if r.rc and not one.error:
                    one.error = r.err
        bare = median(runner.run(floor("pass", None)).seconds for _ in range(10))
        one.note = f"python -c pass {fmt_t(bare)}"

    # bulk rounds: every target A B, round after round
    active = [t for t in bulk if t.active()]

    def do_round(k: int) -> float:
        t0 = time.perf_counter()
        for t in active:
            if t.error:
                continue
            log(f"round {k}: {t.key} {t.name}")
            for cmd, runs in ((t.a, t.a_runs), (t.b, t.b_runs)):
                r = runner.run(cmd)
                runs.append(r)
                if r.rc and not t.error:
                    t.error = r.err
        return time.perf_counter() - t0

    t_round = do_round(1)

    # 4. memory: peak RSS of streams through pipes
    streams = []
    log(f"memory: {dec_mb:g} MB of values | decode ...")
    r = runner.stream([py, str(GEN), "stream", "x86_64", str(dec_mb),
                       "--seed", str(args.seed + 1)], uff + ["decode", "--arch", "x86_64", "-"])
    streams.append((f"stream: gen | decode --arch x86_64 -, {dec_mb:g} MB "
                    f"({dec_mb * 1e6 / 17 / 1e6:.1f}M values)", r,
                    f"{dec_mb * 1e6 / 17 / r.seconds / 1e6:.2f} M val/s with the generator "
                    "on the other core"))
    log(f"memory: {scan_mb:g} MB of dmesg | scan ...")
    r = runner.stream([py, str(GEN), "dmesg", str(scan_mb), "--seed", str(args.seed + 1)],
                      uff + ["scan", "-"])
    streams.append((f"stream: gen | scan -, {scan_mb:g} MB dmesg", r,
                    f"{scan_mb / r.seconds:.1f} MB/s with the generator on the other core"))

    rounds = max_rounds
    if not args.repeat and max_rounds > 1:
        left = args.budget - (time.perf_counter() - T0)
        rounds = 1 + max(0, min(max_rounds - 1, int(left // max(t_round, 1e-3))))
    for k in range(2, rounds + 1):
        do_round(k)

    # the table
    rows = [row(one)]
    main_rows = [row(t) for t in bulk]
    rows += [r for r in main_rows if r[0][0] in "23"]
    # 4. memory rows
    harness = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def rss_row(key: str, name: str, runs: list[tuple[float, str]], ref: str, fig: str):
        mx, which = max(runs)
        floor_note = " (= the harness's own peak: see below)" if mx <= harness + 0.5 else ""
        rows.append([key, f"peak RSS, {name}", str(len(runs)), f"{mx:.1f} MB", ref, "-", "-",
                     f"< {RSS_LIMIT_MB} MB", "PASS" if mx < RSS_LIMIT_MB else "FAIL",
                     (fig or f"max in: {which}") + floor_note])

    dec_runs = [(r.rss_mb, t.name) for t in bulk if t.key[0] in "236" for r in t.a_runs if not r.rc]
    floor_rss = max((r.rss_mb for t in bulk if t.key[0] in "236" for r in t.b_runs), default=0)
    if dec_runs:
        rss_row("4a", f"bulk decode runs ({N_VALUES // 1000}k values)", dec_runs,
                f"{floor_rss:.1f} MB", "")
    scan_runs = [(r.rss_mb, t.name) for t in bulk if t.key[0] == "5" for r in t.a_runs if not r.rc]
    if scan_runs:
        rss_row("4b", f"scan FILE runs ({SCAN_MB} MB)", scan_runs, "-", "")
    for i, (name, r, fig) in enumerate(streams):
        if r.rc:
            rows.append([f"4{'cd'[i]}", f"peak RSS, {name}", "1", "-", "-", "-", "-",
                         f"< {RSS_LIMIT_MB} MB", "ERROR", r.err[:100]])
        else:
            rss_row(f"4{'cd'[i]}", name, [(r.rss_mb, name)], "-", f"{fmt_t(r.seconds)}, {fig}")
    rows += [r for r in main_rows if r[0][0] in "56"]

    print()
    print(table(rows))
    print()
    print(f"one-shot output: {one_line or '-'}")
    if not one.error:
        print(import_report(runner))
    print(f"RSS is the child's ru_maxrss (wait4); it reads no lower than the harness's own "
          f"{harness:.1f} MB")
    print("commands (A vs B; inputs in the inputs dir above, output to /dev/null):")
    legend = [
        ("1", f"sh -c '{U} decode {ONESHOT_VALUE} | cat'", "sh -c 'PY -c \"import click\"'"),
        ("2", f"{U} decode --arch ARCH [PINNED] - < ARCH.values", "PY -c TEXT_FLOOR < ARCH.values"),
        ("3", f"{U} decode --json --arch ARCH - < ARCH.values", "PY -c TEXT_FLOOR < ARCH.values"),
        ("5", f"{U} scan [--only|--summary] dmesg-100MB.txt", "PY -c SCAN_FLOOR dmesg-100MB.txt"),
        ("6", f"{U} decode --summary [--json] --arch ARCH - < ARCH.values",
         "PY -c PARSE_FLOOR < ARCH.values"),
    ]
    for k, a, b in legend:
        print(f"  {k}  {a}\n       vs {b}")
    print(f"  PY = {py}; PINNED x86_64: {' '.join(PINNED['x86_64'])}; "
          f"arm64: {' '.join(PINNED['arm64'])}")
    print("  TEXT_FLOOR: for line in sys.stdin: w('%016x\\n' % int(line, 16));  "
          "PARSE_FLOOR: for line in sys.stdin.buffer: int(line, 16);  "
          "SCAN_FLOOR: for line in open(F): w(line)")
    results = [r[8] for r in rows]
    counts = ", ".join(f"{results.count(k)} {k}" for k in ("PASS", "FAIL", "ERROR", "n/a")
                       if results.count(k))
    total = time.perf_counter() - T0
    how = ("--repeat" if args.repeat else "--quick" if args.quick
           else f"as many of 3 as fit the {args.budget:g} s budget")
    print(f"result: {counts}; bulk rounds: {rounds} ({how}); one-shot pairs: {oneshot_n}")
    print(f"load average at the end: {load()} ({os.cpu_count()} CPUs; a busy machine makes wall "
          "times noisy: the cpu column is the CPU-time ratio, user+sys)")
    print(f"total wall time: {total:.1f} s")
    return 1 if "ERROR" in results else 0


if __name__ == "__main__":
    sys.exit(main())
