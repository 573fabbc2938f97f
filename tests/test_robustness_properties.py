"""Robustness (issue 8), properties: decode never raises and loses nothing on any stdin,
encode returns a value that decodes back or refuses with a reason, scan never raises and never
reports a value that is not in its input -- plus the scan bugs the fuzz harness found.
Helpers and the token rule: tests/test_robustness.py.
"""

from __future__ import annotations

import io
import json
import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_robustness import (BAD_PAGE_MAP, DECODE, U64, _invalid, _pipeline, _sep, _valid,
                             cli, err_lines, literally_in, no_traceback, records, ref_tokens)
from uffdpte.tokens import show


# =============================================================================================
# Properties (hypothesis)
# =============================================================================================

def _runner():
    from click.testing import CliRunner
    try:
        return CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        return CliRunner()  # click >= 8.2: stderr is always separate


def _invoke(args: list[str], stdin: bytes | None = None):
    """In process (click's runner), for many examples: the same command, minus the process."""
    from uffdpte.cli import main
    res = _runner().invoke(main, args, input=stdin, catch_exceptions=True)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback
        raise AssertionError("".join(traceback.format_exception(*res.exc_info)))
    return res


_tokenish = st.lists(st.one_of(
    _valid, _invalid, _sep, st.sampled_from([b"\n", b"\r\n", b"#", b" # ", b"\n\n"]),
    st.binary(max_size=6)), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), _tokenish))
def test_decode_never_raises_and_loses_nothing_on_arbitrary_stdin(data):
    """Any bytes on stdin: exit 0/1, one record per valid token in order, one stderr line per
    rejected token, each naming its line; no exception (checked in process)."""
    res = _invoke([*DECODE, "-"], data)
    toks = ref_tokens(data)
    assert res.exit_code == (1 if any(v is None for _, _, v in toks) else 0)
    assert records(res.stdout_bytes) == [v for _, _, v in toks if v is not None]
    err = err_lines(res.stderr_bytes)
    bad = [(n, t) for n, t, v in toks if v is None]
    assert len(err) == len(bad), (err, bad)
    for line, (n, t) in zip(err, bad):
        assert line.startswith(f"uffdpte: -:{n}: {show(t)}: "), (line, n, t)
    assert "Traceback" not in res.stderr_bytes.decode("utf-8", "replace")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=2000))
def test_decode_never_raises_on_arbitrary_stdin_process(data):
    r = cli(*DECODE, "-", stdin=data)
    no_traceback(r)
    assert r.returncode in (0, 1)
    assert len(records(r.stdout)) == sum(v is not None for _, _, v in ref_tokens(data))


# --- encode ------------------------------------------------------------------------------------

@st.composite
def _encode_cases(draw):
    """(decoder, spec): a random profile and level, a state and only the fields it uses (the
    Spec contract), values in and out of range, flag names real and not."""
    from profiles_under_test import all_profiles
    from uffdpte.classify import decoder_for
    from uffdpte.encode import SUBTYPES, Spec
    from uffdpte.layouts.model import FLAG, IGNORED
    profiles = all_profiles()
    d = decoder_for(profiles[draw(st.integers(0, len(profiles) - 1))],
                    draw(st.sampled_from(["pte", "pte", "pmd", "pud"])))
    num = st.one_of(st.integers(0, 64), st.integers(0, 1 << 40), st.integers(0, U64))
    state = draw(st.sampled_from(["none", "present", "protnone", "swap", "migration", "device",
                                  "hwpoison", "swapin_error", "marker"]))
    form = {"none": "present", "present": "present", "protnone": "protnone"}.get(state, "swap")
    names = sorted(r.name for r in d.forms[form].rows if r.role in (FLAG, IGNORED)) \
        if form in d.forms else []
    flags = tuple(draw(st.lists(st.sampled_from(names + ["BOGUS"]), max_size=3, unique=True)))
    spec = Spec(state)
    if state in ("present", "protnone"):
        spec.pfn, spec.flags = draw(num), flags
        if state == "present":
            spec.subtype = draw(st.sampled_from([None, None, "table", "present_invalid"]))
    elif state == "none":
        spec.flags = flags
    elif state == "swap":
        spec.swp_type, spec.offset = draw(num), draw(num)
    elif state == "marker":
        spec.markers = tuple(draw(st.lists(st.sampled_from(
            ["UFFD_WP", "POISONED", "GUARD", "SWAPIN_ERROR", "BOGUS"]), min_size=1, max_size=3,
            unique=True)))
    else:
        spec.pfn = draw(num)
        spec.subtype = draw(st.sampled_from([None, *SUBTYPES.get(state, ())]))
        if state == "migration":
            spec.young, spec.dirty = draw(st.booleans()), draw(st.booleans())
    if form == "swap" and state != "marker":
        spec.uffd_wp, spec.soft_dirty, spec.exclusive = (draw(st.booleans()) for _ in range(3))
    return d, spec


@settings(max_examples=1500, deadline=None)
@given(_encode_cases())
def test_encode_decodes_back_or_refuses_with_a_reason(case):
    from uffdpte.encode import EncodeError, encode
    d, spec = case
    try:
        raw = encode(spec, d)
    except EncodeError as e:
        assert str(e).strip() and "\n" not in str(e)
        return
    assert 0 <= raw <= U64
    e = d.decode(raw)
    assert not e.problems, e.problems
    if spec.subtype != "present_invalid":
        assert e.state == spec.state
    if spec.subtype:
        assert e.subtype == spec.subtype
    if spec.pfn is not None:
        assert e.pfn == spec.pfn
    if spec.state == "swap":
        assert (e.swp_type, e.swp_offset) == (spec.swp_type, spec.offset)
    if spec.state == "marker":
        assert sorted(e.markers) == sorted(spec.markers)
    assert set(spec.flags) <= set(e.flags)
    for b in ("uffd_wp", "soft_dirty", "exclusive", "young", "dirty"):
        if getattr(spec, b):
            assert getattr(e, b), b


_enc_state = st.sampled_from(["none", "present", "protnone", "swap", "migration", "device",
                              "hwpoison", "swapin-error", "marker", "swp-entry"])
_enc_num = st.one_of(st.integers(0, 40).map(str), st.integers(0, U64).map(hex),
                     st.sampled_from(["0x", "zz", "-1", "1_0", "0x1ffffffffffffffff", "１"]))
_enc_opts = st.lists(st.one_of(
    st.tuples(st.sampled_from(["--pfn", "--type", "--offset"]), _enc_num),
    st.tuples(st.just("--flags"), st.lists(st.sampled_from(
        ["RW", "USER", "NX", "DIRTY", "ACCESSED", "AF", "UXN", "SWP_EXCLUSIVE", "BOGUS"]),
        max_size=3).map(",".join)),
    st.tuples(st.just("--field"), st.sampled_from(["PKEY=3", "ATTRINDX=MT_NORMAL", "NOPE=1",
                                                   "PKEY", "PKEY=zz"])),
    st.tuples(st.just("--subtype"), st.sampled_from(["device_exclusive", "migration_write",
                                                     "bogus", "table"])),
    st.tuples(st.just("--marker"), st.sampled_from(["GUARD", "bogus"])),
    st.sampled_from([("--uffd-wp",), ("--soft-dirty",), ("--exclusive",), ("--young",),
                     ("--dirty",), ("--read",), ("--write",), ("--read-exclusive",),
                     ("--poisoned",), ("--guard",), ("--allow-invalid",), ("--json",)])),
    max_size=5).map(lambda xs: [a for x in xs for a in x])
_enc_profile = st.sampled_from([["--arch", "x86_64"], ["--arch", "arm64"],
                                ["--arch", "arm64", "--kernel", "6.1"],
                                ["--arch", "x86_64", "--kernel", "5.10", "--config", "debian"],
                                ["--arch", "x86_64", "--levels", "5", "--kernel", "6.12"],
                                ["--arch", "arm64", "--page-size", "64k", "--pa-bits", "52"]])


@settings(max_examples=300, deadline=None)
@given(_enc_state, st.one_of(st.none(), _enc_num), _enc_opts, _enc_profile)
def test_encode_cli_prints_a_value_or_refuses_with_exit_2(state, value, opts, profile):
    """Any option soup: exit 0 with one hex line (or decode's JSON record) that decodes
    without problems, or exit 2; a refusal by encode itself is exactly one stderr line."""
    args = ["encode", state, *([value] if value is not None else []), *opts, *profile]
    res = _invoke(args)
    err = res.stderr_bytes.decode()
    assert "Traceback" not in err
    rest = [ln for ln in err.splitlines() if not ln.startswith("uffdpte: note:")]
    if res.exit_code == 0:
        out = res.stdout_bytes.decode()
        assert out.count("\n") == 1 and rest == []
        if "--json" in opts:
            rec = json.loads(out)
            assert "--allow-invalid" in opts or not rec["problems"]
        else:
            assert re.fullmatch(r"0x[0-9a-f]{16}\n", out)
    else:
        assert res.exit_code == 2, (res.exit_code, err)
        assert res.stdout_bytes == b""
        if any(ln.startswith("uffdpte: cannot encode:") for ln in rest):
            assert len(rest) == 1, rest
        else:  # click's usage error
            assert rest and (rest[-1].startswith("Error:") or rest[-1].startswith("uffdpte:"))




@pytest.mark.parametrize("args", [
    pytest.param(["present", "--pfn", "1", "--uffd-wp"], id="present-uffd-wp"),
    pytest.param(["present", "--pfn", "1", "--type", "3", "--offset", "5"],
                 id="present-type-offset"),
    pytest.param(["present", "--pfn", "1", "--young", "--dirty"], id="present-young-dirty"),
    pytest.param(["protnone", "--pfn", "1", "--soft-dirty"], id="protnone-soft-dirty"),
    pytest.param(["none", "--dirty"], id="none-dirty"),
    pytest.param(["swap", "--type", "3", "--offset", "1", "--young"], id="swap-young"),
    pytest.param(["marker", "--uffd-wp", "--young"], id="marker-young"),
    pytest.param(["migration", "--write", "--pfn", "1", "--offset", "5", "--type", "9"],
                 id="migration-offset-type"),
    # these the command already refuses: the behaviour the rows above should have
    pytest.param(["none", "--pfn", "5"], id="none-pfn"),
    pytest.param(["swap", "--type", "3", "--offset", "1", "--pfn", "5"], id="swap-pfn"),
    pytest.param(["marker", "--uffd-wp", "--pfn", "7"], id="marker-pfn"),
    pytest.param(["hwpoison", "--pfn", "1", "--exclusive"], id="hwpoison-exclusive"),
])
def test_encode_refuses_options_that_do_not_apply(args):
    r = cli("encode", *args, "--arch", "x86_64", "--kernel", "7.2")
    no_traceback(r)
    assert r.returncode == 2, f"exit {r.returncode}, printed {r.stdout!r}"
    assert r.stdout == b"" and len(err_lines(r.stderr)) == 1


# --- scan ----------------------------------------------------------------------------------------

_SCAN_PINS = [[], [], ["--arch", "arm64"], ["--arch", "x86_64", "--kernel", "6.1"],
              ["--kernel", "5.10"], ["--arch", "arm64", "--page-size", "64k"],
              ["--arch", "x86_64", "--levels", "5"]]
_kernelish = st.lists(st.sampled_from([
    BAD_PAGE_MAP, b"PGD 10a5d8067 P4D 10a5d8067 PUD 0 ", b"pte:", b"pmd=", b" pte=0x",
    b"CPU: 0 PID: 1 Comm: x Not tainted 6.1.0-13-amd64 #1\n", b"[0000ffff8a400000] pgd=",
    b"user pgtable: 64k pages, 52-bit VAs, pgdp=0000000041c2e000\n", b"=\n", b"=3D", b"> ",
    b"get_swap_device: Bad swap file entry ", b"bad pmd ", b"\r\n", b"\n", b"\x00", b"\xff",
    b"8000000071c00227", b"0x", b"ffffffffffffffffff", b"\x1b[0m", b"crash> pte ",
]) | st.binary(max_size=12), max_size=30).map(b"".join)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=1500), _kernelish,
                 st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))),
       st.sampled_from(_SCAN_PINS))
def test_scan_cli_never_raises_and_reports_only_what_is_there(data, pins):
    """Through the command: exit 0, no traceback, the text passes through unchanged, and every
    JSON record's value is literally in the input (see literally_in)."""
    r = cli("scan", *pins, "-", stdin=data)
    no_traceback(r)
    assert r.returncode == 0
    kept = b"\n".join(ln for ln in r.stdout.split(b"\n") if not ln.startswith(b"    uffdpte: "))
    assert kept in (data, data + b"\n")
    j = cli("scan", "--json", *pins, "-", stdin=data)
    assert j.returncode == 0
    for line in j.stdout.split(b"\n"):
        if line:
            assert literally_in(json.loads(line)["input"], data)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=2000), _kernelish), st.sampled_from([
    {}, {"arch": "arm64"}, {"kernel": "6.1"}, {"arch": "x86_64", "kernel": "5.10"},
    {"arch": "arm64", "page_size": "64k"}, {"arch": "x86_64", "levels": 5},
    {"scheme": "special-pte"}, {"arch": "arm64", "pa_bits": 52, "kernel": "6.12"}]))
def test_scan_never_raises_under_any_pins(data, pins):
    """tests/test_scan_properties.py::test_arbitrary_bytes pins x86_64 only; this varies the
    pins (arm64 geometry, kernels, schemes) -- the same invariants as the fuzz harness."""
    from uffdpte.scan import ANNOTATE, JSON, scan_bytes
    out, _ = scan_bytes(data, mode=ANNOTATE, **pins)
    kept = b"\n".join(ln for ln in out.split(b"\n") if not ln.startswith(b"    uffdpte: "))
    assert kept in (data, data + b"\n")
    jout, _ = scan_bytes(data, mode=JSON, **pins)
    for line in jout.split(b"\n"):  # JSON Lines: "\n" only (records may hold U+0085, U+2028)
        if line:
            rec = json.loads(line)
            assert literally_in(rec["input"], data), rec["input"]
            assert 1 <= rec["line"] <= data.count(b"\n") + 1


# A report's values (line 2) wait for its version line; line 3 ends in a quoted-printable soft
# break, so scan joins lines 3 and 4 -- but only when both arrive in the same read.
SOFT_BREAK = (b"Unable to handle kernel NULL pointer dereference at virtual address "
              b"0000000000000008\n"
              b"[0000000000000008] pgd=0000000000000000, p4d=0000000000000000\n"
              b"x=\n"
              b"BUG: unable to handle kernel paging request at ffffc90000a00000\n"
              b"CPU: 2 PID: 1200 Comm: kworker/2:1 Not tainted 4.19.0-25-amd64 #1 Debian "
              b"4.19.289-2\n")


def test_scan_soft_break_at_a_read_boundary():
    from uffdpte.scan import JSON, scan_bytes
    cut = SOFT_BREAK.index(b"x=\n") + 3
    whole = scan_bytes(SOFT_BREAK, mode=JSON, alternatives=True)[0]
    assert whole and scan_bytes(SOFT_BREAK, mode=JSON, alternatives=True, chunk=cut)[0] == whole


def test_scan_soft_break_at_a_pipe_pause():
    """The same through the command: a file, and the same text written to a pipe in two parts."""
    cut = SOFT_BREAK.index(b"x=\n") + 3
    with_file = cli("scan", "--only", "--no-alternatives", "-", stdin=SOFT_BREAK)
    paused = _pipeline(f"(printf %s {shlex.quote(SOFT_BREAK[:cut].decode())}; sleep 1; "
                       f"printf %s {shlex.quote(SOFT_BREAK[cut:].decode())}) | "
                       "$U scan --only --no-alternatives -")
    assert with_file.returncode == paused.returncode == 0
    assert paused.stdout == with_file.stdout


def test_scan_explains_values_it_cannot_decode():
    text = (b"Unable to handle kernel NULL pointer dereference at virtual address "
            b"0000000000000008\n"
            b"[0000000000000008] pgd=0000000000000000, p4d=0000000000000000\n"
            b"CPU: 2 PID: 1200 Comm: kworker/2:1 Not tainted 4.19.0-25-amd64 #1\n")
    r = cli("scan", "--scheme", "special-pte", "-", stdin=text)
    no_traceback(r)
    annotated = r.stdout.count(b"    uffdpte: ")
    explained = b"special-pte" in r.stderr or b"no possible profile" in r.stderr
    assert annotated == 2 or explained


# --- decode's stdin reader: any read size, any line length, the same tokens -------------------

_PIECES = [b"8000000071c00227", b"0", b"pte:17c0", b"PMD=0x1", b"zz", b"#c", b" ", b"\n", b",",
           b"\t", b"0x", b"\r\n", b"0" * 40 + b"1", b"0x" + b"0" * 30 + b"f" * 16,
           b"f" * 17, b"-1", b"12_34", b"\xff"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.binary(max_size=6)), max_size=40)
       .map(b"".join), st.integers(1, 50), st.integers(8, 40))
def test_streamed_stdin_reads_like_whole_lines(data, chunk, long_line):
    """value_batches (bounded: long lines cut between values, comments dropped as they come,
    huge tokens judged without being held) yields exactly the tokens of the whole lines."""
    from uffdpte import tokens
    direct = [(t.line, t.value, t.level, t.error is None)
              for i, line in enumerate(data.split(b"\n"), 1) for t in tokens.line_tokens(line, i)]
    saved = tokens.LONG_LINE
    tokens.LONG_LINE = long_line  # small, so fuzzed lines are long (but > len("pte=0x"))
    try:
        streamed = []
        for first, item in tokens.value_batches(io.BytesIO(data), chunk=chunk):
            if isinstance(item, bytes):
                streamed += [(t.line, t.value, t.level, t.error is None)
                             for i, line in enumerate(item.split(b"\n"), first)
                             for t in tokens.line_tokens(line, i)]
            else:
                streamed.append((item.line, item.value, item.level, item.error is None))
    finally:
        tokens.LONG_LINE = saved
    assert streamed == direct


def test_a_token_past_long_line_reads_like_any_other():
    """70000 leading zeros then 1 is 1 (leading zeros are fine), held in bounded memory."""
    from uffdpte import tokens
    data = b"pte:0x" + b"0" * 70000 + b"1 " + b"f" * 70000 + b"\n"
    items = [item for _, item in tokens.value_batches(io.BytesIO(data), chunk=4096)]
    toks = [t for item in items for t in (
        tokens.line_tokens(item, 1) if isinstance(item, bytes) else [item])]
    assert [(t.value, t.level) for t in toks] == [(1, "pte"), (None, None)]
    assert toks[1].error == "over 64 bits (70000 significant hex digits)"
    assert all(len(t.text) <= 64 for t in toks)  # only the start of each is kept
