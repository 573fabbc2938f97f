"""`uffdpte pagemap` against the real kernel.

A child process (tests/pagemap_child.py) builds each page state through the kernel's own
interfaces — userfaultfd write-protect (sync and async), MAP_SHARED, PROT_NONE,
MADV_GUARD_INSTALL, THP — and reports where; each test runs ``python -m uffdpte pagemap``
on it and checks every page.  A state the kernel cannot build is skipped with the reason
the kernel gave; nothing here assumes root: PFN checks run only with CAP_SYS_ADMIN.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGE = os.sysconf("SC_PAGE_SIZE")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="/proc/PID/pagemap is Linux-only")


# --- independent facts about this machine (not via uffdpte) -------------------------------

def _cap_eff() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1], 16) for line in f if line.startswith("CapEff:"))


def _init_userns() -> bool:
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split()[:3] == ["0", "0", "4294967295"]
    except OSError:
        return True


#: CAP_SYS_ADMIN (21) in the initial user namespace: the kernel shows PFNs
SEES_PFNS = bool(_cap_eff() >> 21 & 1) and _init_userns()


def _scan_errno() -> int:
    """0 if PAGEMAP_SCAN works here, else the errno of a minimal call (hand-built struct:
    include/uapi/linux/fs.h pm_scan_arg is 12 __u64; _IOWR('f', 16, 96 bytes))."""
    import fcntl
    fd = os.open("/proc/self/pagemap", os.O_RDONLY)
    try:
        arg = bytearray(struct.pack("12Q", 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        fcntl.ioctl(fd, 0xC0606610, arg)
        return 0
    except OSError as e:
        return e.errno or -1
    finally:
        os.close(fd)


SCAN_ERRNO = _scan_errno()
HAS_SCAN = SCAN_ERRNO == 0
NO_SCAN_REASON = (f"PAGEMAP_SCAN unavailable here "
                  f"({errno.errorcode.get(SCAN_ERRNO, SCAN_ERRNO)}; it came in 6.7)")


# --- the child and the command ----------------------------------------------------------

@pytest.fixture(scope="module")
def child():
    p = subprocess.Popen([sys.executable, str(HERE / "pagemap_child.py")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if not line:
            p.wait(timeout=30)
            pytest.fail(f"pagemap_child.py exited with {p.returncode} before reporting")
        info = json.loads(line)
        yield info
    finally:
        p.stdin.close()
        p.wait(timeout=30)


#: a pipe must read as a pipe whatever CI sets (FORCE_COLOR makes any stdout a terminal)
ENV = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}


def uffdpte(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uffdpte", "pagemap", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=ENV,
                          **kw)


def json_lines(res: subprocess.CompletedProcess) -> list[dict]:
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def region(child, name: str) -> tuple[int, int]:
    if name in child["skip"]:
        pytest.skip(child["skip"][name])
    r = child["regions"][name]
    return r["start"], r["pages"]


def read_raw(pid: int, start: int, pages: int) -> list[int]:
    """The entries as the kernel gives them, read here without uffdpte."""
    fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY)
    try:
        data = os.pread(fd, 8 * pages, start // PAGE * 8)
    finally:
        os.close(fd)
    return list(struct.unpack(f"{pages}Q", data))


SCAN_KEYS = ("zero_page", "huge", "written", "wp_allowed")
STATES = ["anon_present", "anon_untouched", "anon_zero", "shared", "protnone", "guard",
          "uffd_wp", "uffd_wp_unpopulated", "uffd_async", "thp", "swapped"]


@pytest.mark.parametrize("name", STATES)
def test_each_page_reads_as_built(child, name):
    start, pages = region(child, name)
    expect = child["expect"][name]
    if not HAS_SCAN and any(k in attrs for _, _, _, attrs in expect for k in SCAN_KEYS
                            if k in ("written", "wp_allowed")):
        pytest.skip(NO_SCAN_REASON + ": written/wp_allowed cannot be checked")
    pid = child["pid"]
    recs = json_lines(uffdpte(str(pid), f"0x{start:x}-0x{start + pages * PAGE:x}", "--json"))
    assert len(recs) == pages
    raw = read_raw(pid, start, pages)
    for i, rec in enumerate(recs):
        assert rec["address"] == "0x%x" % (start + i * PAGE)
        assert rec["pages"] == 1 and rec["pid"] == pid
        # value is exactly what the kernel wrote (states are stable while the child waits)
        assert int(rec["value"], 16) == raw[i], (i, rec["value"], hex(raw[i]))
    for first, n, state, attrs in expect:
        for i in range(first, first + n):
            rec = recs[i]
            assert rec["state"] == state, (name, i, rec)
            for key, want in attrs.items():
                if key in SCAN_KEYS and not HAS_SCAN:
                    assert rec[key] is None, (name, i, key)
                else:
                    assert rec[key] == want, (name, i, key, rec[key], want)
            _check_numbers(rec, state)


def _check_numbers(rec: dict, state: str) -> None:
    """PFN and swap numbers: real with CAP_SYS_ADMIN, null (never 0) without."""
    if state in ("present", "protnone"):
        if SEES_PFNS:
            assert isinstance(rec["pfn"], int) and rec["pfn"] > 0, rec
        else:
            assert rec["pfn"] is None and any("hidden" in n for n in rec["notes"]), rec
    if state == "marker":
        if SEES_PFNS:
            # 6.2+: SWP_PTE_MARKER is the last special type, 31; marker bits in the offset
            bits = {"UFFD_WP": 1, "GUARD": 4}
            assert rec["swp_type"] == 31 and rec["type_name"] == "SWP_PTE_MARKER", rec
            assert rec["swp_offset"] == sum(bits[m] for m in rec["markers"]), rec
            assert rec["swp_entry"] == "0x%016x" % (31 << 58 | rec["swp_offset"])
        else:
            assert rec["swp_type"] is None and rec["swp_offset"] is None, rec
        assert rec["pfn"] is None and rec["subtype"] == "pte_marker"
    if state == "none":
        assert rec["pfn"] is None and rec["swp_type"] is None and rec["flags"] == []
    if state == "swap":  # a real swap entry: type below MAX_SWAPFILES, slot 0 is the header
        assert isinstance(rec["swp_type"], int) and rec["swp_type"] < 32, rec
        assert isinstance(rec["swp_offset"], int) and rec["swp_offset"] > 0, rec
        assert rec["pfn"] is None
    if state == "swapped":  # the type is hidden: no numbers, and a note says why
        assert rec["swp_type"] is None and rec["swp_offset"] is None and rec["pfn"] is None
        assert any("hidden" in n for n in rec["notes"]), rec


def test_record_keys(child):
    from uffdpte.entry import RECORD_KEYS
    from uffdpte.pagemap.reading import PAGEMAP_KEYS
    start, _ = region(child, "anon_present")
    rec = json_lines(uffdpte(str(child["pid"]), f"0x{start:x}", "--json"))[0]
    assert set(RECORD_KEYS) <= set(rec) and set(PAGEMAP_KEYS) <= set(rec)
    assert rec["level"] == "pte" and rec["alternatives"] == []
    assert rec["write"] is None and rec["dirty"] is None and rec["young"] is None
    assert rec["flags"] == ["PM_MMAP_EXCLUSIVE", "PM_PRESENT"]


def test_thp_pfns_are_contiguous(child):
    start, pages = region(child, "thp")
    if not SEES_PFNS:
        pytest.skip("no CAP_SYS_ADMIN in the initial user namespace: the kernel hides PFNs")
    recs = json_lines(uffdpte(str(child["pid"]), f"0x{start:x}+2M", "--json"))
    pfns = [r["pfn"] for r in recs]
    assert pfns == list(range(pfns[0], pfns[0] + pages)) and pfns[0] % pages == 0
    assert all(r["level"] == "pmd" for r in recs) or not HAS_SCAN


def test_zero_page_is_one_pfn(child):
    start, pages = region(child, "anon_zero")
    if not SEES_PFNS:
        pytest.skip("no CAP_SYS_ADMIN in the initial user namespace: the kernel hides PFNs")
    recs = json_lines(uffdpte(str(child["pid"]), f"0x{start:x}+{pages * PAGE}", "--json"))
    assert len({r["pfn"] for r in recs}) == 1


def test_ranges_group_equal_pages(child):
    start, pages = region(child, "uffd_async")
    if not HAS_SCAN:
        pytest.skip(NO_SCAN_REASON)
    recs = json_lines(uffdpte(str(child["pid"]), f"0x{start:x}+{pages * PAGE}", "--json",
                              "--ranges"))
    got = [(r["address"], r["pages"], r["state"], r["uffd_wp"], r["written"]) for r in recs]
    a = [hex(start + i * PAGE) for i in (0, 4, 8, 12)]
    assert got == [(a[0], 4, "present", False, True), (a[1], 4, "present", True, False),
                   (a[2], 4, "present", False, True), (a[3], 4, "marker", True, False)]
    assert recs[-1]["end"] == hex(start + pages * PAGE)


def test_written_lists_exactly_the_written_pages(child):
    start, pages = region(child, "uffd_async")
    if not HAS_SCAN:
        res = uffdpte(str(child["pid"]), "--written")
        assert res.returncode == 1 and res.stdout == "" and "PAGEMAP_SCAN" in res.stderr
        pytest.skip(NO_SCAN_REASON + " (the refusal was checked)")
    # over the whole process: only the async-WP VMA has written pages to report
    recs = json_lines(uffdpte(str(child["pid"]), "--written", "--json", "--ranges"))
    got = [(int(r["address"], 16), r["pages"]) for r in recs]
    assert got == [(start, 4), (start + 8 * PAGE, 4)]


def test_summary_counts_per_vma(child):
    recs = json_lines(uffdpte(str(child["pid"]), "--summary", "--json"))
    by_start = {int(r["vma"]["start"], 16): r for r in recs}

    def vma_of(name):
        start, _ = region(child, name)
        return next(r for s, r in by_start.items()
                    if s <= start < int(r["vma"]["end"], 16))

    r = vma_of("anon_present")
    assert (r["pages"], r["present"], r["markers"], r["uffd_wp"]) == (8, 8, 0, 0)
    r = vma_of("protnone")
    assert (r["pages"], r["present"]) == (8, 4)
    if "uffd_wp" not in child["skip"] and "uffd_wp_unpopulated" not in child["skip"]:
        r = vma_of("uffd_wp")
        assert (r["pages"], r["present"], r["markers"], r["uffd_wp"]) == (16, 8, 8, 16)
    if "guard" not in child["skip"]:
        r = vma_of("guard")
        assert (r["present"], r["markers"], r["guard"], r["swapped"]) == (2, 4, 4, 0)
    if HAS_SCAN:
        assert vma_of("anon_zero")["zero_page"] == 4
        if "uffd_async" not in child["skip"]:
            r = vma_of("uffd_async")
            assert (r["present"], r["markers"], r["uffd_wp"], r["written"]) == (12, 4, 8, 8)
        if "thp" not in child["skip"]:
            assert vma_of("thp")["huge"] == 512
    else:
        assert vma_of("anon_zero")["zero_page"] is None


def test_no_scan_leaves_scan_keys_null(child):
    start, pages = region(child, "anon_zero")
    recs = json_lines(uffdpte(str(child["pid"]), f"0x{start:x}+{pages * PAGE}", "--json",
                              "--no-scan"))
    assert all(r[k] is None for r in recs for k in SCAN_KEYS + ("scan",))
    assert all(r["state"] == "present" for r in recs)


def test_scan_fallback_says_why(child, monkeypatch):
    """PAGEMAP_SCAN refused: the view goes on from pagemap alone, says why on stderr, and
    leaves the scan-only keys null.  The ioctl number is made unknown to the kernel, so the
    refusal is the kernel's own: EINVAL from a 6.7+ pagemap (do_pagemap_cmd's default
    case), ENOTTY from an older one (no ioctl at all)."""
    from click.testing import CliRunner

    from uffdpte.cli import main
    from uffdpte.pagemap import scan_ioctl
    monkeypatch.setattr(scan_ioctl, "PAGEMAP_SCAN", scan_ioctl._iowr(ord("f"), 0xEE, 96))
    start, pages = region(child, "anon_zero")
    try:
        runner = CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        runner = CliRunner()  # click 8.2+: stderr is always separate
    env = {"FORCE_COLOR": None, "NO_COLOR": None}
    res = runner.invoke(main, ["pagemap", str(child["pid"]), f"0x{start:x}+{pages * PAGE}",
                               "--json"], env=env)
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(recs) == pages and all(r["state"] == "present" for r in recs)
    assert all(r["zero_page"] is None and r["scan"] is None for r in recs)
    assert "PAGEMAP_SCAN unavailable" in res.stderr
    assert "EINVAL" in res.stderr or "ENOTTY" in res.stderr
    res = runner.invoke(main, ["pagemap", str(child["pid"]), "--written"], env=env)
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("uffdpte: --written needs PAGEMAP_SCAN")


def test_text_outputs(child):
    start, pages = region(child, "protnone")
    rng = f"0x{start:x}+{pages * PAGE}"
    res = uffdpte(str(child["pid"]), rng)  # a pipe: one line per page
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert [ln.split()[:2] for ln in lines] == (
        [[f"0x{start + i * PAGE:016x}", "protnone"] for i in range(4)]
        + [[f"0x{start + i * PAGE:016x}", "none"] for i in range(4, 8)])
    res = uffdpte(str(child["pid"]), rng, "--ranges")
    lines = res.stdout.splitlines()
    assert lines[0].startswith("---[ ") and "---p" in lines[0]
    assert lines[1].split()[:3] == [f"0x{start:016x}-0x{start + 4 * PAGE:016x}", "16K",
                                    "protnone"]
    assert lines[2].split()[1:3] == ["16K", "none"]


def test_hidden_pfns_without_cap_sys_admin(child):
    """Drop CAP_SYS_ADMIN (root only) and read again: PFNs and swap types become null, and
    markers are still recognised from the flag bits."""
    if os.geteuid() != 0 or not SEES_PFNS:
        pytest.skip("needs root with CAP_SYS_ADMIN to drop it (PR_CAPBSET_DROP before exec)")
    names = [n for n in ("anon_present", "guard", "uffd_wp_unpopulated") if n not in child["skip"]]

    def drop_sys_admin():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(24, 21, 0, 0, 0) != 0:  # PR_CAPBSET_DROP, CAP_SYS_ADMIN
            os._exit(99)

    for name in names:
        start, pages = region(child, name)
        res = uffdpte(str(child["pid"]), f"0x{start:x}+{pages * PAGE}", "--json",
                      preexec_fn=drop_sys_admin)
        if res.returncode == 99:
            pytest.skip("prctl(PR_CAPBSET_DROP) refused here")
        assert "PFNs hidden" in res.stderr
        for (first, n, state, attrs) in child["expect"][name]:
            for rec in json_lines(res)[first:first + n]:
                assert rec["state"] == state and rec["pfn"] is None
                assert rec["swp_type"] is None and int(rec["value"], 16) >> 55 << 55 == \
                    int(rec["value"], 16)  # the frame really is zeroed
                for key in ("markers", "guard", "uffd_wp"):
                    if key in attrs:
                        assert rec[key] == attrs[key]


# --- errors: one line on stderr, nothing on stdout, documented status -------------------

def _one_line_error(res, status: int, *needles: str) -> None:
    assert res.returncode == status, (res.returncode, res.stdout, res.stderr)
    assert res.stdout == ""
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("uffdpte: "), res.stderr
    for n in needles:
        assert n in err[0], err
    assert "Traceback" not in res.stderr


def test_no_such_process():
    p = subprocess.Popen(["true"])
    p.wait()
    _one_line_error(uffdpte(str(p.pid)), 1, "no such process")


def test_exited_process_not_yet_reaped():
    p = subprocess.Popen(["sleep", "30"])
    try:
        p.kill()
        for _ in range(100):  # until it is a zombie
            with open(f"/proc/{p.pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] == "Z":
                    break
            time.sleep(0.01)
        _one_line_error(uffdpte(str(p.pid)), 1, "has exited")
    finally:
        p.wait()


def test_process_exits_mid_read(child):
    """Not the shared child: a fresh one, killed after the first 4-page window."""
    p = subprocess.Popen([sys.executable, str(HERE / "pagemap_child.py")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(p.stdout.readline())
        start = info["regions"]["anon_present"]["start"]
        res = subprocess.run([sys.executable, str(HERE / "pagemap_midread.py"),
                              str(info["pid"]), f"0x{start:x}+{8 * PAGE}", "--json"],
                             capture_output=True, text=True, cwd=ROOT, timeout=120, env=ENV)
        _one_line_error(res, 1, "exited while")
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_range_outside_every_mapping(child):
    _one_line_error(uffdpte(str(child["pid"]), "0x1000-0x3000"), 1, "outside every mapping")
    _one_line_error(uffdpte(str(child["pid"]), "[no such mapping]"), 1, "no mapping named")


def test_partly_mapped_range_notes_the_gap(child):
    start, pages = region(child, "anon_present")
    # the child leaves an unmapped page on each side of every region
    res = uffdpte(str(child["pid"]), f"0x{start - PAGE:x}+{(pages + 1) * PAGE}", "--json")
    assert len(json_lines(res)) == pages
    assert f"0x{start - PAGE:x}-0x{start:x} is not mapped" in res.stderr


@pytest.mark.parametrize("args", [["abc"], ["-5"], ["self", "zz"], ["self", "0x2000-0x1000"],
                                  ["self", "--summary", "--ranges"],
                                  ["self", "--written", "--no-scan"],
                                  ["self", "--config", "NOPE=y"]])
def test_usage_errors(args):
    res = uffdpte(*args)
    assert res.returncode == 2 and res.stdout == "" and "Traceback" not in res.stderr


def test_permission_denied():
    """Another user's process without CAP_SYS_PTRACE: ptrace read access is refused."""
    if os.geteuid() != 0:
        owner = os.stat("/proc/1").st_uid
        if owner == os.geteuid():
            pytest.skip("PID 1 runs as this user here: no other user's process to try")
        _one_line_error(uffdpte("1", "--summary"), 1, "permission denied")
        return

    def as_nobody():
        os.setgid(65534)
        os.setgroups([])
        os.setuid(65534)

    target = subprocess.Popen(["sleep", "30"], preexec_fn=as_nobody)
    try:
        def drop_ptrace():
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (19, 1, 2):  # CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
                if libc.prctl(24, cap, 0, 0, 0) != 0:
                    os._exit(99)
        time.sleep(0.1)
        res = uffdpte(str(target.pid), preexec_fn=drop_ptrace)
        if res.returncode == 99:
            pytest.skip("prctl(PR_CAPBSET_DROP) refused here")
        _one_line_error(res, 1, "permission denied")
    finally:
        target.send_signal(signal.SIGKILL)
        target.wait()


def test_self_summary():
    res = uffdpte("self", "--summary")
    assert res.returncode == 0, res.stderr
    names = {ln.split()[-1] for ln in res.stdout.splitlines()}
    assert "[stack]" in names


def test_pipe_closed_early():
    # every page of every mapping: far more than a pipe buffer holds
    p = subprocess.Popen([sys.executable, "-m", "uffdpte", "pagemap", "self", "--pages"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=ENV)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=60) == 141 and b"Traceback" not in err
