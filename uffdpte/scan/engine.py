"""The scan: find entry values in a stream of text, give each its report's profile, decode.

Speed comes from not looking: one compiled alternation of a few byte needles runs over
each chunk of input (in C), and only the lines it hits -- plus the few lines a hit says
must follow (a table row, the second line of a two-line message, a dump_page block) -- are
cleaned and matched against the pattern rows.  Everything else passes through untouched.

A value's context (the ``CPU: ... 6.1.0-13-amd64`` line) comes after it, so its decode
waits: the text from the first waiting value on is held, and released when the report's
version line has settled (SETTLE more lines, for ``Hardware name:`` and the register dump),
when the next report starts, after WINDOW lines, when more than MAX_HELD bytes are held,
when ``--follow`` input goes idle, or at the end.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from typing import Callable

from ..classify import classifier_for
from . import render
from .cleanup import Text, clean, ends_with_soft_break
from .context import (CLUE_NEEDLES, REPORT_START, STICKY_VERSION, VERSION, Clue, Context, Fact,
                      Pins, ProfileChoice, Report, kernel_of)
from .patterns import (DUMP_PAGE, FOLLOWERS, FREE, ROW_NO_VALUE, SWP_ENTRY, TABLE_HEADER,
                       VALUE_NEEDLES, VALUES, Pattern)
from .swapentry import SwpEntry

MAX_LINE = 8192  # a printk record is at most 1024 bytes; longer lines are not kernel text
WINDOW = 200  # lines a value waits for its report's version line
SETTLE = 6  # lines after the version line that may still add context
MAX_HELD = 8 << 20  # bytes of text held back while values wait
MAX_SOFT_BREAKS = 5  # quoted-printable continuation lines joined into one logical line


def _trigger(needles: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """One alternation over all needles, grouped by first byte: the regex engine then
    skips bytes that start no needle and tries one group where one does (about 10% faster
    than a flat alternation; the needles all start with a literal byte)."""
    groups: dict[bytes, list[bytes]] = {}
    for n in needles:
        groups.setdefault(n[:1], []).append(n[1:])
    return re.compile(b"|".join(re.escape(k) + b"(?:" + b"|".join(v) + b")"
                                for k, v in groups.items()))


TRIGGER = _trigger(VALUE_NEEDLES + CLUE_NEEDLES)

ANNOTATE, ONLY, JSON = "annotate", "only", "json"
#: counting instead of printing: each value joins the summary of its profile and level
SUMMARY = "summary"


class Stats:
    """What a scan found and skipped, for the summary on stderr and the tests."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()  # per message kind
        self.skipped: Counter[str] = Counter()  # per reason
        self.no_value: Counter[str] = Counter()  # recognised lines that print no entry value
        self.crosschecks: Counter[str] = Counter()  # agrees / disagrees / n/a
        self.notes: dict[str, None] = {}  # profile notes, once each, in order
        #: SUMMARY mode: one uffdpte.summary.Summary per (profile, level) the text used
        self.summaries: dict[tuple, object] = {}

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def summary(self) -> list[str]:
        total = sum(self.values.values())
        parts = [f"{total} value{'s' if total != 1 else ''}"]
        if self.values:
            parts[0] += " (" + ", ".join(f"{k} {n}" for k, n in sorted(self.values.items())) + ")"
        if self.crosschecks:
            parts.append("crosschecks: " + ", ".join(f"{n} {k}" for k, n in
                                                    sorted(self.crosschecks.items())))
        out = ["scan: " + "; ".join(parts)]
        if self.no_value:
            out.append("scan: recognised without an entry value: " + ", ".join(
                f"{k} {n}" for k, n in sorted(self.no_value.items())))
        skipped = sum(self.skipped.values())
        if skipped:
            out.append(f"scan: skipped {skipped}: " + "; ".join(
                f"{k} ({n})" for k, n in sorted(self.skipped.items())))
        return out


class Finding:
    """One value found in the text, waiting for (then holding) its decode."""

    __slots__ = ("pattern", "token", "value", "level", "line", "column", "shape", "geometry",
                 "crosscheck", "checked", "swp", "notes", "choice", "slot")

    def __init__(self, pattern: Pattern, token: str, level: str, line: int, column: int,
                 shape: Fact | None, geometry: Fact | None) -> None:
        self.pattern = pattern
        self.token = token
        self.value = int(token, 16)
        self.level = level
        self.line = line
        self.column = column
        self.shape = shape
        self.geometry = geometry
        self.crosscheck: dict | None = None  # what the text printed to compare with
        self.checked: dict | None = None  # the comparison, after decoding
        self.swp: SwpEntry | None = None
        self.notes: list[str] = []
        self.choice: ProfileChoice | None = None
        self.slot: Slot | None = None

    def __repr__(self) -> str:
        return f"<Finding {self.pattern.id} {self.level}:{self.token} line {self.line}>"


class Slot:
    """Where the decodes of one recognised line go: after that line, in order."""

    __slots__ = ("findings", "out", "newline", "eol")

    def __init__(self, findings: list[Finding], newline: bool, eol: bytes) -> None:
        self.findings = findings
        self.out: bytes | None = None
        self.newline = newline  # the recognised line had no "\n" (end of input)
        self.eol = eol  # the recognised line's end: annotations of a CRLF text use CRLF


class Scanner:
    """One input source: feed it chunks (see :mod:`.reader`), then close it.  ``write``
    receives the output bytes in order: the text and its annotations, the --only lines or
    the JSON records, depending on ``mode``."""

    def __init__(self, source: str, pins: Pins, mode: str, alternatives: bool,
                 write: Callable[[bytes], None], stats: Stats) -> None:
        self.source = source
        self.ctx = Context(pins)
        self.mode = mode
        self.alternatives = alternatives
        self.write = write
        self.stats = stats
        self.queue: deque[bytes | Slot] = deque()
        self.held = 0
        self.line = 1  # number of the next line to read
        self.expect: tuple[tuple[Pattern, ...], int] | None = None
        self.read_until = 0  # lines up to this one are read whatever they contain
        self.last_checked: tuple[Finding, int] | None = None
        self.carry = b""
        self.in_long = False
        self.long_hit = False
        self.eol = b"\n"

    # --- input ------------------------------------------------------------------------------
    def feed(self, kind: str, data: bytes) -> None:
        """kind: "data" (complete lines), "tail" (the last line, no newline), "long" (a
        piece of a line over the reader's limit), "idle" (no input for a while)."""
        if kind == "idle":
            self.release()
            return
        if kind == "long":
            if self.carry:
                self._chunk(b"", final=True)
            if not self.in_long:
                self.in_long, self.long_hit = True, False
            if not self.long_hit and TRIGGER.search(data):
                # counted once per line, and only if it could have held a value
                self.long_hit = True
                self.stats.skip(f"line over {MAX_LINE} bytes: not scanned")
            self._text(data)
            if data.endswith(b"\n"):
                self.line += 1
                self.in_long = False
            self._tick()
            return
        self._chunk(data, final=(kind == "tail"))

    def close(self) -> None:
        if self.carry:
            self._chunk(b"", final=True)
        self.release()

    def release(self) -> None:
        """Decode everything waiting with the context known now (end, idle input)."""
        r = self.ctx.report
        if r.pending:
            self._resolve(r)
        self._flush()

    # --- lines ------------------------------------------------------------------------------
    def _chunk(self, data: bytes, final: bool) -> None:
        if self.carry:
            data, self.carry = self.carry + data, b""
        n = len(data)
        pos = 0
        search = TRIGGER.search
        while pos < n:
            if self.line <= self.read_until or \
                    (self.expect is not None and self.line <= self.expect[1]):
                nxt = self._logical(data, pos, final)
                if nxt < 0:
                    return
                pos = nxt
                continue
            m = search(data, pos)
            if m is None:
                break
            ls = data.rfind(b"\n", pos, m.start()) + 1
            ls = self._soft_start(data, pos, ls)
            if ls > pos:
                self._text(data[pos:ls])
                self.line += data.count(b"\n", pos, ls)
                pos = ls
                self._tick()
            nxt = self._logical(data, pos, final)
            if nxt < 0:
                return
            pos = nxt
        if pos < n and not final:
            # lines ending in a quoted-printable soft break continue in the next read:
            # keep them for it, so where a read happens to end changes nothing
            tail = self._soft_start(data, pos, n)  # (data ends in "\n" here)
            if tail < n:
                self.carry = data[tail:]
                n = tail
        if pos < n:
            self._text(data[pos:n])
            self.line += data.count(b"\n", pos, n)
        self._tick()
        self._flush()

    @staticmethod
    def _soft_start(data: bytes, pos: int, ls: int) -> int:
        """Back up from the line at ``ls`` (``len(data)``: the end of the chunk) over lines
        that end in a quoted-printable soft break: a mailer breaks long lines at column 76,
        so the needle may sit on the continuation of a message that starts a line earlier,
        and a chunk that ends in such lines leaves them for the next read."""
        for _ in range(MAX_SOFT_BREAKS):
            if ls <= pos:
                break
            end = ls - 1  # the "\n" of the line before
            if not ends_with_soft_break(data[max(end - 2, pos):end]):
                break
            ls = data.rfind(b"\n", pos, end) + 1 if end > pos else pos
            ls = max(ls, pos)
        return ls

    def _logical(self, data: bytes, pos: int, final: bool) -> int:
        """Process the logical line at ``pos`` (joining quoted-printable soft breaks);
        returns where the next line starts, or -1 when it continues in the next chunk."""
        n = len(data)
        le = data.find(b"\n", pos)
        end = n if le < 0 else le
        phys = [data[pos:end]]
        while le >= 0 and len(phys) <= MAX_SOFT_BREAKS and ends_with_soft_break(phys[-1]):
            nxt = le + 1
            if nxt >= n:
                if final:
                    break
                self.carry = data[pos:]  # the continuation is in the next chunk
                return -1
            le = data.find(b"\n", nxt)
            end = n if le < 0 else le
            phys.append(data[nxt:end])
        stop = n if le < 0 else le + 1
        first = self.line
        self._text(data[pos:stop])
        self.line += len(phys)
        if stop - pos > MAX_LINE:
            if TRIGGER.search(data, pos, stop):
                self.stats.skip(f"line over {MAX_LINE} bytes: not scanned")
        else:
            self.eol = b"\r\n" if data[stop - 2:stop] == b"\r\n" else b"\n"
            self._line(clean(phys, first), first, first + len(phys) - 1, le < 0)
        self._tick()
        return stop

    def _line(self, t: Text, first: int, last: int, no_newline: bool) -> None:
        text = t.text
        hit = self.ctx.match(text) if text else None
        if hit is not None:
            self._on_clue(hit[0], hit[1], first)
        expect = self.expect
        matched = False
        if expect is not None and first <= expect[1]:
            for row in expect[0]:
                m = row.regex.match(text)
                if m:
                    matched = True
                    self._on_match(row, m, t, first, last, no_newline)
                    break
            if self.expect is expect and last >= expect[1]:
                self.expect = None
        if matched:
            return
        for row in FREE:
            if row.needle in text:
                m = row.regex.match(text)
                if m:
                    self._on_match(row, m, t, first, last, no_newline)
                    return
        for row in FREE:
            if row.loose is not None and row.needle in text and row.loose.match(text):
                self.stats.skip(f"{row.message}: line does not match the format")
                return

    def _on_clue(self, clue: Clue, m: re.Match[str], line: int) -> None:
        ctx = self.ctx
        r = ctx.report
        kind = clue.kind
        if kind == REPORT_START:
            self.last_checked = None
            if r.pending:
                if not r.header and r.version is None and ctx.sticky_version is None:
                    # values printed without a report of their own (swapfile.c messages)
                    # and nothing earlier to go by: this report's context is the best guess
                    r.header = True
                    return
                # a report ends without a version line, or standalone messages end: decode
                # them with what the text said so far
                self._resolve(r)
            ctx.new_report(line, header=True)
        elif kind in (VERSION, STICKY_VERSION):
            if ctx.is_new_kernel(m) and (kind == STICKY_VERSION or r.version is not None):
                # a new boot, crash session or machine: what waits belongs to the old one
                if r.pending or r.version is not None:
                    self._resolve(r)
            ctx.apply(clue, m, line)
            r = ctx.report
            if kind == VERSION and r.settle is None:
                r.settle = line + SETTLE
            if kernel_of(m.group("release")).arch_hint is None:
                # the release does not name the arch: read the register dump and
                # "Hardware name:" lines that follow for it
                self.read_until = max(self.read_until, line + clue.read_after)
        else:
            ctx.apply(clue, m, line)

    def _on_match(self, row: Pattern, m: re.Match[str], t: Text, first: int, last: int,
                  no_newline: bool) -> None:
        fol = FOLLOWERS.get(row.id)
        if fol:
            self.expect = (fol, last + max(f.within for f in fol))
        if row.role == TABLE_HEADER:
            if "page_kb" in row.regex.groupindex:  # a header that gives the page size
                self.ctx.set_geometry(int(m.group("page_kb")), int(m.group("va_bits")), first,
                                      row.id)
            return
        if row.role == ROW_NO_VALUE:
            self.stats.no_value[row.message] += 1
            return
        if row.role == DUMP_PAGE:
            lc, self.last_checked = self.last_checked, None
            if lc is not None and first - lc[1] <= row.within and lc[0].crosscheck is None \
                    and lc[0].choice is None:
                line, col = t.where(m.start("pfn"))
                lc[0].crosscheck = {"kind": "dump_page", "line": line, "column": col,
                                    "pfn": int(m.group("pfn"), 16)}
            return
        assert row.role == VALUES
        report = self.ctx.report
        if report.version is not None and not row.session:
            # a value after its report's version line is a new message: the report ends
            self._resolve(report)
            report = self.ctx.report
        shape = Fact(row.arch, first, row.id) if row.arch else None
        if row.id == "crash_pte":
            flags = m.group("flags").split("|")
            if "PRESENT" in flags:  # x86 _PAGE_PRESENT; arm64 crash says VALID
                shape = Fact("x86_64", first, "crash pte FLAGS (PRESENT)")
            elif "VALID" in flags:
                shape = Fact("arm64", first, "crash pte FLAGS (VALID)")
        if row.id == "dump_pagetable" and m.group("p4d") is not None:
            pgd, p4d = int(m.group("pgd"), 16), int(m.group("p4d"), 16)
            if pgd & 1 and p4d & 1:
                # 4-level paging folds the P4D onto the PGD and prints the same value; two
                # present entries that differ are two tables: 5-level paging (LA57)
                self.ctx.set_levels(4 if pgd == p4d else 5, first, "dump_pagetable P4D")
        geometry = report.geometry if (row.arch != "x86_64") else None
        found: list[Finding] = []
        for group, level in row.values:
            tok = m.group(group)
            if tok is None:
                continue
            if level is None:
                level = m.group("level").lower()
            line, col = t.where(m.start(group))
            f = Finding(row, tok, level, line, col, shape, geometry)
            if row.id == "crash_pte":
                f.crosscheck = {"kind": "crash_physical", "line": line,
                                "column": t.where(m.start("phys"))[1],
                                "phys": int(m.group("phys"), 16)}
            elif row.id == "crash_pte_swap":
                f.crosscheck = {"kind": "crash_swap_offset", "line": line,
                                "column": t.where(m.start("off"))[1],
                                "offset": int(m.group("off"))}
            if row.checked == group:
                self.last_checked = (f, last)
            found.append(f)
        if not found:
            return
        slot = Slot(found, no_newline, self.eol if self.mode == ANNOTATE else b"\n")
        for f in found:
            f.slot = slot
        self.queue.append(slot)
        report.pending.extend(found)
        if row.session:
            # crash prints no report around its tables: its context is the session's
            # (sys: RELEASE/MACHINE), known before the command ran
            self._resolve(report, new=False)

    def _tick(self) -> None:
        r = self.ctx.report
        if r.settle is not None and self.line > r.settle:
            self._resolve(r)
        elif r.pending and self.line - r.pending[0].line > WINDOW:
            for f in r.pending:
                f.notes.append(f"no version line within {WINDOW} lines of the value")
            self._resolve(r)
        elif self.held > MAX_HELD and r.pending:
            self._resolve(r)

    # --- decoding -------------------------------------------------------------------------
    def _resolve(self, r: Report, new: bool = True) -> None:
        """Decode the report's waiting values with the context known now."""
        choices: dict[tuple, ProfileChoice] = {}  # values of one line share their profile
        for f in r.pending:
            key = (id(f.shape), id(f.geometry), f.pattern.session)
            choice = choices.get(key)
            if choice is None:
                choice = choices[key] = self.ctx.choose(r, f.shape, f.geometry,
                                                        borrowed_note=not f.pattern.session)
            self._decode(f, choice)
        r.pending = []
        if new:
            self.ctx.new_report(self.line, header=False)
        self._flush()

    def _decode(self, f: Finding, choice: ProfileChoice) -> None:
        f.choice = choice
        f.notes.extend(choice.notes)
        slot = f.slot
        if choice.profile is None:
            self.stats.skip(f"no possible profile ({choice.error})")
            f.slot = None
            if self.mode != SUMMARY:  # said in place, never dropped silently
                text = render.undecoded(f, f"no possible profile ({choice.error})", self.mode,
                                        self.source)
                slot.out = (slot.out or b"") + text.encode("utf-8", "surrogateescape") + slot.eol
            return
        p = choice.profile
        kv = p.kernel
        if not f.pattern.era.contains(kv):
            f.notes.append(f"this message format is not known in {kv.short} "
                           f"({f.pattern.versions})")
        for note in p.notes:
            self.stats.notes.setdefault(note)
        if f.pattern.encoding == SWP_ENTRY:
            clf = classifier_for(p, "pte", False)
            dec = clf.primary
            pte, t, off, problems = dec.swp_entry_check(f.value)
            f.swp = SwpEntry(f.value, t, off, dec.swp_type_shift, tuple(problems))
            e = clf.decode(pte, f.token)
            f.notes.append("PTE flag bits (exclusive, soft-dirty, uffd-wp) are not in "
                           "swp_entry_t: shown clear")
            alternatives = False
        else:
            e = classifier_for(p, f.level, self.alternatives).decode(f.value, f.token)
            alternatives = self.alternatives
        if f.crosscheck is not None:
            f.checked = render.crosscheck_of(f, e)
            agrees = f.checked["agrees"]
            self.stats.crosschecks["agrees" if agrees else "n/a" if agrees is None
                                   else "disagrees"] += 1
        self.stats.values[f.pattern.message] += 1
        if self.mode == SUMMARY:
            from ..summary import Summary
            key = (p._replace(sources=(), notes=()), e.decoder.level)
            summ = self.stats.summaries.get(key)
            if summ is None:
                summ = self.stats.summaries[key] = Summary(
                    classifier_for(p, e.decoder.level, self.alternatives))
            summ.add(e.value)
            f.slot = None
            return
        if self.mode == JSON:
            text = render.record(f, e, alternatives, self.source)
        elif self.mode == ONLY:
            text = render.only_line(f, e, alternatives, self.source)
        else:
            text = render.annotation(f, e, alternatives)
        f.slot = None
        slot.out = (slot.out or b"") + text.encode("utf-8", "surrogateescape") + slot.eol

    # --- output -----------------------------------------------------------------------------
    def _text(self, data: bytes) -> None:
        if self.mode != ANNOTATE or not data:
            return
        if self.queue:
            self.queue.append(data)
            self.held += len(data)
        else:
            self.write(data)

    def _flush(self) -> None:
        q = self.queue
        while q:
            item = q[0]
            if isinstance(item, bytes):
                self.held -= len(item)
                self.write(item)
            else:
                if any(f.slot is item for f in item.findings):
                    break  # still waiting
                if item.out:
                    if item.newline and self.mode == ANNOTATE:
                        self.write(item.eol)  # the recognised line ended the input unterminated
                    self.write(item.out)
            q.popleft()
