"""Every kernel message and crash output that prints page-table entry values, as data.

One row per format string: the regex restating it (matched against the cleaned message
text, see :mod:`.cleanup`), the values it prints and at which level, whether they are raw
entries or the arch-independent ``swp_entry_t``, the arch its shape implies, and the kernel
source file and the releases it holds for: an :class:`~uffdpte.layouts.model.Era`, as the
layout tables use (``verified=False`` where a boundary is estimated from patch dates, not read
in a tagged tree; ``../shared/kernel-facts.md`` section 5, ``../research/generic.md`` section
6.7), and ``read``: the releases whose tree the format was read in.

The engine tries a row only when its ``needle`` (a plain substring) is in the text, so a
row costs nothing on lines that cannot be it.  Rows with ``after`` are only meaningful on
the line(s) following another row (a table header, the first line of a two-line message).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..layouts.model import Era, v

HEX = r"[0-9a-fA-F]"


def _hx(name: str, lo: int = 1, hi: int = 16) -> str:
    """A hex value group: lo..hi digits, not followed by another hex digit (so an
    over-64-bit run does not match at all instead of being cut)."""
    return rf"(?P<{name}>{HEX}{{{lo},{hi}}})(?!{HEX})"


RAW = "raw"  # a raw page-table entry as the MMU / arch code sees it
SWP_ENTRY = "swp_entry_t"  # the arch-independent swap entry (type << SWP_TYPE_SHIFT | offset)

#: value roles of a row (what the engine does with the groups)
VALUES, DUMP_PAGE, TABLE_HEADER, ROW_NO_VALUE = "values", "dump_page", "header", "no_value"


@dataclass(frozen=True)
class Pattern:
    id: str
    #: JSON "message": which kernel message or crash output the value came from
    message: str
    needle: str
    regex: re.Pattern[str]
    #: (group, level) in print order; level None = the level is in the group "level"
    values: tuple[tuple[str, str | None], ...]
    source: str
    #: the releases whose format this is; its source says how the boundaries are known
    era: Era
    read: str = ""  # releases whose tree the format was read in ("5.10, 6.1, 6.12")
    encoding: str = RAW
    arch: str | None = None  # the arch the message shape implies
    role: str = VALUES
    #: the row(s) this one may only follow, and within how many lines
    after: tuple[str, ...] = ()
    within: int = 1
    #: a row whose needle is rare enough that a near miss is worth counting as skipped
    #: ("looks like this message but is malformed or truncated")
    loose: re.Pattern[str] | None = None
    #: the value that is cross-checked against a following dump_page block
    checked: str | None = None
    #: crash output: no report around it, its context is the session's (sys output)
    session: bool = False

    @property
    def versions(self) -> str:
        return self.era.source


def _rx(p: str) -> re.Pattern[str]:
    """The row regexes (here and in :mod:`.context`): ASCII classes, the text is Latin-1."""
    return re.compile(p, re.ASCII)


_L = r"(?P<level>pte|pmd|pud|p4d|pgd)"
_END = r"\s*$"

#: mm/swapfile.c's strings Bad_file, Unused_file, Bad_offset, Unused_offset: printed as
#: "%s%08lx" (each ends in a space) with the swp_entry_t value; the rows differ in the prefix
#: and in which of them the function can print
BAD_FILE, UNUSED_FILE = "Bad swap file entry", "Unused swap file entry"
BAD_OFFSET, UNUSED_OFFSET = "Bad swap offset entry", "Unused swap offset entry"
SWAP_MESSAGES = (BAD_FILE, UNUSED_FILE, BAD_OFFSET, UNUSED_OFFSET)


def _swap(*messages: str) -> str:
    return "(?P<what>" + "|".join(messages) + ") " + _hx("val", 8) + _END


#: crash's output: the crash-utility release, not the kernel's, decides the format
_CRASH = Era(source="crash 7.x/8.x")

PATTERNS: tuple[Pattern, ...] = (
    # --- mm/memory.c ----------------------------------------------------------------------
    Pattern(
        "print_bad_pte", "print_bad_pte", "Bad page map in process",
        _rx(r"BUG: Bad page map in process (?P<comm>.*?)  pte:" + _hx("pte", 8)
            + " pmd:" + _hx("pmd", 8) + _END),
        (("pte", "pte"), ("pmd", "pmd")),
        "mm/memory.c print_bad_pte(): \"BUG: Bad page map in process %s  pte:%08llx pmd:%08llx\"",
        Era(until=v("6.18"), source="up to 6.17 (replaced by print_bad_page_map, est. 6.18)"),
        read="5.10, 6.1, 6.12", checked="pte",
        loose=_rx(r"BUG: Bad page map in process .*(?:pte|pmd|pud|p4d|pgd):")),
    Pattern(
        "print_bad_page_map", "print_bad_page_map", "Bad page map in process",
        _rx(r"BUG: Bad page map in process (?P<comm>.*?)  " + _L + ":" + _hx("entry", 8)
            + _END),
        (("entry", None),),
        "mm/memory.c print_bad_page_map(): \"BUG: Bad page map in process %s  %s:%08llx\" "
        "(level name from pgtable_level_to_str(), no newline; the upper levels follow as a "
        "separate pr_alert)",
        Era(v("6.18"), source="6.18 (estimated: 'convert print_bad_pte() to "
            "print_bad_page_map()', David Hildenbrand, Aug 2025) to 7.2", verified=False),
        read="7.2", checked="entry"),
    Pattern(
        "print_bad_page_map_pgtable", "print_bad_page_map", "pgd:",
        _rx(r"pgd:" + _hx("pgd", 8) + "(?: p4d:" + _hx("p4d", 8) + "(?: pud:" + _hx("pud", 8)
            + "(?: pmd:" + _hx("pmd", 8) + ")?)?)?" + _END),
        (("pgd", "pgd"), ("p4d", "p4d"), ("pud", "pud"), ("pmd", "pmd")),
        "mm/memory.c __print_bad_page_map_pgtable(): \"pgd:%08llx\" [\" p4d:%08llx\" "
        "[\" pud:%08llx\" [\" pmd:%08llx\"]]], cut at the first non-present or leaf level",
        Era(v("6.18"), source="6.18 (estimated) to 7.2", verified=False), read="7.2",
        after=("print_bad_page_map",), within=1),
    # dump_page() after a bad page map: its pfn cross-checks the decoded PFN
    Pattern(
        "dump_page", "dump_page", "pfn:",
        _rx(r"page: ?(?:\S+ )?refcount:-?\d+ mapcount:-?\d+ mapping:\S+ index:\S+ "
            r"(?:device )?pfn:(?P<pfn>0x" + HEX + r"{1,16}|0)(?!" + HEX + ")"),
        (),
        "mm/debug.c __dump_page(): \"page:%p refcount:%d mapcount:%d mapping:%p index:%#lx "
        "pfn:%#lx\"; __dump_folio(): \"page: refcount:%d ... pfn:%#lx\"; a 2025 patch adds "
        "\"device \" before pfn:",
        Era(v("5.9"), source="pfn: printed from about 5.9 (estimated; present in 5.10-era "
            "text), folio form about 6.9 (estimated)", verified=False), role=DUMP_PAGE,
        after=("print_bad_pte", "print_bad_page_map", "print_bad_page_map_pgtable"), within=3),
    # --- arch/x86 -------------------------------------------------------------------------
    Pattern(
        "dump_pagetable", "dump_pagetable", "PGD ",
        _rx(r"PGD " + _hx("pgd") + "(?: P4D " + _hx("p4d") + ")?(?: PUD " + _hx("pud")
            + ")?(?: PMD " + _hx("pmd") + ")?(?: PTE " + _hx("pte") + ")?" + _END),
        (("pgd", "pgd"), ("p4d", "p4d"), ("pud", "pud"), ("pmd", "pmd"), ("pte", "pte")),
        "arch/x86/mm/fault.c dump_pagetable() (64-bit): pr_info(\"PGD %lx \"), pr_cont(\"P4D "
        "%lx \", \"PUD %lx \", \"PMD %lx \", \"PTE %lx\"): unpadded, stops at a non-present or "
        "leaf level, P4D printed even when folded onto the PGD",
        Era(source="P4D printed from 4.12 (5-level paging support; kernel-facts section 5); "
            "older 64-bit kernels print the line without it, which the regex also matches"),
        read="5.10, 6.12", arch="x86_64",
        loose=_rx(r"PGD " + HEX + r"+ (?:P4D|PUD) ")),
    Pattern(
        "pte_error_x86", "pte_error", ": bad p",
        _rx(r"(?P<file>\S+?):(?P<lineno>\d+): bad " + _L + r" (?P<ptr>\(_*ptrval_*\)|"
            + HEX + r"{1,16})\(" + _hx("val", 16) + r"\)" + _END),
        (("val", None),),
        "arch/x86/include/asm/pgtable_64.h pte_ERROR()/pmd_ERROR()/pud_ERROR()/p4d_ERROR()/"
        "pgd_ERROR(): \"%s:%d: bad pte %p(%016lx)\"",
        Era(source="all 64-bit kernels read (6.1, 6.12, 7.2)"), read="6.1, 6.12, 7.2",
        arch="x86_64",
        loose=_rx(r"\S+:\d+: bad (?:pte|pmd|pud|p4d|pgd) ")),
    # --- arch/arm64 -----------------------------------------------------------------------
    Pattern(
        "show_pte_header", "show_pte", "pgtable:",
        _rx(r"(?P<mm>swapper|user) pgtable: (?P<page_kb>4|16|64)k pages, (?P<va_bits>\d\d)-bit "
            r"VAs, pgdp? ?= ?(?P<pgdp>\S+)" + _END),
        (),
        "arch/arm64/mm/fault.c show_pte(): \"%s pgtable: %luk pages, %llu-bit VAs, "
        "pgdp=%016lx\" (5.10 to 7.2); \"%u-bit VAs, pgdp = %p\" (torvalds/linux tree at "
        "00bbd5d9, about 4.19); \"%u-bit VAs, pgd = %p\" before the pgd -> pgdp rename, "
        "followed by the *pgd= lines of show_pte_old",
        Era(v("4.14"), source="'pgd = %p' form in 4.14.x oops logs (the release that added the "
            "header is not identified: estimated 4.14), 'pgdp = %p' from about 4.17 (estimated, "
            "see show_pte), 'pgdp=%016lx' read in 5.10 to 7.2", verified=False),
        read="5.10, 6.1, 6.12, 7.2; torvalds/linux 00bbd5d9 (about 4.19)", arch="arm64",
        role=TABLE_HEADER,
        loose=_rx(r"(?:swapper|user) pgtable: ")),
    Pattern(
        "show_pte", "show_pte", "] pgd=",
        _rx(r"\[" + _hx("addr", 8) + r"\] pgd=" + _hx("pgd", 16) + "(?:, p4d=" + _hx("p4d", 16)
            + ")?(?:, pud=" + _hx("pud", 16) + ")?(?:, pmd=" + _hx("pmd", 16) + ")?(?:, pte="
            + _hx("pte", 16) + ")?" + _END),
        (("pgd", "pgd"), ("p4d", "p4d"), ("pud", "pud"), ("pmd", "pmd"), ("pte", "pte")),
        "arch/arm64/mm/fault.c show_pte(): pr_alert(\"[%016lx] pgd=%016llx\"), pr_cont(\", "
        "p4d=%016llx\", \", pud=%016llx\", \", pmd=%016llx\", \", pte=%016llx\"), stops at a "
        "none or bad level",
        Era(v("4.17"), source="about 4.17 (estimated: commit 20a004e7b017 'arm64: mm: Use "
            "READ_ONCE/WRITE_ONCE when accessing page tables' renamed pgd to pgdp and printed the "
            "read values; the torvalds/linux tree at 00bbd5d9 (about 4.19) and 4.19.25, 4.19.90, "
            "5.0 oops logs print this form) to 7.2 (p4d= from the 5-level p4d conversion, "
            "present in 5.10)", verified=False),
        read="5.10, 6.1, 6.12, 7.2; torvalds/linux 00bbd5d9 (about 4.19)", arch="arm64",
        loose=_rx(r"\[" + HEX + r"+\] pgd=")),
    Pattern(
        "show_pte_old", "show_pte", "] *pgd=",
        _rx(r"\[" + _hx("addr", 8) + r"\] \*pgd=" + _hx("pgd", 16) + r"(?:, \*pud=" + _hx("pud", 16)
            + r")?(?:, \*pmd=" + _hx("pmd", 16) + r")?(?:, \*pte=" + _hx("pte", 16) + ")?" + _END),
        (("pgd", "pgd"), ("pud", "pud"), ("pmd", "pmd"), ("pte", "pte")),
        "arch/arm64/mm/fault.c show_pte() before about 4.17: \"pgd = %p\" (3.x) or the "
        "\"pgtable: ..., pgd = %p\" header (4.14.x), then \"[%08lx] *pgd=%016llx\" (16 "
        "digits in 4.14.x), \", *pud=%016llx\" (not printed in 3.x), \", *pmd=%016llx\", "
        "\", *pte=%016llx\"",
        Era(until=v("4.17"), source="3.x (torvalds/linux tree at f99e44a7) to about 4.16 "
            "(4.4.55 and 4.14.x oops logs print it); replaced about 4.17 (estimated, see "
            "show_pte)", verified=False),
        read="torvalds/linux f99e44a7 (3.x)", arch="arm64",
        loose=_rx(r"\[" + HEX + r"+\] \*pgd=")),
    Pattern(
        "pte_error_arm64", "pte_error", ": bad p",
        _rx(r"(?P<file>\S+?):(?P<lineno>\d+): bad " + _L + " " + _hx("val", 8) + r"\." + _END),
        (("val", None),),
        "arch/arm64/include/asm/pgtable.h pte_ERROR()/pmd_ERROR()/pud_ERROR()/p4d_ERROR()/"
        "pgd_ERROR(): \"%s:%d: bad pte %016llx.\" (trailing period; p4d from 6.12)",
        Era(source="all read (5.10, 6.1, 6.12, 7.2; 3.x printed %08llx)"),
        read="5.10, 6.1, 6.12, 7.2", arch="arm64"),
    # --- swp_entry_t messages: NOT raw PTEs ---------------------------------------------------
    Pattern(
        "swap_info_get", "swap_entry", "swap",
        _rx(r"swap_info_get: " + _swap(*SWAP_MESSAGES)),
        (("val", "pte"),),
        "mm/swapfile.c __swap_info_get()/_swap_info_get(): pr_err(\"swap_info_get: %s%08lx\") "
        "with Bad_offset, Unused_file, Bad_file, Unused_offset; the value is entry.val",
        Era(until=v("5.12"), source="up to about 5.11 (a literal prefix; __func__ from about "
            "5.12, estimated)", verified=False),
        read="5.10", encoding=SWP_ENTRY),
    Pattern(
        "_swap_info_get", "swap_entry", "swap",
        _rx(r"(?P<func>_?_swap_info_get): " + _swap(*SWAP_MESSAGES)),
        (("val", "pte"),),
        "mm/swapfile.c _swap_info_get(): pr_err(\"%s: %s%08lx\", __func__, ...)",
        Era(v("5.12"), v("7.2"), source="about 5.12 (estimated) to 7.1 (gone in 7.2 with the "
            "Unused_* strings)", verified=False),
        read="6.1, 6.12", encoding=SWP_ENTRY),
    Pattern(
        "get_swap_device", "swap_entry", "swap",
        _rx(r"get_swap_device: " + _swap(BAD_FILE, BAD_OFFSET)),
        (("val", "pte"),),
        "mm/swapfile.c get_swap_device(): pr_err[_ratelimited](\"%s: %s%08lx\", __func__, "
        "Bad_file|Bad_offset, entry.val)",
        Era(v("5.3"), source="about 5.3 (estimated: commit eb085574a752 'mm, swap: fix race "
            "between swapoff and some swap operations', Huang Ying, July 2019, added "
            "get_swap_device() with this pr_err of Bad_file; no 5.3 tree read) to 7.2 (Bad swap "
            "offset entry from 6.1; ratelimited from 6.12)", verified=False),
        read="5.10, 6.1, 6.12, 7.2", encoding=SWP_ENTRY),
    Pattern(
        "swap_duplicate", "swap_entry", "swap",
        _rx(_swap(BAD_FILE)),
        (("val", "pte"),),
        "mm/swapfile.c __swap_duplicate() (6.12) / swap_dup_entry_direct() (7.2): "
        "pr_err_ratelimited(\"%s%08lx\", Bad_file, entry.val), no function prefix",
        Era(v("6.12"), source="mainline about 6.15 (estimated: 'mm: Fix possible NULL pointer "
            "dereference in __swap_duplicate', gao xu, v4 posted Feb 2025, added "
            "pr_err(\"%s%08lx\", Bad_file, ...)); read in Debian 6.12.117 (a backport: 6.12 "
            "predates the patch) and 7.2, absent in 5.10 and 6.1; which 6.12-6.14 stable levels "
            "have it is not known", verified=False),
        read="6.12, 7.2", encoding=SWP_ENTRY),
    Pattern(
        "swapfile_other", "swap_entry", "swap",
        _rx(r"(?P<func>[a-z_][a-z0-9_]*): " + _swap(*SWAP_MESSAGES)),
        (("val", "pte"),),
        "mm/swapfile.c, other callers of the same \"%s%08lx\" strings (very old kernels: "
        "swap_free:, swap_dup:)",
        Era(source="any release (a catch-all for callers the rows above do not name; the very "
            "old prefixes are not verified in a tree)", verified=False), encoding=SWP_ENTRY,
        loose=_rx(r"(?:Bad|Unused) swap (?:file|offset) entry ")),
    Pattern(
        "unrecognized_swap_entry", "swap_entry", "unrecognized swap entry",
        _rx(r"unrecognized swap entry 0x" + _hx("val") + _END),
        (("val", "pte"),),
        "mm/memory.c zap_pte_range() (6.12) / zap_nonpresent_ptes() (7.2): pr_alert("
        "\"unrecognized swap entry 0x%lx\", entry.val) before WARN_ON_ONCE",
        Era(v("6.7"), source="about 6.7/6.8 (estimated: 'mm/memory.c:zap_pte_range() print "
            "bad swap entry', Nov 2023) to 7.2", verified=False),
        read="6.12, 7.2", encoding=SWP_ENTRY,
        loose=_rx(r"unrecognized swap entry ")),
    # --- crash (crash-utility) --------------------------------------------------------------
    Pattern(
        "crash_pte_header", "crash_pte", "PTE",
        _rx(r"\s*PTE\s+(?P<kind>PHYSICAL\s+FLAGS|SWAP\s+OFFSET)" + _END),
        (),
        "crash x86_64.c/arm64.c *_translate_pte(): the table printed by the pte command and "
        "after a vtop walk (layout as in crash's help.c vtop/pte examples)", _CRASH,
        role=TABLE_HEADER, session=True),
    Pattern(
        "crash_pte", "crash_pte", "",
        _rx(r"\s*" + _hx("val") + r"\s+(?P<phys>" + HEX + r"{1,16})\s+\((?P<flags>[A-Za-z0-9_|]*)\)"
            + _END),
        (("val", "pte"),),
        "crash *_translate_pte(): PTE, PHYSICAL, (FLAGS) row", _CRASH,
        after=("crash_pte_header",), within=1, session=True),
    Pattern(
        "crash_pte_swap", "crash_pte", "",
        _rx(r"\s*" + _hx("val") + r"\s+(?P<dev>\S.*?)\s+(?P<off>\d+)" + _END),
        (("val", "pte"),),
        "crash *_translate_pte(): PTE, SWAP (device), OFFSET (decimal) row", _CRASH,
        after=("crash_pte_header",), within=1, session=True),
    Pattern(
        "crash_vtop", "crash_vtop", " => ",
        _rx(r"\s*(?P<level>PGD|P4D|PUD|PMD|PTE): (?P<addr>" + HEX + r"{1,16}) => " + _hx("val")
            + _END),
        (("val", None),),
        "crash x86_64.c/arm64.c uvtop/kvtop with verbose: fprintf(\"   PGD: %lx => %lx\\n\") "
        "... (\"   PTE: %lx => %lx\\n\"); Xen \"[machine]\" values are machine frames: skipped",
        _CRASH, session=True,
        loose=_rx(r"\s*(?:PGD|P4D|PUD|PMD|PTE): " + HEX + r"+ => .*\[machine\]")),
    Pattern(
        "crash_vm_p_header", "crash_vm_p", "VIRTUAL",
        _rx(r"\s*VIRTUAL\s+PHYSICAL" + _END),
        (),
        "crash memory.c vm -p / vtop: \"VIRTUAL  PHYSICAL\" table", _CRASH,
        role=TABLE_HEADER, session=True),
    Pattern(
        "crash_vm_p", "crash_vm_p", "",
        _rx(r"\s*(?P<va>" + HEX + r"{1,16})\s+(?:(?P<pa>" + HEX + r"{1,16})|SWAP: (?P<dev>\S+)\s+"
            r"OFFSET: (?P<off>\d+)|FILE: .*|\(not mapped\)|\(not accessible\))" + _END),
        (),
        "crash memory.c vm -p: VIRTUAL then PHYSICAL address, \"SWAP: %s  OFFSET: %lld\", "
        "\"FILE: ...\" or \"(not mapped)\": the physical address or swap location crash "
        "computed, never the raw entry", _CRASH, role=ROW_NO_VALUE,
        after=("crash_vm_p_header", "crash_vm_p"), within=1, session=True),
)

BY_ID: dict[str, Pattern] = {p.id: p for p in PATTERNS}
#: rows tried on any line whose needle is present (the others only follow a header)
FREE: tuple[Pattern, ...] = tuple(p for p in PATTERNS if not p.after and p.needle)
#: rows that follow: after-id -> rows
FOLLOWERS: dict[str, tuple[Pattern, ...]] = {}
for _p in PATTERNS:
    for _a in _p.after:
        FOLLOWERS[_a] = FOLLOWERS.get(_a, ()) + (_p,)

#: regex fragments (bytes), one of which is in every raw line the scan must look at; the
#: context lines of :mod:`.context` add theirs.  Kept few and led by rare characters: the
#: alternation runs over every byte of the input.  Lines that follow a hit (the second
#: line of print_bad_page_map, dump_page, table rows, the lines after a version line) are
#: read without a needle.
VALUE_NEEDLES: tuple[bytes, ...] = (
    b"BUG",  # print_bad_pte / print_bad_page_map (and report headers)
    b"pgd",  # show_pte lines ("] pgd=", "*pgd="), its header ("pgdp="), "pgd = "
    b"PGD",  # x86 dump_pagetable, crash vtop
    b"PTE",  # crash tables and vtop
    b"PUD: ", b"PMD: ", b"P4D: ",  # crash vtop lines without PGD/PTE
    b"bad p",  # pte_ERROR and friends
    rb"swap (?:file |offset )?entry",  # swapfile.c and zap-path swp_entry_t messages
    b"VIRTUAL",  # crash vm -p / vtop header
)
