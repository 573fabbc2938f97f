"""Robustness (issue 8): no input crashes uffdpte, no value is lost, every rejection is explained.

Everything here runs the real command (``python -m uffdpte ...`` in a subprocess) unless it
says otherwise.  The contract under test is README "Input rules and exit status":

* a value is hex, optional ``0x``/``0X``, at most 64 bits, optional level label (``pte:``);
  on stdin values are separated by whitespace or commas, ``#`` starts a comment, blank lines
  are skipped;
* each rejected token is ONE stderr line ``uffdpte: WHERE: 'TOKEN': reason`` (WHERE is
  ``-:LINE`` or ``argument N``), every other value is still decoded, in input order;
* exit 0 all decoded, 1 some input rejected (or, for scan, a file missing/unreadable),
  2 usage, 130 interrupted, 141 stdout closed early -- and never a traceback.

This file: the shared helpers (the reference token rule, the CLI runner, token strategies),
the input table and closed standard streams.  test_robustness_streams.py: order and count,
``| head``, Ctrl-C, follow, bounded memory.  test_robustness_properties.py: hypothesis
properties of decode, encode and scan.  test_robustness_fuzz.py: the bounded fuzz pass.

The bugs this work found are fixed; their tests stay as regression tests.  A bug still open
would be pinned by ``xfail(strict=True)``, which fails (XPASS) once the bug is fixed, so the
marker goes with the fix.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
UFFDPTE = [sys.executable, "-m", "uffdpte"]
#: a fully pinned profile that prints no "note:" lines, so stderr holds only rejections
PIN = ["--arch", "x86_64", "--kernel", "7.2", "--no-alternatives"]
DECODE = ["decode", *PIN]
U64 = (1 << 64) - 1
MB = 1 << 20
BAD_PAGE_MAP = (b"[   63.912126] BUG: Bad page map in process uffd-test  pte:8000000071c00227 "
                b"pmd:10a5d8067\n")


def cli(*args, stdin: bytes | int | None = None, timeout: float = 120,
        **kw) -> subprocess.CompletedProcess:
    """python -m uffdpte ARGS; stdin: bytes to feed, or a file descriptor such as DEVNULL."""
    kw.setdefault("cwd", ROOT)
    if isinstance(stdin, bytes):
        kw["input"] = stdin
    elif stdin is not None:
        kw["stdin"] = stdin
    return subprocess.run([*UFFDPTE, *args], capture_output=True, timeout=timeout, **kw)


def records(stdout: bytes) -> list[int]:
    """The value (field 1) of each plain decode line."""
    return [int(line.split(b" ", 1)[0], 16) for line in stdout.split(b"\n") if line]


def err_lines(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode("utf-8", "replace").split("\n") if line]


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in r.stderr, r.stderr.decode("utf-8", "replace")[-3000:]


# --- the reference rule, written out independently of uffdpte/tokens.py ---------------------

_SEP = re.compile(rb"[ \t\r\x0b\x0c,]+")
_HEXDIGITS = b"0123456789abcdefABCDEF"


def ref_value(raw: bytes) -> int | None:
    """The value of one token under the documented rule, or None if it is rejected."""
    head = raw[:4].lower()
    if len(head) == 4 and head[:3] in (b"pgd", b"p4d", b"pud", b"pmd", b"pte") \
            and head[3:] in (b":", b"="):
        raw = raw[4:]
    if raw[:2] in (b"0x", b"0X"):
        raw = raw[2:]
    if not raw or raw.translate(None, _HEXDIGITS):
        return None
    v = int(raw, 16)
    return v if v <= U64 else None


def ref_tokens(data: bytes) -> list[tuple[int, bytes, int | None]]:
    """(line, token, value or None) for stdin text: lines end at \\n, # starts a comment."""
    out = []
    for n, line in enumerate(data.split(b"\n"), 1):
        for raw in _SEP.split(line.split(b"#", 1)[0]):
            if raw:
                out.append((n, raw, ref_value(raw)))
    return out


#: ECMA-48 escape sequences: scan reads text as a terminal shows it (README: "ANSI" cleanup)
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def literally_in(token: str, data: bytes) -> bool:
    """Is a value scan reported literally in its input?  As is, or with quoted-printable soft
    breaks and =3D undone (the only joins scan makes across lines), or ANSI escapes removed
    (a value coloured in pieces, as grep --color prints it)."""
    def unsoft(b: bytes) -> bytes:
        return re.sub(rb"=\r?\n", b"", b).replace(b"=3D", b"=")
    plain = _ANSI.sub(b"", data)
    t = token.lower().encode()
    return any(t in h.lower() for h in (data, unsoft(data), plain, unsoft(plain),
                                         _ANSI.sub(b"", unsoft(data))))


# --- shared by tests/test_robustness_*.py --------------------------------------------------

def _pipeline(script: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """bash pipeline; $U runs uffdpte; exits with uffdpte's own status (PIPESTATUS)."""
    return subprocess.run(["bash", "-c", "set -o pipefail; " + script], capture_output=True,
                          timeout=timeout, cwd=ROOT,
                          env={**os.environ, "U": f"{shlex.quote(sys.executable)} -m uffdpte"})


#: tokens the rule accepts / rejects, and separators (hypothesis)
_valid = st.builds(
    lambda v, fmt, label: (label + fmt(v)).encode(),
    st.one_of(st.integers(0, U64), st.integers(0, 0xfff), st.sampled_from([0, U64])),
    st.sampled_from([lambda v: "%x" % v, lambda v: "%016x" % v, lambda v: "0x%x" % v,
                     lambda v: "0X%X" % v, lambda v: "%X" % v, lambda v: "000%x" % v]),
    st.sampled_from(["", "", "", "pte:", "PMD=", "pud:"]))
_hex = st.text("0123456789abcdef", min_size=1, max_size=8)
_invalid = st.one_of(
    st.builds(lambda s, h: s + h, st.sampled_from(["-", "+", "-0x"]), _hex),
    st.builds(lambda a, b: a + "_" + b, _hex, _hex),
    st.builds(lambda a, d: a + d, st.sampled_from(["", "1", "0x"]),
              st.text("１２３٣٤०", min_size=1, max_size=3)),
    st.sampled_from(["0x", "0X", "pte:", "pmd=0x", "zz", "xyz", "0xg", "ffffg"]),
    st.builds(lambda h: "1" + h + "0" * 16, _hex),  # over 64 bits
    st.builds(lambda a, b: a + "\x00" + b, _hex, _hex),
).map(lambda s: s.encode()) | st.builds(lambda h: b"\xff" + h.encode() + b"\xc3\x28", _hex)
_sep = st.sampled_from([b" ", b",", b"\t", b", ", b" ,\t", b"\x0b", b"  "])


# =============================================================================================
# Input: the table
# =============================================================================================

@dataclass
class Case:
    id: str
    args: list  # after "python -m uffdpte"; "{tmp}" is the shared scratch directory
    stdin: bytes | Callable[[], bytes] | None = None
    values: list[int] | None = None  # decode: the records, in order
    #: decode: the stderr lines, in order: (where, quoted token or None, reason)
    errors: list[tuple[str, str | None, str]] = field(default_factory=list)
    status: int = 0
    check: Callable[[subprocess.CompletedProcess, Path], None] | None = None  # scan rows


def _values_line() -> bytes:  # ~10 MB of values on one line, no newline
    return b"8000000071c00227," * (10 * MB // 17)


def _check_values_line(r, tmp):
    n = 10 * MB // 17
    lines = r.stdout.split(b"\n")
    assert len(lines) == n + 1 and lines[-1] == b""
    assert all(line.startswith(b"0x8000000071c00227 present") for line in lines[::9973])
    assert lines[n - 1].startswith(b"0x8000000071c00227 present")
    assert r.stderr == b""


def _scan_missing_and_directory(r, tmp):
    err = err_lines(r.stderr)
    assert err == [f"uffdpte: scan: {tmp}/missing.txt: No such file or directory",
                   f"uffdpte: scan: {tmp}: Is a directory"]
    out = r.stdout.decode()
    assert out.splitlines()[0].startswith(f"{tmp}/good.txt:1:60: pte 0x8000000071c00227 present")
    assert len(out.splitlines()) == 2  # pte and pmd of the good file, after the bad ones


def _scan_passes_through(data: bytes):
    def check(r, tmp):
        assert r.stdout == data
        assert r.stderr == b""
    return check


def _scan_crlf(r, tmp):
    lines = r.stdout.split(b"\r\n")
    assert lines[0] == b"\x00\xff junk \xc3\x28"
    assert lines[1] == BAD_PAGE_MAP.rstrip(b"\n")
    assert lines[2].startswith(b"    uffdpte: pte 0x8000000071c00227 present")
    assert lines[3].startswith(b"    uffdpte: pmd 0x000000010a5d8067 present")


F40 = "f" * 40

CASES = [
    # --- blank input ----------------------------------------------------------------------
    Case("empty-input", DECODE + ["-"], b"", []),
    Case("empty-line", DECODE + ["-"], b"\n", []),
    Case("blank-lines-between-values", DECODE + ["-"], b"1\n\n\n2\n\n", [1, 2]),
    Case("whitespace-only", DECODE + ["-"], b" \t \n\t\r\n   \n\x0b\x0c\n", []),
    Case("whitespace-line-between-values", DECODE + ["-"], b"1\n   \t\n2\n", [1, 2]),
    # --- prefixes, digits, width ------------------------------------------------------------
    Case("0x-alone", DECODE + ["-"], b"0x\n1\n", [1],
         [("-:1", "'0x'", "'0x' with no digits")], 1),
    Case("0X-alone", DECODE + ["-"], b"1 0X\n", [1], [("-:1", "'0X'", "'0x' with no digits")], 1),
    Case("non-hex-letters", DECODE + ["-"], b"zz\n1 xyz\n0xg1\n", [1],
         [("-:1", "'zz'", "not a hex value"), ("-:2", "'xyz'", "not a hex value"),
          ("-:3", "'0xg1'", "not a hex value")], 1),
    Case("64-bit-max", DECODE + ["-"], b"ffffffffffffffff\n0xFFFFFFFFFFFFFFFF\n", [U64, U64]),
    Case("leading-zeros-beyond-16-digits", DECODE + ["-"],
         b"0000000000000000000000000001\n0x00000000000000000000ff\n", [1, 0xff]),
    Case("65-bit", DECODE + ["-"], b"10000000000000000\n1\n", [1],
         [("-:1", "'10000000000000000'", "over 64 bits (17 significant hex digits)")], 1),
    Case("65-bit-0x", DECODE + ["-"], b"0x1ffffffffffffffff\n", [],
         [("-:1", "'0x1ffffffffffffffff'", "over 64 bits (17 significant hex digits)")], 1),
    Case("1000-digits", DECODE + ["-"], b"f" * 1000 + b"\n2\n", [2],
         [("-:1", f"'{F40}… (1000 chars)'", "over 64 bits (1000 significant hex digits)")], 1),
    Case("signs", DECODE + ["-"], b"-1 +1\n-0x1f\n+ff 2\n", [2],
         [("-:1", "'-1'", "signed value"), ("-:1", "'+1'", "signed value"),
          ("-:2", "'-0x1f'", "signed value"), ("-:3", "'+ff'", "signed value")], 1),
    Case("fullwidth-digits", DECODE + ["-"], "１２３\n1\n".encode(), [1],
         [("-:1", "'１２３'", "non-ASCII characters")], 1),
    Case("arabic-indic-digits", DECODE + ["-"], "٣٤\n0x٣\n".encode(), [],
         [("-:1", "'٣٤'", "non-ASCII characters"), ("-:2", "'0x٣'", "non-ASCII characters")], 1),
    Case("ascii-and-arabic-indic", DECODE + ["-"], "1١ 2\n".encode(), [2],
         [("-:1", "'1١'", "non-ASCII characters")], 1),
    Case("underscores", DECODE + ["-"], b"ff_ff\n0x_1\n1_ 3\n", [3],
         [("-:1", "'ff_ff'", "underscores are not allowed in values"),
          ("-:2", "'0x_1'", "underscores are not allowed in values"),
          ("-:3", "'1_'", "underscores are not allowed in values")], 1),
    Case("0x-and-0X-prefixes", DECODE + ["-"], b"0x1f 0X1F 0Xff 0xFf\n", [0x1f, 0x1f, 0xff, 0xff]),
    Case("decimal-looking-is-hex", DECODE + ["-"], b"10 99\n12345\n", [0x10, 0x99, 0x12345]),
    # --- separators, line ends, comments, labels ----------------------------------------------
    Case("comma-space-tab", DECODE + ["-"], b"1,2 3\t4\n", [1, 2, 3, 4]),
    Case("runs-of-separators", DECODE + ["-"], b",1,,2 ,\t 3,\n", [1, 2, 3]),
    Case("vt-and-ff-separate", DECODE + ["-"], b"1\x0b2\x0c3\n", [1, 2, 3]),
    Case("crlf", DECODE + ["-"], b"1\r\n2\r\n", [1, 2]),
    Case("crlf-error-line", DECODE + ["-"], b"zz\r\n3\r\n", [3],
         [("-:1", "'zz'", "not a hex value")], 1),
    Case("comments", DECODE + ["-"], b"1 # 2 zz\n# 3\n4#5\n", [1, 4]),
    Case("level-labels", DECODE + ["-"], b"pte:1 PMD=2 pud:0x3\n", [1, 2, 3]),
    Case("empty-labels", DECODE + ["-"], b"pte: pmd=0x 1\n", [1],
         [("-:1", "'pte:'", "empty value"), ("-:1", "'pmd=0x'", "'0x' with no digits")], 1),
    Case("last-line-without-newline", DECODE + ["-"], b"1\n2", [1, 2]),
    # --- bytes that are not text ----------------------------------------------------------------
    Case("nul-inside-token", DECODE + ["-"], b"1\x002\n3\n", [3],
         [("-:1", r"'1\x002'", "contains a NUL byte")], 1),
    Case("nul-between-values", DECODE + ["-"], b"1 \x00 2\n", [1, 2],
         [("-:1", r"'\x00'", "contains a NUL byte")], 1),
    Case("invalid-utf8", DECODE + ["-"], b"\xff\xfe\n1\n", [1],
         [("-:1", None, "not valid UTF-8 text")], 1),
    Case("invalid-utf8-inside-token", DECODE + ["-"], b"1\xc3\x28 2\n", [2],
         [("-:1", None, "not valid UTF-8 text")], 1),
    # documented rule: only ASCII whitespace separates and a BOM is not stripped -- both are
    # rejected with the reason (a paste from a web page or Notepad)
    Case("utf8-bom", DECODE + ["-"], "\ufeff1\n2\n".encode(), [2],
         [("-:1", r"'\ufeff1'", "non-ASCII characters")], 1),
    Case("nbsp-is-not-a-separator", DECODE + ["-"], "1\u00a02\n".encode(), [],
         [("-:1", r"'1\xa02'", "non-ASCII characters")], 1),
    # --- 10 MB lines without a newline -------------------------------------------------------
    Case("10MB-token-no-newline", DECODE + ["-"], lambda: b"f" * (10 * MB), [],
         [("-:1", f"'{F40}… (10485760 chars)'", "over 64 bits (10485760 significant")], 1),
    Case("10MB-junk-line-then-value", DECODE + ["-"], lambda: b"z" * (10 * MB) + b"\n1\n", [1],
         [("-:1", "'" + "z" * 40 + "… (10485760 chars)'", "not a hex value")], 1),
    Case("10MB-comment-no-newline", DECODE + ["-"], lambda: b"1 #" + b"x" * (10 * MB), [1]),
    Case("10MB-of-values-no-newline", DECODE + ["-"], _values_line, check=_check_values_line),
    # --- arguments ----------------------------------------------------------------------------
    Case("arguments", DECODE + ["--", "1", "ff_ff", "", " ", "2,3", "-5", "0x", "pmd:4"],
         None, [1, 2, 3, 4],
         [("argument 2", "'ff_ff'", "underscores"), ("argument 3", "''", "empty value"),
          ("argument 4", "' '", "empty value"), ("argument 6", "'-5'", "signed value"),
          ("argument 7", "'0x'", "'0x' with no digits")], 1),
    Case("argument-with-newline-and-tab", DECODE + ["--", "1\n2\t3"], None, [1, 2, 3]),
    Case("argument-invalid-utf8", DECODE + [b"\xff", "1"], None, [1],
         [("argument 1", None, "not valid UTF-8 text")], 1),
    Case("argument-fullwidth", DECODE + ["１"], None, [],
         [("argument 1", "'１'", "non-ASCII characters")], 1),
    Case("arguments-and-stdin-in-order", DECODE + ["1", "-", "zz"], b"3\nzz\n", [1, 3],
         [("-:2", "'zz'", "not a hex value"), ("argument 2", "'zz'", "not a hex value")], 1),
    Case("arguments-ignore-stdin", DECODE + ["1"], b"2\n", [1]),
    # no stdin bytes given: stdin is /dev/null (in every row without stdin)
    Case("stdin-devnull-no-arguments", DECODE, None, []),
    Case("stdin-devnull-dash", DECODE + ["-"], None, []),
    # --- scan ---------------------------------------------------------------------------------
    Case("scan-missing-file-and-directory",
         ["scan", "--only", "--no-alternatives", "{tmp}/missing.txt", "{tmp}", "{tmp}/good.txt"],
         status=1, check=_scan_missing_and_directory),
    Case("scan-bytes-and-crlf", ["scan", "--no-alternatives", "-"],
         b"\x00\xff junk \xc3\x28\r\n" + BAD_PAGE_MAP.replace(b"\n", b"\r\n"),
         check=_scan_crlf),
    Case("scan-binary-passes-through", ["scan", "-"], bytes(range(256)) * 64,
         check=_scan_passes_through(bytes(range(256)) * 64)),
    Case("scan-10MB-line-no-newline", ["scan", "{tmp}/long.txt"],
         check=_scan_passes_through(b"PGD " + b"ab" * (5 * MB))),
    Case("scan-empty-file", ["scan", "{tmp}/empty.txt"], check=_scan_passes_through(b"")),
    Case("scan-stdin-devnull", ["scan"], check=_scan_passes_through(b"")),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("robust")
    (d / "good.txt").write_bytes(BAD_PAGE_MAP)
    (d / "long.txt").write_bytes(b"PGD " + b"ab" * (5 * MB))
    (d / "empty.txt").write_bytes(b"")
    return d


_RESULTS: dict[str, subprocess.CompletedProcess] = {}


def run_case(case: Case, tmp: Path) -> subprocess.CompletedProcess:
    """Each row runs once; the per-row test and the whole-table check share the result."""
    if case.id not in _RESULTS:
        args = [a.replace("{tmp}", str(tmp)) if isinstance(a, str) else a for a in case.args]
        stdin = case.stdin() if callable(case.stdin) else case.stdin
        _RESULTS[case.id] = cli(*args, stdin=subprocess.DEVNULL if stdin is None else stdin)
    return _RESULTS[case.id]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_input_table(case: Case, scratch: Path):
    r = run_case(case, scratch)
    no_traceback(r)
    assert r.returncode == case.status, r.stderr.decode("utf-8", "replace")[-2000:]
    if case.check is not None:
        case.check(r, scratch)
        return
    assert records(r.stdout) == case.values
    err = err_lines(r.stderr)
    assert len(err) == len(case.errors), err  # exactly one line per rejected token
    for line, (where, quoted, reason) in zip(err, case.errors):
        assert line.startswith(f"uffdpte: {where}: "), line
        if quoted is not None:
            assert line.startswith(f"uffdpte: {where}: {quoted}: "), line
        assert reason in line, line
        assert len(line) < 300, line  # a bad token is quoted bounded, however long


def test_no_traceback_anywhere_in_the_table(scratch: Path):
    """Across the whole table (every row, run once): never a traceback on stderr."""
    bad = [c.id for c in CASES if b"Traceback" in run_case(c, scratch).stderr]
    assert bad == []


def test_signed_argument_without_double_dash_is_a_usage_error():
    """`uffdpte decode -5`: click reads -5 as an option (exit 2, usage); `decode -- -5` is the
    per-token rejection (exit 1, tested in the table)."""
    r = cli(*DECODE, "1", "-5")
    no_traceback(r)
    assert r.returncode == 2 and r.stdout == b""
    assert "No such option" in r.stderr.decode()


# --- closed standard streams --------------------------------------------------------------------

def sh(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a sh script with $PY (this interpreter) -m uffdpte; for fd games like <&-."""
    return subprocess.run(["sh", "-c", script, "sh", *args], capture_output=True,
                          timeout=timeout, cwd=ROOT,
                          env={**os.environ, "PY": sys.executable})


def test_closed_stdin_with_arguments_decodes_them():
    r = sh(f'exec "$PY" -m uffdpte {shlex.join(DECODE)} 1 ff_ff <&-')
    no_traceback(r)
    assert r.returncode == 1 and records(r.stdout) == [1]
    assert err_lines(r.stderr) == ["uffdpte: argument 2: 'ff_ff': underscores are not allowed "
                                   "in values"]





@pytest.mark.parametrize("cmd, status", [
    (f"{shlex.join(DECODE)} -", 1),  # stdin named and unreadable: a rejected input
    (shlex.join(DECODE), 2),  # no values and no stdin: a usage error
    ("scan -", 1),
    ("scan", 2),
], ids=["decode-dash", "decode-no-args", "scan-dash", "scan-no-args"])
def test_closed_stdin(cmd, status):
    r = sh(f'exec "$PY" -m uffdpte {cmd} <&-')
    no_traceback(r)
    assert r.returncode == status
    assert r.stderr.strip(), "the closed stdin is named on stderr"


@pytest.mark.parametrize("cmd", [f"{shlex.join(DECODE)} 1", "scan -"])
def test_closed_stdout(cmd):
    r = sh(f'printf "%s" "$1" | "$PY" -m uffdpte {cmd} >&-', BAD_PAGE_MAP.decode())
    no_traceback(r)
    assert r.returncode == 1  # README: stdout closed before the run
