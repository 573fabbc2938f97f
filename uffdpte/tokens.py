"""Input values: hex tokens from arguments or stdin, each accepted or rejected with a reason.

The rule (README, "Input"): on stdin, text after ``#`` is a comment; a value is hex, as the
kernel prints it, with or without a ``0x``/``0X`` prefix, at most 64 bits (leading zeros
allowed).  An optional level prefix ``pte:`` / ``pmd=`` ... is accepted because that is how
the kernel labels values in messages.  Python's ``int(s, 16)`` is laxer (signs,
underscores, whitespace, non-ASCII digits); every one of those is rejected here, with the
reason.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, NamedTuple

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


def show(raw: bytes | str) -> str:
    """A token quoted for an error message: printable, bounded."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "backslashreplace")
    text = raw if len(raw) <= MAX_SHOWN else raw[:MAX_SHOWN] + f"… ({len(raw)} chars)"
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
