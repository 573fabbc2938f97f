"""Input values: hex tokens from arguments or stdin, each accepted or rejected with a reason.

The rule (README, "Input"): on stdin, text after ``#`` is a comment; a value is hex, as the
kernel prints it, with or without a ``0x``/``0X`` prefix, at most 64 bits (leading zeros
allowed).  An optional level prefix ``pte:`` / ``pmd=`` ... is accepted because that is how
the kernel labels values in messages.  Python's ``int(s, 16)`` is laxer (signs,
underscores, whitespace, non-ASCII digits); every one of those is rejected here, with the
reason.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import BinaryIO, Iterator, NamedTuple

_HEXDIGITS = b"0123456789abcdefABCDEF"


@lru_cache(maxsize=None)
def _rx(name: str) -> re.Pattern[bytes]:
    """The patterns of the slow path, compiled on first use (a bare value never needs them)."""
    if name == "hex":
        return re.compile(rb"(?:0[xX])?0*([0-9a-fA-F]{1,16})")
    return re.compile(rb"(pgd|p4d|pud|pmd|pte)[:=]", re.IGNORECASE)


def _split(line: bytes) -> list[bytes]:
    """Values on one line are separated by whitespace or commas."""
    return line.replace(b",", b" ").split()

MAX_SHOWN = 40  # characters of a bad token quoted in an error


class Token(NamedTuple):
    text: str  # the token as given (decoded for display)
    value: int | None  # None when rejected
    error: str | None
    line: int  # 1-based; 0 for command-line arguments
    level: str | None = None  # from a "pmd:" style prefix
    size: int | None = None  # the token's length when ``text`` is only its start


def show(raw: bytes | str, size: int | None = None) -> str:
    """A token quoted for an error message: printable, bounded (``size``: its real length
    when ``raw`` is only its start)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "backslashreplace")
    size = len(raw) if size is None else size
    text = raw if size <= MAX_SHOWN else raw[:MAX_SHOWN] + f"… ({size} chars)"
    return repr(text)


def parse_token(raw: bytes, line: int = 0) -> Token:
    """One token -> value, or the reason it is not one."""
    digits = raw[2:] if raw[:2] in (b"0x", b"0X") else raw
    if 0 < len(digits) <= 16 and not digits.translate(None, _HEXDIGITS):
        return Token(raw.decode(), int(digits, 16), None, line)  # the common case
    level = None
    m = _rx("level").match(raw)
    body = raw
    if m:
        level = m.group(1).decode().lower()
        body = raw[m.end():]
    hm = _rx("hex").fullmatch(body)
    text = raw.decode("utf-8", "backslashreplace")
    if hm:
        return Token(text, int(hm.group(1), 16), None, line, level)
    return Token(text, None, _why_not(body), line, level)


def _why_not(body: bytes) -> str:
    if not body:
        return "empty value"
    if body.lower() in (b"0x",):
        return "'0x' with no digits"
    if body[:1] in (b"-", b"+"):
        return "signed value: entries are unsigned 64-bit hex"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not valid UTF-8 text"
    if "\x00" in text:
        return "contains a NUL byte"
    digits = text[2:] if text[:2].lower() == "0x" else text
    if "_" in digits:
        return "underscores are not allowed in values"
    if any(not c.isascii() for c in digits):
        return "non-ASCII characters (only 0-9, a-f, A-F are hex digits here)"
    if all(c in "0123456789abcdefABCDEF" for c in digits):
        return f"over 64 bits ({len(digits.lstrip('0'))} significant hex digits)"
    return "not a hex value (values are hex, as the kernel prints them: 8000000071c00227)"


def tokens_from_args(args: list[str]) -> Iterator[Token]:
    for i, a in enumerate(args, 1):
        raw = a.encode("utf-8", "surrogateescape")
        parts = _split(raw)
        if not parts:
            yield Token(a, None, "empty value", 0)
            continue
        for p in parts:
            yield parse_token(p, 0)


def line_tokens(line: bytes, lineno: int) -> Iterator[Token]:
    """Tokens of one input line: text after '#' is a comment; blank lines hold none."""
    cut = line.find(b"#")
    if cut >= 0:
        line = line[:cut]
    for p in _split(line):
        yield parse_token(p, lineno)


# --- streaming stdin ----------------------------------------------------------------------

#: an unterminated line longer than this is passed on in pieces cut between values
LONG_LINE = 1 << 16
#: input read size: big enough to amortise the syscalls, small enough that a batch's output
#: (a JSON record can be a kilobyte per 17-byte input line) stays a few megabytes
CHUNK = 1 << 16
_SEPARATORS = b" \t\r\v\f,"
_NORMAL, _COMMENT, _HUGE = 0, 1, 2


class _HugeToken:
    """A token longer than LONG_LINE, read as parse_token would read it while keeping only
    what that needs: its start (label, 0x, the error message), how many of its digits are
    leading zeros, and its last 16 characters -- a megabyte of zeros and then 1 is 1."""

    def __init__(self, head: bytes) -> None:
        # head is the token's first LONG_LINE bytes or more: its label and 0x are all there
        self.head = head[:64]
        m = _rx("level").match(head)
        self.level = m.group(1).decode().lower() if m else None
        body = head[m.end():] if m else head
        self.body_head = body[:64]
        if body[:2] in (b"0x", b"0X"):
            body = body[2:]
        self.size = len(head) - len(body)  # the whole token's length, prefix included
        self.digits = 0  # characters after the prefix
        self.lead = 0  # leading '0's among them
        self.all_hex = True
        self.tail = b""
        self.add(body)

    def add(self, data: bytes) -> None:
        if self.lead == self.digits:  # only zeros so far
            self.lead += len(data) - len(data.lstrip(b"0"))
        self.size += len(data)
        self.digits += len(data)
        if self.all_hex and data.translate(None, _HEXDIGITS):
            self.all_hex = False
        self.tail = (self.tail + data[-16:])[-16:]

    def token(self, line: int) -> Token:
        text = self.head.decode("utf-8", "backslashreplace")
        if self.all_hex and self.digits:
            significant = self.digits - self.lead
            if significant <= 16:
                value = int(self.tail[-significant:], 16) if significant else 0
                return Token(text, value, None, line, self.level, size=self.size)
            why = f"over 64 bits ({significant} significant hex digits)"
        else:
            why = _why_not(self.body_head)
            if why.startswith("over 64 bits"):  # junk beyond the head
                why = "not a hex value (values are hex, as the kernel prints them)"
        return Token(text, None, why, line, self.level, size=self.size)


def value_batches(stream: BinaryIO, chunk: int = CHUNK) -> Iterator[tuple[int, bytes | Token]]:
    """Decode's stdin as (number of the first line, item): an item is whole lines joined by
    ``\\n`` (split by the caller, or counted in bulk by ``--summary``), a piece of a line
    (its number repeated) once it runs past LONG_LINE without a newline, or a ready
    :class:`Token` for a single token longer than that.  Text after ``#`` is dropped as it
    arrives: memory stays bounded whatever the line lengths."""
    try:
        fd = stream.fileno()
        read = lambda: os.read(fd, chunk)  # noqa: E731 -- what is available, not a full chunk
    except (AttributeError, OSError, ValueError):
        read = lambda: stream.read(chunk)  # noqa: E731
    lineno = 1
    parts: list[bytes] = []
    size = 0
    mode = _NORMAL
    huge: _HugeToken | None = None
    while True:
        data = read()
        if not data:
            break
        if mode == _COMMENT:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            data, mode = data[nl:], _NORMAL  # the newline ends the line below
        if mode == _HUGE:
            end = min((i for i in map(data.find, _SEPARATORS + b"#\n") if i >= 0),
                      default=-1)
            if end < 0:
                huge.add(data)
                continue
            huge.add(data[:end])
            yield lineno, huge.token(lineno)
            data, mode, huge = data[end:], _NORMAL, None
        cut = data.rfind(b"\n")
        if cut >= 0:
            head = data[:cut]
            if parts:
                parts.append(head)
                head = b"".join(parts)
            yield lineno, head
            lineno += head.count(b"\n") + 1
            rest = data[cut + 1:]
            parts, size = ([rest], len(rest)) if rest else ([], 0)
            continue
        parts.append(data)
        size += len(data)
        if size <= LONG_LINE:
            continue
        line = b"".join(parts)
        parts, size = [], 0
        hash_at = line.find(b"#")
        if hash_at >= 0:
            yield lineno, line[:hash_at]
            mode = _COMMENT
            continue
        k = max(line.rfind(c) for c in (b" ", b"\t", b"\r", b"\v", b"\f", b","))
        if k > 0:
            yield lineno, line[:k]
            parts, size = [line[k:]], len(line) - k
        else:
            start = len(line) - len(line.lstrip(_SEPARATORS))
            mode, huge = _HUGE, _HugeToken(line[start:])
    if mode == _HUGE:
        yield lineno, huge.token(lineno)
    elif parts:
        yield lineno, b"".join(parts)
