"""uffdpte scan as a user runs it: pass-through, --only, --json, options, exits, --follow."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from uffdpte.entry import RECORD_KEYS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLES = sorted(EXAMPLES.glob("*.txt"))
ROOT = EXAMPLES.parent

SCAN_KEYS = ("source", "line", "column", "level", "message", "profile_source", "crosscheck")


def run(*args: str, stdin: bytes | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uffdpte", "scan", *args], input=stdin,
                          capture_output=True, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_text_passes_through_unchanged(path):
    r = run(str(path.relative_to(ROOT)))
    assert r.returncode == 0, r.stderr
    original = path.read_bytes()
    # annotation lines are indented "uffdpte:" lines, in the text's own line ending
    kept = [ln for ln in r.stdout.split(b"\n") if not ln.startswith(b"    uffdpte: ")]
    assert b"\n".join(kept) == original
    assert r.stdout.count(b"\n    uffdpte: ") > 0


def test_annotations_follow_their_line():
    r = run("examples/x86_64-debian-6.1-dmesg.txt", "--no-alternatives")
    lines = r.stdout.decode().splitlines()
    i = next(i for i, ln in enumerate(lines) if "pte:8000000071c00227" in ln)
    assert lines[i + 1].split()[:5] == ["uffdpte:", "pte", "0x8000000071c00227", "present",
                                        "pfn=0x71c00"]
    assert "crosscheck: dump_page pfn:0x71c00 (line 7) agrees" in lines[i + 1]
    assert lines[i + 1].endswith("(kernel: text line 14)")
    assert lines[i + 2].split()[:3] == ["uffdpte:", "pmd", "0x000000010a5d8067"]
    assert lines[i + 3].startswith("[   63.912130] page:")
    # the CRLF sample gets CRLF annotations
    r = run("examples/mail-quoted-printable.txt")
    assert b"    uffdpte: pte 0x8000000071c00227" in r.stdout
    for ln in r.stdout.split(b"\n"):
        if ln.startswith(b"    uffdpte: "):
            assert ln.endswith(b"\r")


def test_only_prints_located_decodes():
    r = run("--only", "--no-alternatives", "examples/mixed-reports.txt")
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 19
    assert lines[12].startswith("examples/mixed-reports.txt:54:50: swp_entry_t "
                                "0x6800000000012345 type=26 offset=0x12345 -> pte "
                                "0xd7fffffffdb97400 migration/migration_write")
    assert lines[0].startswith("examples/mixed-reports.txt:7:20: pgd 0x800000010a5d6067 present")


def test_json_contract():
    r = run("--json", "examples/journal-7.2-ansi.txt")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(recs) == 13
    for rec in recs:
        assert tuple(rec)[:len(RECORD_KEYS)] == RECORD_KEYS
        for k in SCAN_KEYS:
            assert k in rec
        assert isinstance(rec["line"], int) and isinstance(rec["column"], int)
        assert rec["source"] == "examples/journal-7.2-ansi.txt"
        assert rec["profile_source"].startswith("text line ")
    line4 = (EXAMPLES / "journal-7.2-ansi.txt").read_bytes().split(b"\n")[3]
    assert recs[0]["crosscheck"] == {"kind": "dump_page", "line": 4,
                                     "column": line4.index(b"pfn:0x71c00") + 5,
                                     "printed": "0x71c00", "decoded": "0x71c00",
                                     "agrees": True}


def test_stdin_and_source_name():
    data = (EXAMPLES / "mixed-reports.txt").read_bytes()
    r = run("--json", "-", stdin=data)
    recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(recs) == 19 and {x["source"] for x in recs} == {"-"}
    r = run("--json", stdin=data)  # no FILES, stdin not a terminal: read it
    assert len(r.stdout.decode().splitlines()) == 19


def test_missing_file_is_named_and_others_still_scanned(tmp_path):
    r = run("--only", "examples/crash-session.txt", str(tmp_path / "nope.txt"), str(tmp_path),
            "examples/mail-quoted-printable.txt")
    assert r.returncode == 1
    err = r.stderr.decode()
    assert f"uffdpte: scan: {tmp_path / 'nope.txt'}: No such file or directory" in err
    assert f"uffdpte: scan: {tmp_path}: Is a directory" in err
    out = r.stdout.decode()
    assert "examples/crash-session.txt:30:29:" in out
    assert "examples/mail-quoted-printable.txt:13:62:" in out


@pytest.mark.parametrize("args", [
    ("--json", "--only", "examples/crash-session.txt"),
    ("--arch", "arm64", "--kernel", "6.1.0-13-amd64", "examples/crash-session.txt"),
    ("--config", "MEM_SOFT_DIRTY=y", "--arch", "arm64", "examples/crash-session.txt"),
    ("--no-such-option",),
])
def test_usage_errors_exit_2(args):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == b""


def test_summary_on_request():
    r = run("--stats", "--only", "examples/x86_64-debian-6.1-dmesg.txt")
    err = r.stderr.decode()
    assert ("uffdpte: scan: 14 values (dump_pagetable 5, print_bad_pte 6, swap_entry 3); "
            "crosschecks: 1 agrees, 1 disagrees") in err
    r = run("--only", "examples/x86_64-debian-6.1-dmesg.txt")  # stderr not a terminal
    assert r.stderr == b""
    r = run("--stats", "--only", "examples/crash-session.txt")
    assert "recognised without an entry value: crash_vm_p 3" in r.stderr.decode()


def test_histogram_summary():
    r = run("--summary", "--json", "examples/x86_64-debian-6.1-dmesg.txt")
    recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert sum(x["values"] for x in recs) == 14  # every value the scan finds, counted once
    assert recs[0]["messages"] == {"dump_pagetable": 5, "print_bad_pte": 6, "swap_entry": 3}
    assert all(x["kernel"] == "6.1.0-13-amd64" for x in recs)
    assert {x["level"] for x in recs} >= {"pte", "pmd"}
    assert b"uffdpte:" not in r.stdout  # no annotations, no text


def test_options_pin_and_override_the_text():
    r = run("--json", "--kernel", "6.12", "--config", "all",
            "examples/x86_64-debian-6.1-dmesg.txt")
    recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert {x["profile_source"] for x in recs} == {"option"}
    assert {x["kernel"] for x in recs} == {"6.12"}
    hw = [x for x in recs if x["input"] == "d7fffffffdb97400"][0]
    # kernel-facts 1.3/2.7: 6.12 all on, type 26 = MIGRATION_WRITE
    assert (hw["state"], hw["subtype"], hw["pfn"]) == ("migration", "migration_write", 0x12345)
    # the options win over a message's shape, and the record says so
    r = run("--json", "--arch", "x86_64", "examples/arm64-show-pte.txt")
    rec = json.loads(r.stdout.decode().splitlines()[0])
    assert rec["arch"] == "x86_64" and rec["profile_sources"]["arch"] == "option"
    assert any("shape is arm64" in n for n in rec["scan_notes"])


def test_binary_junk_long_lines_and_bad_values(tmp_path):
    junk = bytes(range(256)) * 4 + b"\x00\xff\xfe pte:\x00 \xc3\x28 BUG: \x80\n"
    long_line = b"BUG: Bad page map in process x  pte:" + b"8" * 9000 + b"\n"
    endless = b"PGD " + b"ab" * (3 << 20)  # no newline, over the reader's limit
    bad = (b"BUG: Bad page map in process a  pte:18000000071c00227 pmd:10a5d8067\n"
           b"BUG: Bad page map in process a  pte:80000000=\n")  # value cut at the end
    data = junk + long_line + bad + endless
    p = tmp_path / "junk.txt"
    p.write_bytes(data)
    r = run(str(p), "--stats")
    assert r.returncode == 0
    assert r.stdout == data  # nothing decoded, nothing changed
    err = r.stderr.decode()
    assert "uffdpte: scan: 0 values" in err
    assert "line over 8192 bytes: not scanned (2)" in err
    assert "print_bad_pte: line does not match the format (2)" in err


def test_head_closes_the_pipe_quietly(tmp_path):
    big = (EXAMPLES / "x86_64-debian-6.1-dmesg.txt").read_bytes() * 400
    p = tmp_path / "big.txt"
    p.write_bytes(big)
    r = subprocess.run(["bash", "-c", f"{sys.executable} -m uffdpte scan {p} | head -1; "
                                      "exit ${PIPESTATUS[0]}"], capture_output=True,
                       timeout=60, cwd=ROOT)
    assert r.returncode == 141
    assert r.stderr == b""
    assert r.stdout.startswith(b"[    0.000000] Linux version")


def test_raw_output_batches_and_a_closed_pipe_is_quiet():
    import io

    from uffdpte.streams import Output, PipeClosed, RawOutput

    buf = io.BytesIO()
    out = RawOutput(buf)
    out.LIMIT = 8
    out.write(b"12345")
    assert buf.getvalue() == b""  # batched
    out.write(b"6789")  # over LIMIT: written at once
    assert buf.getvalue() == b"123456789" and out.size == 0
    out.write(b"x")
    out.flush()
    assert buf.getvalue() == b"123456789x"
    text = io.BytesIO()
    lines = Output(text)
    lines.add("a")
    lines.flush()
    assert text.getvalue() == b"a\n"

    class Closed(io.BytesIO):
        def write(self, data):
            raise BrokenPipeError

    for o in (RawOutput(Closed()), Output(Closed())):
        o.write(b"y") if isinstance(o, RawOutput) else o.add("y")
        with pytest.raises(PipeClosed):
            o.flush()


def _readline(stream, timeout: float) -> bytes:
    """One line from a pipe, or b'' after timeout seconds."""
    buf = b""
    end = time.monotonic() + timeout
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return buf
        chunk = os.read(fd, 1)
        if not chunk:
            return buf
        buf += chunk
    return buf


def test_follow_decodes_when_the_input_pauses():
    p = subprocess.Popen([sys.executable, "-m", "uffdpte", "scan", "--follow", "--only",
                          "--no-alternatives"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         cwd=ROOT)
    try:
        # a report whose version line came first (dmesg -w: the boot banner) ...
        p.stdin.write(b"[    0.000000] Linux version 6.1.0-13-amd64 (debian-kernel@lists."
                      b"debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1\n")
        p.stdin.write(b"[   63.912126] BUG: Bad page map in process uffd-test  "
                      b"pte:8000000071c00227 pmd:10a5d8067\n")
        p.stdin.flush()
        # ... is decoded when the input pauses, not when it ends
        line = _readline(p.stdout, 20)
        assert line.startswith(b"-:2:60: pte 0x8000000071c00227 present pfn=0x71c00")
        assert line.rstrip().endswith(b"(kernel: text line 1)")
        assert _readline(p.stdout, 20).startswith(b"-:2:81: pmd 0x000000010a5d8067 present")
        p.stdin.write(b"[   64.000000] get_swap_device: Bad swap file entry 400000000001234\n")
        p.stdin.flush()
        line = _readline(p.stdout, 20)
        assert line.startswith(b"-:3:53: swp_entry_t 0x0400000000001234 type=1")
    finally:
        p.stdin.close()
        p.wait(timeout=20)
        p.stdout.close()
    assert p.returncode == 0


def test_json_keeps_profile_notes_and_swp_entry_problems():
    """profile_notes come from the resolved profile (cached decoders carry none); a printed
    swp_entry_t with bits past its 5-bit type (SWP_TYPE_SHIFT 58 from 4.20) says so once."""
    text = b"[    1.000000] swap_info_get: Bad swap file entry 8000000000001234\n"
    r = run("scan", "--json", "--kernel", "6.13", "--arch", "x86_64", "-", stdin=text)
    d = json.loads(r.stdout.splitlines()[0])
    assert any("6.13" in n for n in d["profile_notes"])
    assert d["state"] == "invalid"
    assert [p.split(":")[0] for p in d["swp_entry_t"]["problems"]] == ["bits 63-63 set"]
