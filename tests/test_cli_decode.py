"""The decode command as a user runs it: arguments, stdin, JSON contract, bad input, exits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from uffdpte.entry import RECORD_KEYS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uffdpte", *args], input=stdin,
                          capture_output=True, timeout=60)


def test_plain_line_is_greppable():
    r = run("decode", "--arch", "x86_64", "--kernel", "6.12", "0x8000000071c00227")
    assert r.returncode == 0, r.stderr
    fields = r.stdout.decode().split()
    assert fields[:3] == ["0x8000000071c00227", "present", "pfn=0x71c00"]
    assert "flags=PRESENT,RW,USER,ACCESSED,SPECIAL,NX" in fields


def test_json_lines_contract_from_stdin():
    r = run("decode", "--json", "--arch", "x86_64", "-",
            stdin=b"8000000071c00227\n07ffffffffdb9600 0xfffffffffffff600\n")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [x["state"] for x in recs] == ["present", "swap", "marker"]
    for rec in recs:
        assert tuple(rec)[:len(RECORD_KEYS)] == RECORD_KEYS
        assert rec["level"] == "pte" and rec["arch"] == "x86_64"
    assert recs[0]["input"] == "8000000071c00227"
    assert recs[1]["swp_offset"] == 0x1234 and recs[1]["swp_entry"] == "0x0000000000001234"
    assert recs[2]["markers"] == ["GUARD"]


def test_alternatives_name_what_differs():
    # issue 4: 0x4 is invalid for mainline, and exactly the 2021 special PTE
    r = run("decode", "--json", "--arch", "x86_64", "0x4")
    rec = json.loads(r.stdout)
    assert rec["state"] == "invalid" and rec["swp_offset"] == (1 << 50) - 1
    alts = {a["subtype"]: a for a in rec["alternatives"]}
    assert alts["special_pte"]["state"] == "marker"
    assert alts["special_pte"]["differs"] == [{"scheme": "special-pte"}]


def test_pinning_everything_leaves_no_alternatives():
    r = run("decode", "--json", "--arch", "x86_64", "--kernel", "6.12", "--config", "all",
            "--levels", "4", "--scheme", "marker", "0xF7FFFFFFFDB97400")
    assert json.loads(r.stdout)["alternatives"] == []


def test_bad_tokens_are_named_and_the_rest_decoded():
    r = run("decode", "--arch", "x86_64", "-",
            stdin=b"0x1\nzz\n\n0x\n+5 ff_ff\n\xff\xfe\n12345678901234567\n\xef\xbc\x91\n0x2\n")
    assert r.returncode == 1
    out = r.stdout.decode().splitlines()
    assert [line.split()[0] for line in out] == ["0x0000000000000001", "0x0000000000000002"]
    err = r.stderr.decode()
    assert "Traceback" not in err
    for needle in ["-:2: 'zz'", "-:4: '0x'", "-:5: '+5': signed", "-:5: 'ff_ff': underscores",
                   "-:6:", "-:7: '12345678901234567': over 64 bits", "-:8:"]:
        assert needle in err, needle


def test_usage_errors_exit_2():
    assert run("decode", "--kernel", "banana", "0x1").returncode == 2
    assert run("decode", "--arch", "arm64", "--config", "MEM_SOFT_DIRTY=y", "1").returncode == 2
    r = run("decode", "--bogus")
    assert r.returncode == 2 and b"Traceback" not in r.stderr


def test_every_value_of_a_multi_chunk_stream_comes_out_in_order():
    # many 64 KiB reads: the fast path and batch flushes must not lose a line
    n = 150_000
    data = "".join("%016x\n" % (i * 0x1000 | 0x67) for i in range(n)).encode()
    r = run("decode", "--arch", "x86_64", "--kernel", "6.12", "--config", "all", "--levels",
            "4", "--scheme", "marker", "-", stdin=data)
    out = r.stdout.decode().splitlines()
    assert r.returncode == 0 and len(out) == n
    assert [int(x.split()[0], 16) for x in out[::9973]] == [i * 0x1000 | 0x67
                                                            for i in range(0, n, 9973)]


def test_head_closes_the_pipe_quietly():
    gen = subprocess.Popen([sys.executable, "-c",
                            "import sys\nfor i in range(200000): sys.stdout.write('%x\\n' % i)"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    dec = subprocess.Popen([sys.executable, "-m", "uffdpte", "decode", "--arch", "x86_64", "-"],
                           stdin=gen.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gen.stdout.close()
    first = dec.stdout.readline()
    dec.stdout.close()
    err = dec.stderr.read()
    dec.wait(timeout=60)
    gen.wait(timeout=60)
    assert first.startswith(b"0x0000000000000000 none")
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert dec.returncode == 141  # as `cat | head`: killed-by-SIGPIPE status, no noise


def test_python_m_and_profiles():
    r = run("profiles", "--arch", "x86_64")
    assert r.returncode == 0 and b"4.19" in r.stdout and b"L1TF" in r.stdout
    doc = json.loads(run("profiles", "--json").stdout)
    assert doc["newest"] == "7.2" and "arm64" in doc["arches"]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.values")))
def test_example_value_files_decode_cleanly(name):
    text = (EXAMPLES / name).read_bytes()
    cmd = text.splitlines()[0].decode().removeprefix("# uffdpte ").split()
    r = run(*cmd[:-1], "--json", "-", stdin=text)
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert recs and all(not rec["problems"] and rec["state"] != "invalid" for rec in recs)


def test_swp_entry_check_reads_a_printed_swp_entry_t_back():
    """x86_64 6.12: SWP_TYPE_SHIFT 58 (include/linux/swapops.h), type 31 offset 1 is the
    uffd-wp marker; __swp_entry puts type in 63:59 and ~offset in 58:9 (L1TF)."""
    from uffdpte.classify import decoder_for
    from uffdpte.profile import resolve
    d = decoder_for(resolve("x86_64", "6.12"))
    assert d.swp_entry_check(0x7C00000000000001) == (0xFFFFFFFFFFFFFC00, 31, 1, [])
    pte, t, off, unfit = d.swp_entry_check((1 << 64) - 1)
    assert (t, off) == (63, (1 << 58) - 1)
    assert [p.split(":")[0] for p in unfit] == ["bits 63-63 set",
                                                "offset 0x3ffffffffffffff does not fit the "
                                                "arch swap offset field (50 bits)"]


def test_decode_swp_entry_rejects_what_the_pte_cannot_hold():
    r = run("decode", "--arch", "x86_64", "--kernel", "6.12", "--swp-entry",
            "7c00000000000001", "ffffffffffffffff")
    assert r.returncode == 1
    assert r.stdout.decode().split()[:2] == ["0xfffffffffffffc00", "marker/pte_marker"]
    err = [ln for ln in r.stderr.decode().splitlines() if not ln.startswith("uffdpte: note:")]
    assert len(err) == 1 and err[0].startswith(
        "uffdpte: argument 2: 'ffffffffffffffff': not a swp_entry_t this profile's swap PTE can "
        "hold (type 63, offset 0x3ffffffffffffff): bits 63-63 set")
