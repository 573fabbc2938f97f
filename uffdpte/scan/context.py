"""What the text says about the kernel that printed it, per report.

A report is the run of lines one kernel event prints: a header (``BUG: ...``, ``Unable to
handle kernel ...``), the messages with entry values, then ``dump_stack()``'s ``CPU: ...
Not tainted 6.1.0-13-amd64 #1 ...`` line, which names the kernel *after* the values.  So a
value waits (bounded, see :mod:`.engine`) until its report's version line or the next
report decides its context.  Facts a report does not carry are taken from earlier text (a
boot banner, a previous report, crash's ``sys`` output), always saying which line.

Every clue is a row with the kernel (or crash) source of its format and the releases it holds
for (an :class:`~uffdpte.layouts.model.Era`), like the value patterns in :mod:`.patterns`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..kver import KernelVersion, KernelVersionError, parse_kernel
from ..layouts.model import Era, v
from ..profile import Profile, ProfileError, cached_resolve
from .patterns import _rx

VERSION, STICKY_VERSION, ARCH, REPORT_START = "version", "sticky_version", "arch", "report_start"


@dataclass(frozen=True)
class Clue:
    id: str
    kind: str
    needle: str
    regex: re.Pattern[str]
    source: str
    #: the releases whose format this is; its source says how the boundaries are known
    era: Era
    arch: str | None = None  # for ARCH clues: the arch the line implies
    #: for ARCH clues: how sure (3 = names the machine, 2 = arch-specific code printed it,
    #: 1 = a guess from a firmware/board string)
    strength: int = 0
    #: for version clues: how many lines after this one are read whatever they contain, for
    #: the arch hints that follow (the register dump, "Hardware name:", crash's MACHINE:)
    read_after: int = 0

    @property
    def versions(self) -> str:
        return self.era.source


_REL = r"(?P<release>\d+\.\d+[^\s#]*)"
#: crash's output: the crash-utility release, not the kernel's, decides the format
_CRASH = Era(source="crash 7.x/8.x")

CLUES: tuple[Clue, ...] = (
    Clue("dump_stack_print_info", VERSION, "CPU: ",
         _rx(r"CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: .{0,20}? (?:Kdump: loaded )?"
             r"(?:Not tainted|Tainted: [A-Z ]*?) +" + _REL + r" +#"),
         "lib/dump_stack.c dump_stack_print_info(): \"%sCPU: %d PID: %d Comm: %.20s %s%s %s "
         "%.*s\" (release, then the '#N' of the version); \"CPU: %d UID: %u PID: %d ...\" "
         "from about 6.11 (Suren Baghdasaryan, 2024; estimated); a preempt model is appended "
         "from about 6.15",
         Era(source="2.6.x to 7.2 (read in 5.10, 6.12; the UID: form is estimated)"),
         read_after=6),
    Clue("linux_banner", STICKY_VERSION, "Linux version",
         _rx(r"Linux version " + _REL + r" \("),
         "init/version.c linux_banner (init/version-timestamp.c in 6.12): \"Linux version \" "
         "UTS_RELEASE \" (\" LINUX_COMPILE_BY \"@\" ... printed at boot",
         Era(source="every release (read in 5.10, 6.12)")),
    Clue("crash_sys_release", STICKY_VERSION, "RELEASE:",
         _rx(r"\s*RELEASE: " + _REL + r"\s*$"),
         "crash kernel.c display_sys_stats(): \"     RELEASE: %s\" (sys command, banner)",
         _CRASH, read_after=3),
    Clue("crash_sys_machine", ARCH, "MACHINE:",
         _rx(r"\s*MACHINE: (?P<arch>x86_64|aarch64|arm64)\b"),
         "crash kernel.c display_sys_stats(): \"     MACHINE: %s\"", _CRASH, strength=3),
    Clue("x86_show_ip", ARCH, "RIP: ", _rx(r"RIP: [0-9a-fA-F]{4}:"),
         "arch/x86/kernel/dumpstack.c show_ip(): \"%sRIP: %04x:%pS\"; older x86_64 "
         "__show_regs() printed \"RIP: %04lx:[<%016lx>] \", which the regex also matches",
         Era(source="read in 5.10, 6.12; the older form seen in old arch/x86_64 process.c "
             "copies, its last release not identified"), arch="x86_64", strength=2),
    Clue("arm64_show_regs", ARCH, "pc : ", _rx(r"pc : \S"),
         "arch/arm64/kernel/process.c __show_regs(): \"pc : %pS\" (kernel mode) or "
         "\"pc : %016llx\"; older arm64 printed \"PC is at %pS\", \"LR is at %pS\", then "
         "\"pc : [<%016llx>] lr : [<%016llx>] pstate: %08llx\" (4.14.x oops logs), which the "
         "regex also matches",
         Era(source="\"pc : %pS\" read in 5.10, 6.1, 6.12, 7.2 and seen in 4.19.x oops logs; "
             "the \"PC is at\" form in 4.14.x oops logs (the release that changed it is not "
             "identified)"), arch="arm64", strength=2),
    Clue("hardware_name_dt", ARCH, "Hardware name:", _rx(r"Hardware name: .*\(DT\)\s*$"),
         "lib/dump_stack.c \"%sHardware name: %s\"; a device-tree board (\"(DT)\") among the "
         "supported arches is arm64",
         Era(source="read in 5.10, 6.12 (the line is older; its first release not dated)"),
         arch="arm64", strength=1),
    Clue("hardware_name_pc", ARCH, "Hardware name:",
         _rx(r"Hardware name: .*(?:QEMU Standard PC|i440FX|Q35|ICH9)"),
         "lib/dump_stack.c \"%sHardware name: %s\"; a QEMU PC machine is x86",
         Era(source="read in 5.10, 6.12 (the line is older; its first release not dated)"),
         arch="x86_64", strength=1),
    Clue("bug_header", REPORT_START, "BUG",
         _rx(r"(?:BUG: (?!Bad page map: \d+ messages suppressed)|kernel BUG at )"),
         "\"BUG: \": mm/memory.c (\"BUG: Bad page map in process\"), arch/x86/mm/fault.c "
         "show_fault_oops() (\"BUG: unable to handle page fault for address: %px\", \"BUG: "
         "kernel NULL pointer dereference, address: %px\"); \"kernel BUG at %s:%u!\": "
         "lib/bug.c report_bug() with CONFIG_GENERIC_BUG (selected by x86 and arm64)",
         Era(source="read in 5.10, 6.12 (show_fault_oops, lib/bug.c, GENERIC_BUG in the x86 "
             "and arm64 Kconfig)")),
    Clue("arm64_die_kernel_fault", REPORT_START, "Unable to handle kernel",
         _rx(r"Unable to handle kernel "),
         "arch/arm64/mm/fault.c die_kernel_fault(): \"Unable to handle kernel %s at virtual "
         "address %016lx\" (__do_kernel_fault() in older trees, \"%08lx\" in 3.x)",
         Era(source="read in 5.10, 6.1, 6.12, 7.2 and the torvalds/linux trees at f99e44a7 "
             "(3.x) and 00bbd5d9 (about 4.19)")),
    Clue("show_pte_old_header", ARCH, "pgd = ", _rx(r"pgd = \S+\s*$"),
         "arch/arm64/mm/fault.c show_pte() before the \"pgtable:\" header: \"pgd = %p\"",
         Era(until=v("4.14"), source="3.x (torvalds/linux tree at f99e44a7; 4.4.55 oops logs) "
             "until the header replaced it (estimated before 4.14: 4.14.x logs print the "
             "header)", verified=False), arch="arm64", strength=2),
)

#: clues that describe the whole text (a boot, a crash session), not one report
STICKY_CLUES = frozenset(c.id for c in CLUES if c.kind == STICKY_VERSION)

#: needles (regex fragments) for the clues that must be found anywhere; the arch hints
#: (RIP:, pc :, Hardware name:, MACHINE:) follow a version line and are read from the
#: lines after it (Clue.read_after), so they cost nothing on the rest of the input.
CLUE_NEEDLES: tuple[bytes, ...] = (b"CPU: ", b"Linux version", b"RELEASE:", b"Unable to handle")

_ARCH_NAMES = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "x86_64"}


@dataclass(frozen=True)
class Fact:
    value: object
    line: int
    why: str  # the clue or pattern id

    @property
    def where(self) -> str:
        return f"text line {self.line}"


@dataclass
class Geometry:
    """arm64 show_pte header: page size and VA bits."""
    page_kb: int
    va_bits: int


@dataclass
class Report:
    start: int
    header: bool = False
    version: Fact | None = None
    arch: list[Fact] = field(default_factory=list)  # value: (arch, strength)
    geometry: Fact | None = None
    levels: Fact | None = None
    pending: list = field(default_factory=list)  # findings awaiting this report's context
    settle: int | None = None  # the line after which the report's context is final

    def best_arch(self) -> Fact | None:
        # the surest, and among equally sure ones the latest
        return max(self.arch, key=lambda f: (f.value[1], f.line)) if self.arch else None


@dataclass(frozen=True)
class Pins:
    """The profile options the user gave (None = not given)."""
    arch: str | None = None
    kernel: str | None = None
    config: str | None = None
    page_size: str | None = None
    pa_bits: int | None = None
    levels: int | None = None
    scheme: str | None = None


class ProfileChoice:
    """A resolved profile for one value and what the text or options said."""

    __slots__ = ("profile", "source", "sources", "notes", "error")

    def __init__(self, profile: Profile | None, sources: dict[str, str], notes: list[str],
                 error: str | None = None) -> None:
        self.profile = profile
        self.sources = sources
        self.source = sources.get("kernel", "default")
        self.notes = notes
        self.error = error


def kernel_of(text: str) -> KernelVersion | None:
    try:
        return parse_kernel(text)
    except KernelVersionError:
        return None


class Context:
    """The current report, the facts carried from earlier text, and the user's pins."""

    def __init__(self, pins: Pins) -> None:
        self.pins = pins
        self.report = Report(start=1)
        self.sticky_version: Fact | None = None
        self.sticky_arch: Fact | None = None
        self.sticky_geometry: Fact | None = None
        self.sticky_levels: Fact | None = None

    # --- what lines say ---------------------------------------------------------------------
    def match(self, text: str) -> tuple[Clue, re.Match[str]] | None:
        """The context clue in this line, if any (no effect until :meth:`apply`)."""
        for clue in CLUES:
            if clue.needle in text:
                m = clue.regex.match(text)
                if m:
                    if clue.kind in (VERSION, STICKY_VERSION) and \
                            kernel_of(m.group("release")) is None:
                        return None
                    return clue, m
        return None

    def is_new_kernel(self, m: re.Match[str]) -> bool:
        return self.sticky_version is not None and self.sticky_version.value != m.group("release")

    def apply(self, clue: Clue, m: re.Match[str], line: int) -> None:
        """Record what a clue line says, in the current report and for later text."""
        if clue.kind in (VERSION, STICKY_VERSION):
            release = m.group("release")
            kv = kernel_of(release)
            fact = Fact(release, line, clue.id)
            if self.is_new_kernel(m):
                # another kernel, maybe another machine: what earlier reports said about
                # arch, page size and paging depth no longer carries over
                r = self.report
                self.sticky_arch = r.best_arch()
                self.sticky_geometry = r.geometry
                self.sticky_levels = r.levels
            self.sticky_version = fact
            if clue.kind == VERSION and self.report.version is None:
                self.report.version = fact
            if kv is not None and kv.arch_hint:
                self.add_arch(kv.arch_hint, line, clue.id, 3)
        elif clue.kind == ARCH:
            arch = clue.arch or _ARCH_NAMES.get(m.group("arch"), m.group("arch"))
            self.add_arch(arch, line, clue.id, clue.strength)

    def add_arch(self, arch: str, line: int, why: str, strength: int) -> None:
        fact = Fact((arch, strength), line, why)
        self.report.arch.append(fact)
        if self.sticky_arch is None or strength >= self.sticky_arch.value[1] or \
                self.sticky_arch.line < self.report.start:
            self.sticky_arch = fact

    def set_geometry(self, page_kb: int, va_bits: int, line: int, why: str) -> Fact:
        fact = Fact(Geometry(page_kb, va_bits), line, why)
        self.report.geometry = fact
        self.sticky_geometry = fact
        return fact

    def set_levels(self, levels: int, line: int, why: str) -> None:
        fact = Fact(levels, line, why)
        self.report.levels = fact
        self.sticky_levels = fact

    def new_report(self, line: int, header: bool) -> Report:
        self.report = Report(start=line, header=header)
        return self.report

    # --- the profile for one value ------------------------------------------------------------
    def choose(self, report: Report, shape_arch: Fact | None, geometry: Fact | None,
               borrowed_note: bool = True) -> ProfileChoice:
        """The profile for a value in ``report``: options first, then the report's own
        clues, then earlier text, then the defaults."""
        pins = self.pins
        notes: list[str] = []
        src: dict[str, str] = {}

        version = report.version or self.sticky_version
        if version is not None and report.version is None and borrowed_note and \
                version.why not in STICKY_CLUES:
            notes.append(f"kernel from an earlier report (line {version.line})")
        # arch
        arch: str | None = None
        kernel_text: str | None = None
        kv = None
        if pins.kernel is not None:
            kernel_text, src["kernel"] = pins.kernel, "option"
            kv = kernel_of(pins.kernel)
        elif version is not None:
            kernel_text, src["kernel"] = str(version.value), version.where
            kv = kernel_of(kernel_text)
        if pins.arch is not None:
            arch, src["arch"] = pins.arch, "option"
        elif pins.kernel is not None and kv is not None and kv.arch_hint:
            arch, src["arch"] = kv.arch_hint, "option"
        elif shape_arch is not None:
            arch, src["arch"] = str(shape_arch.value), shape_arch.where
        else:
            best = report.best_arch() or self.sticky_arch
            if best is not None:
                arch, src["arch"] = best.value[0], best.where
        if shape_arch is not None and arch != shape_arch.value:
            notes.append(f"the message's shape is {shape_arch.value} "
                         f"({shape_arch.why}), but the options say {arch}")
        if kv is not None and kv.arch_hint and arch and kv.arch_hint != arch and \
                src.get("kernel") != "option":  # (an option pair like that is a usage error)
            notes.append(f"kernel string {kernel_text} names {kv.arch_hint}, the message "
                         f"is {arch}: version {kv.short} used without the distro suffix")
            kernel_text = kv.short
        # geometry
        page_size = pins.page_size
        pa_bits = pins.pa_bits
        if page_size is not None:
            src["page_size"] = "option"
        if pa_bits is not None:
            src["pa_bits"] = "option"
        if arch == "arm64":
            geo = geometry or report.geometry or self.sticky_geometry
            if page_size is None and geo is not None:
                page_size = f"{geo.value.page_kb}k"
                src["page_size"] = geo.where
            elif page_size is None and kv is not None and kv.flavour and \
                    kv.flavour.endswith(("-16k", "-64k")):
                page_size = kv.flavour.rsplit("-", 1)[1]
                src["page_size"] = src.get("kernel", "default")
            if pa_bits is None and geo is not None and geo.value.va_bits == 52 and \
                    (page_size or "4k") in ("4k", "16k"):
                # 52-bit VAs with 4k/16k pages: LPA2 is active, PTEs use the LPA2 format
                pa_bits = 52
                src["pa_bits"] = geo.where
        levels = pins.levels
        if levels is not None:
            src["levels"] = "option"
        elif arch == "x86_64":
            lv = report.levels or self.sticky_levels
            if lv is not None:
                levels = int(lv.value)  # type: ignore[arg-type]
                src["levels"] = lv.where
        if pins.config is not None:
            src["config"] = "option"
        if pins.scheme is not None:
            src["scheme"] = "option"

        # (resolving is cached per profile by cached_resolve; the engine shares a choice
        # among the values of one line)
        choice = self._resolve(arch, kernel_text, page_size, pa_bits, levels, src)
        if notes:
            choice.notes = notes + choice.notes
        return choice

    def _resolve(self, arch, kernel_text, page_size, pa_bits, levels, src) -> ProfileChoice:
        pins = self.pins
        notes: list[str] = []
        attempt = dict(arch=arch, kernel=kernel_text, page_size=page_size, pa_bits=pa_bits,
                       levels=levels)
        err = ""
        # What the text implied may be impossible together (52-bit VAs on a kernel without
        # LPA2); drop text-derived geometry first, never an option, and say so.
        for drop in (None, "pa_bits", "levels", "page_size"):
            if drop is not None:
                if attempt[drop] is None or src.get(drop) == "option":
                    continue
                notes.append(f"{drop} {attempt[drop]} from {src[drop]} is impossible with "
                             "the rest of the profile: not used")
                attempt[drop] = None
                src = {k: v for k, v in src.items() if k != drop}
            try:
                # one Profile object per distinct profile: decoders and their memos are
                # cached per Profile, so two reports of the same kernel share them (the
                # sources stay outside)
                p = cached_resolve(attempt["arch"], attempt["kernel"], pins.config,
                                   attempt["page_size"], attempt["pa_bits"], attempt["levels"],
                                   pins.scheme)
            except ProfileError as e:
                err = str(e)
                continue
            # where each dimension came from: what we passed says it; the rest is resolve()'s
            # default, or follows the kernel string (Debian config, distro arch)
            sources = dict(p.sources)
            for k, how in list(sources.items()):
                if k in src:
                    sources[k] = src[k]
                elif how == "kernel string":
                    sources[k] = src.get("kernel", "default")
            return ProfileChoice(p, sources, notes)
        return ProfileChoice(None, dict(src), notes, err)
