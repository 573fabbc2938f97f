"""From a raw line of pasted text to the message the kernel (or crash) printed.

Real text wraps kernel messages in layers: ANSI colour (``dmesg --color``, ``journalctl``),
mail quoting (``> `` at any depth), a syslog or journal prefix (``Jan 12 10:00:00 host
kernel: ``), printk timestamps and caller ids (``[   63.912126][    T1] ``), CRLF line ends,
and in raw mail bodies quoted-printable: a soft line break (``=`` at the end of a line) may
split a value across two lines, and every ``=`` of the text is written ``=3D``.

:func:`clean` peels those layers off and remembers, for every character it keeps, the
physical line and byte column it came from, so a value found in the message can be reported
where it stands in the input.  Lines are decoded as Latin-1: one character per byte, so a
column is a byte offset and invalid UTF-8 or binary junk cannot fail to decode (it simply
never matches a pattern, which are ASCII-only).
"""

from __future__ import annotations

import re

#: ESC sequences: CSI (colour, cursor), OSC (titles, hyperlinks), and two-byte escapes.
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")

#: Mail quoting: "> ", ">> ", "> > " at the start of a line.
QUOTE = re.compile(r"[ \t]*(?:>[ \t]?)+")

#: Prefixes in front of a kernel message, peeled off repeatedly (they stack: a journal
#: line holds a syslog prefix, then the printk timestamp, then a caller id).  Each is
#: (name, regex anchored at the start).  Names are for tests and --debug, not output.
PREFIXES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((n, re.compile(p, re.ASCII)) for n, p in (
    ("quote", QUOTE.pattern),
    # printk timestamp "[   63.912126] " (kernel/printk/printk.c print_time)
    ("printk_time", r"\[\s*\d+\.\d+\]\s?"),
    # CONFIG_PRINTK_CALLER "[    T1] " / "[  C3] " (printk.c print_caller)
    ("printk_caller", r"\[\s*[TC]\d+\]\s?"),
    # dmesg -T "[Fri Jan 12 10:00:00 2024] " and dmesg --time-format iso
    ("dmesg_ctime", r"\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]\s?"),
    ("dmesg_iso", r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s"
                  r"(?=\S)(?!\S+ kernel: )"),
    # syslog / journalctl -o short / short-iso: "Jan 12 10:00:00 host kernel: "
    ("syslog", r"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
               r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
               r" \S+ kernel: "),
    ("kernel_tag", r"kernel: "),
    # dmesg -x: "kern  :alert : "
    ("dmesg_facility", r"(?:kern|user|mail|daemon|auth|syslog|lpr|news)\s*:"
                       r"\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*: "),
    # /proc/kmsg and netconsole: "<1>"; /dev/kmsg records: "1,234,5678,-;"
    ("log_level", r"<\d{1,3}>"),
    ("kmsg_record", r"\d{1,3},\d+,\d+,[-c+][^;]*;"),
))

#: A soft line break: "=" ends the physical line (after CRLF is undone).
SOFT_BREAK = b"="


class Text:
    """A cleaned message and where each of its characters came from."""

    __slots__ = ("text", "pos", "base", "first_line", "_head", "_quote")

    def __init__(self, text: str, pos: list[int] | None, first_line: int, head: str,
                 quote: str | None = None, base: int = 0) -> None:
        self.text = text
        #: per character: (physical line index << 32) | byte column (0-based); None when
        #: the text is one physical line with a prefix cut off (then column = base + i)
        self.pos = pos
        self.base = base
        self.first_line = first_line
        #: the text before its prefixes were peeled (``text`` is its tail) and the mail
        #: quoting when already known: what was removed is worked out only when asked
        self._head = head
        self._quote = quote

    @property
    def quote(self) -> str:
        """The mail quoting removed ("> > ")."""
        if self._quote is None:
            m = QUOTE.match(self._head)
            self._quote = m.group(0) if m else ""
        return self._quote

    @property
    def dropped(self) -> tuple[str, ...]:
        """The names of the prefixes peeled off, in order."""
        return tuple(_peel(self._head, 0)[1])

    def where(self, i: int) -> tuple[int, int]:
        """1-based (line, column) in the input of character ``i`` of the cleaned text."""
        pos = self.pos
        if pos is None:
            return self.first_line, self.base + i + 1
        p = pos[i] if i < len(pos) else (pos[-1] + 1 if pos else 0)
        return self.first_line + (p >> 32), (p & 0xFFFFFFFF) + 1

    def __repr__(self) -> str:
        return f"<Text line {self.first_line} {self.text!r}>"


#: all prefixes as one alternation (first listed wins, as in the loop it replaces): one
#: regex call per peeled prefix instead of one per prefix row
_ANY_PREFIX = re.compile("|".join(f"(?P<{name}>{rx.pattern})" for name, rx in PREFIXES),
                         re.ASCII)


def _peel(text: str, start: int) -> tuple[int, list[str]]:
    """Where the message starts after the stacked prefixes, and their names."""
    dropped: list[str] = []
    match = _ANY_PREFIX.match
    for _ in range(12):  # bounded so junk cannot loop
        m = match(text, start)
        if m is None or m.end() == start:
            break
        start = m.end()
        dropped.append(m.lastgroup or "")
    return start, dropped


def _drop(text: str, pos: list[int], spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """Remove character spans (sorted, non-overlapping), keeping positions aligned."""
    if not spans:
        return text, pos
    parts: list[str] = []
    keep: list[int] = []
    last = 0
    for a, b in spans:
        parts.append(text[last:a])
        keep.extend(pos[last:a])
        last = b
    parts.append(text[last:])
    keep.extend(pos[last:])
    return "".join(parts), keep


def ends_with_soft_break(raw: bytes) -> bool:
    """Does this physical line end in a quoted-printable soft line break?"""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.endswith(SOFT_BREAK)


def clean(lines: list[bytes], first_line: int) -> Text:
    """Clean one logical line: ``lines`` are physical lines joined by soft line breaks
    (every one but the last ends in ``=``), without their ``\\n``."""
    if len(lines) == 1:
        s = lines[0].decode("latin-1")
        if s.endswith("\r"):
            s = s[:-1]
        if "\x1b" not in s and "=3D" not in s:
            # the common case, kept cheap: one line, only prefixes to peel
            start = _peel(s, 0)[0]
            return Text(s[start:], None, first_line, s, base=start)
    text_parts: list[str] = []
    pos: list[int] = []
    quote = ""
    for k, raw in enumerate(lines):
        s = raw.decode("latin-1")
        if s.endswith("\r"):
            s = s[:-1]
        start = 0
        if k == 0:
            m = QUOTE.match(s)
            quote = m.group(0) if m else ""
        elif quote and s.startswith(quote):
            # a quoted copy of a raw QP body quotes every physical line: skip it again
            start = len(quote)
        if k < len(lines) - 1 and ends_with_soft_break(raw):
            s = s[:-1]
        text_parts.append(s[start:])
        pos.extend(range((k << 32) | start, (k << 32) | len(s)))
    text = "".join(text_parts)

    if "\x1b" in text:
        text, pos = _drop(text, pos, [m.span() for m in ANSI.finditer(text)])
    if "=3D" in text:
        # quoted-printable "=3D" is "=": keep the "=", drop "3D"
        text, pos = _drop(text, pos, [(m.start() + 1, m.end()) for m in
                                      re.finditer("=3D", text)])
    start = _peel(text, 0)[0]
    return Text(text[start:], pos[start:], first_line, text, quote)
