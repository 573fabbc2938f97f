"""scan's building blocks: text cleanup, the pattern and clue rows, swp_entry_t splitting."""

from __future__ import annotations

import pytest

from uffdpte.kver import parse_kernel
from uffdpte.scan.cleanup import clean
from uffdpte.scan.context import CLUES, REPORT_START, VERSION, Context, Pins
from uffdpte.scan.engine import TRIGGER
from uffdpte.scan.patterns import BY_ID, FREE, PATTERNS
from uffdpte.scan.swapentry import split

# --- cleanup ---------------------------------------------------------------------------------

CLEAN_CASES = [
    (b"[   63.912126] BUG: x", "BUG: x", ("printk_time",)),
    (b"[   63.912126][    T1] PGD 0 ", "PGD 0 ", ("printk_time", "printk_caller")),
    (b"[  C3] CPU: 3", "CPU: 3", ("printk_caller",)),
    (b"Jan 12 10:00:00 host kernel: BUG: x", "BUG: x", ("syslog",)),
    (b"2026-01-12T10:00:07+0100 host kernel: bad", "bad", ("syslog",)),
    (b"2024-01-12T10:00:00,123456+01:00 BUG: x", "BUG: x", ("dmesg_iso",)),
    (b"[Fri Jan 12 10:00:00 2024] BUG: x", "BUG: x", ("dmesg_ctime",)),
    (b"kernel: [   63.912126] BUG: x", "BUG: x", ("kernel_tag", "printk_time")),
    (b"kern  :alert : [   63.912126] BUG: x", "BUG: x", ("dmesg_facility", "printk_time")),
    (b"<1>[   63.912126] BUG: x", "BUG: x", ("log_level", "printk_time")),
    (b"1,2345,63912126,-;BUG: x", "BUG: x", ("kmsg_record",)),
    (b"> > [   63.912126] BUG: x\r", "BUG: x", ("quote", "printk_time")),
    (b">> BUG: x", "BUG: x", ("quote",)),
    (b"crash> pte 1234", "crash> pte 1234", ()),
    (b"[0000000000000008] pgd=0", "[0000000000000008] pgd=0", ()),  # not a timestamp
]


@pytest.mark.parametrize("raw,text,dropped", CLEAN_CASES)
def test_clean_peels_prefixes(raw, text, dropped):
    t = clean([raw], 7)
    assert t.text == text
    assert t.dropped == dropped
    # every kept character maps back to itself in the raw line
    for i, ch in enumerate(t.text):
        line, col = t.where(i)
        assert line == 7 and raw[col - 1:col].decode("latin-1") == ch


def test_clean_ansi_qp_and_positions():
    raw = [b"> \x1b[0;1;31m[  1.0] [0000ffff8a3c2000] pgd=3D0800000081230003, p4d=3D0800000=",
           b"081230003\x1b[0m\r"]
    t = clean(raw, 10)
    assert t.text == "[0000ffff8a3c2000] pgd=0800000081230003, p4d=0800000081230003"
    assert t.quote == "> "
    i = t.text.index("081230003, p4d")  # the tail of the pgd value, on line 10
    assert t.where(i) == (10, raw[0].index(b"081230003, p4d") + 1)
    j = t.text.rindex("081230003")  # the tail of the p4d value, on line 11
    assert t.where(j) == (11, 1)


def test_clean_quoted_continuation_lines():
    # a raw quoted-printable body quoted again: every physical line carries "> "
    t = clean([b"> BUG: Bad page map in process a  pte:80000000=", b"> 71c00227 pmd:1"], 1)
    assert t.text == "BUG: Bad page map in process a  pte:8000000071c00227 pmd:1"


# --- pattern rows ------------------------------------------------------------------------------

SAMPLES = {
    "print_bad_pte": "BUG: Bad page map in process a.out  pte:8000000071c00227 pmd:10a5d8067",
    "print_bad_page_map": "BUG: Bad page map in process a.out  pmd:80000001f5e000e7",
    "print_bad_page_map_pgtable": "pgd:800000010a5d6067 p4d:800000010a5d6067",
    "dump_page": "page: refcount:1 mapcount:-1 mapping:0000000000000000 index:0x7f3a pfn:0x71c00",
    "dump_pagetable": "PGD 800000010a5d6067 P4D 800000010a5d6067 PUD 10a5d7067 PMD 0 ",
    "pte_error_x86": "mm/pgtable-generic.c:53: bad pmd (____ptrval____)(80000001f5e000e7)",
    "show_pte_header": "user pgtable: 4k pages, 48-bit VAs, pgdp=0000000041c2e000",
    "show_pte": "[0000000000000008] pgd=0000000000000000, p4d=0000000000000000",
    "show_pte_old": "[ffff000008a00000] *pgd=00000000bfffe003, *pud=00000000bfffd003",
    "pte_error_arm64": "mm/pgtable-generic.c:53: bad pmd 0068000081200f41.",
    "swap_info_get": "swap_info_get: Bad swap offset entry 400000000ffffff",
    "_swap_info_get": "_swap_info_get: Unused swap offset entry 00001234",
    "get_swap_device": "get_swap_device: Bad swap file entry 400000000001234",
    "swap_duplicate": "Bad swap file entry 400000000001234",
    "swapfile_other": "swap_free: Bad swap file entry 400000000001234",
    "unrecognized_swap_entry": "unrecognized swap entry 0x6800000000012345",
    "crash_pte_header": "      PTE         PHYSICAL  FLAGS",
    "crash_pte": "8000000071c00227  71c00000  (PRESENT|RW|USER|ACCESSED|NX)",
    "crash_pte_swap": "7ffffffffdb9600  /dev/dm-1   4660",
    "crash_vtop": "   PMD: 10a5d7488 => 10a5d8067",
    "crash_vm_p_header": "VIRTUAL     PHYSICAL",
    "crash_vm_p": "7f3a12346000  SWAP: /dev/dm-1  OFFSET: 4660",
}


def test_every_row_has_a_source_and_a_sample():
    assert len({p.id for p in PATTERNS}) == len(PATTERNS)
    assert set(SAMPLES) == set(BY_ID)
    for p in PATTERNS:
        assert p.source and p.versions, p.id
        assert p.message and p.encoding in ("raw", "swp_entry_t")
        for a in p.after:
            assert a in BY_ID


@pytest.mark.parametrize("pid", sorted(SAMPLES))
def test_rows_match_their_sample_and_the_prefilter_sees_it(pid):
    row, text = BY_ID[pid], SAMPLES[pid]
    assert row.regex.match(text), pid
    if not row.after:
        # the prefilter must see every line a free row can match
        assert TRIGGER.search(text.encode()), pid
        first = next(p for p in FREE if p.needle in text and p.regex.match(text))
        assert first is row, (pid, first.id)


@pytest.mark.parametrize("text", [
    "BUG: Bad page map in process a.out  pte:18000000071c00227 pmd:10a5d8067",  # 17 digits
    "BUG: Bad page map in process a.out  pte:8000000 pmd:10a5d8067",  # < %08llx
    "PGD 800000010a5d6067 P4D 80000001zz",
    "[0000000000000008] pgd=00000000000000, p4d=0000000000000000",  # 14 digits
    "unrecognized swap entry 0x",
    "get_swap_device: Bad swap file entry -1234",
])
def test_near_misses_match_no_row(text):
    assert not any(p.regex.match(text) for p in PATTERNS)


# --- context clues ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,release", [
    ("CPU: 3 PID: 1 Comm: x Not tainted 6.1.0-13-amd64 #1 Debian 6.1.55-1", "6.1.0-13-amd64"),
    ("CPU: 3 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1", "6.12.0"),
    ("CPU: 3 PID: 1 Comm: a b c Kdump: loaded Tainted: G    B   W        5.10.0-26-amd64 #1",
     "5.10.0-26-amd64"),
    ("CPU: 0 UID: 1000 PID: 4 Comm: t Tainted: G    B     7.2.13+deb14-amd64 #1 PREEMPT(lazy) ",
     "7.2.13+deb14-amd64"),
    ("Linux version 4.18.0-513.el8.x86_64 (mockbuild@x86-vm-07) (gcc version 8.5.0) #1 SMP",
     "4.18.0-513.el8.x86_64"),
    ("     RELEASE: 6.1.0-13-arm64", "6.1.0-13-arm64"),
])
def test_version_lines(text, release):
    clue, m = Context(Pins()).match(text)
    assert clue.kind in (VERSION, "sticky_version") and m.group("release") == release


@pytest.mark.parametrize("text", [
    "WARNING: CPU: 1 PID: 5900 at mm/memory.c:1675 zap_pte_range+0x1a2c/0x2100",
    "PID: 4242   TASK: ffff888103f1c000  CPU: 1   COMMAND: \"uffd-test\"",
    "BUG: Bad page map: 3 messages suppressed",
])
def test_lines_that_are_not_context(text):
    hit = Context(Pins()).match(text)
    assert hit is None or hit[0].kind not in (VERSION, REPORT_START)


def test_every_clue_has_a_source():
    for c in CLUES:
        assert c.source and c.needle


def test_every_clue_has_a_version_range():
    # like the pattern rows: the releases that print the line, and how that is known
    for c in CLUES:
        assert c.versions and c.versions == c.era.source, c.id
        if not c.era.verified:
            assert "estimated" in c.versions, c.id


def test_estimated_boundaries_say_so():
    for p in PATTERNS:
        assert p.versions == p.era.source
        if not p.era.verified:
            assert "estimated" in p.versions or "not verified" in p.versions, p.id
        elif p.era.since is not None:
            assert p.read, p.id  # a boundary marked verified was read in a tree


@pytest.mark.parametrize("pid,kernel,known", [
    # get_swap_device() came with eb085574a752 (about 5.3), not with 5.10
    ("get_swap_device", "5.4", True), ("get_swap_device", "5.2", False),
    # show_pte: "pgdp"/"pgd=" from about 4.17, "*pgd=" before
    ("show_pte", "4.19.90", True), ("show_pte", "4.17", True), ("show_pte", "4.14.130", False),
    ("show_pte_old", "4.14.130", True), ("show_pte_old", "4.19", False),
    ("show_pte_header", "4.14.130", True), ("show_pte_header", "6.12", True),
    # __swap_duplicate's unprefixed Bad_file: read in 6.12.117 and 7.2, not in 6.1
    ("swap_duplicate", "6.1", False), ("swap_duplicate", "6.12.117", True),
    ("crash_pte", "3.10", True),
])
def test_row_releases(pid, kernel, known):
    assert BY_ID[pid].era.contains(parse_kernel(kernel)) is known


@pytest.mark.parametrize("text,page_kb,va_bits", [
    ("user pgtable: 4k pages, 48-bit VAs, pgdp=0000000041c2e000", 4, 48),  # 5.10 .. 7.2
    ("swapper pgtable: 64k pages, 48-bit VAs, pgdp = (____ptrval____)", 64, 48),  # about 4.19
    ("user pgtable: 4k pages, 48-bit VAs, pgd = ffff80065622f000", 4, 48),  # 4.14.x
])
def test_show_pte_header_forms(text, page_kb, va_bits):
    m = BY_ID["show_pte_header"].regex.match(text)
    assert m and (int(m.group("page_kb")), int(m.group("va_bits"))) == (page_kb, va_bits)
    assert TRIGGER.search(text.encode())


# --- swp_entry_t -------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,shift", [("3.4", 59), ("4.19", 57),
                                          ("4.20", 58), ("5.10", 58), ("7.2", 58)])
def test_swp_type_shift_by_release(kernel, shift):
    s = split((1 << shift) | 0x1234, parse_kernel(kernel))
    assert (s.type, s.offset, s.shift, s.problems) == (1, 0x1234, shift, ())


def test_swp_entry_bits_above_the_type_are_a_problem():
    s = split(1 << 63, parse_kernel("6.12"))
    assert s.type == 32 and s.problems


def test_package_doc_example():
    import doctest

    import uffdpte.scan
    assert doctest.testmod(uffdpte.scan).failed == 0
