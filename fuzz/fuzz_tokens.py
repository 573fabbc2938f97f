#!/usr/bin/env python3
"""Coverage-guided fuzzing of the token parser (uffdpte/tokens.py), with atheris.

Checks, for any bytes: parse_token / line_tokens / tokens_from_args never raise; a token is
accepted exactly when the documented rule says so (README, "Input rules and exit status":
optional pgd|p4d|pud|pmd|pte label with ':' or '=', optional 0x/0X, ASCII hex digits, at
most 64 bits) and then with the value the digits spell; a rejected token has a one-line
reason and its quoted form (what stderr shows) is one bounded line; line_tokens ignores
text after '#'; every accepted value decodes at its level; decode's streaming stdin reader
(value_batches, with a small LONG_LINE so lines are long) yields the same tokens as the
whole lines, at any read size.

    python3 fuzz/fuzz_tokens.py -max_total_time=300 fuzz/corpus/tokens fuzz/seeds/tokens

(see fuzz/README.md).  A crash prints the input and writes it as crash-<sha1>.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

with atheris.instrument_imports(include=["uffdpte"]):
    from uffdpte.classify import classifier_for
    from uffdpte.profile import resolve
    from uffdpte import tokens
    from uffdpte.tokens import line_tokens, parse_token, show, tokens_from_args

LEVELS = ("pgd", "p4d", "pud", "pmd", "pte")
HEXDIGITS = b"0123456789abcdefABCDEF"
SEPARATORS = b" \t\n\r\x0b\x0c,"
PROFILE = resolve(arch="x86_64", kernel="6.12")


def expected(raw: bytes) -> tuple[str | None, int | None]:
    """The documented rule, written out independently of tokens.py: (level, value or None)."""
    level = None
    head = raw[:4].lower()
    if len(head) == 4 and head[:3].decode("latin-1") in LEVELS and head[3:] in (b":", b"="):
        level, raw = head[:3].decode(), raw[4:]
    if raw[:2] in (b"0x", b"0X"):
        raw = raw[2:]
    if not raw or raw.translate(None, HEXDIGITS):
        return level, None
    v = int(raw, 16)
    return level, (v if v < 1 << 64 else None)


def check_token(tok, raw: bytes, line: int) -> None:
    level, value = expected(raw)
    assert tok.line == line, (tok, line)
    assert tok.value == value, (raw, tok, value)
    assert tok.level == level, (raw, tok, level)
    if tok.value is None:
        assert isinstance(tok.error, str) and tok.error and "\n" not in tok.error, tok
    else:
        assert tok.error is None, tok
        assert 0 <= tok.value < 1 << 64
        classifier_for(PROFILE, tok.level or "pte", False).decode(tok.value, tok.text)
    shown = show(tok.text)
    assert "\n" not in shown and "\r" not in shown and len(shown) < 400, shown


def TestOneInput(data: bytes) -> None:
    # one token, as the splitter would hand it over (no separators inside)
    raw = data.translate(None, SEPARATORS)
    if raw:
        check_token(parse_token(raw, 7), raw, 7)

    # a whole stdin line: split on whitespace and commas, '#' starts a comment
    line = data.replace(b"\n", b" ")
    toks = list(line_tokens(line, 3))
    body = line.split(b"#", 1)[0]
    parts = [p for p in re.split(rb"[ \t\r\x0b\x0c,]+", body) if p]
    assert len(toks) == len(parts), (line, toks, parts)
    for tok, part in zip(toks, parts):
        check_token(tok, part, 3)

    # the same text as one command-line argument (argv is str: surrogateescape'd bytes)
    arg = data.decode("utf-8", "surrogateescape")
    atoks = list(tokens_from_args([arg]))
    assert atoks, arg
    aparts = [p for p in re.split(rb"[\s,]+", data) if p]
    if not aparts:
        assert len(atoks) == 1 and atoks[0].value is None and atoks[0].error
    else:
        assert len(atoks) == len(aparts), (data, atoks, aparts)
        for tok, part in zip(atoks, aparts):
            check_token(tok, part, 0)

    check_stream(data)


def check_stream(data: bytes) -> None:
    """value_batches at a read size and LONG_LINE taken from the input's first byte."""
    if not data:
        return
    chunk, long_line, data = 1 + data[0] % 29, 8 + data[0] % 37, data[1:]
    key = lambda t: (t.line, t.value, t.level, t.error is None)  # noqa: E731
    direct = [key(t) for i, line in enumerate(data.split(b"\n"), 1)
              for t in line_tokens(line, i)]
    saved, tokens.LONG_LINE = tokens.LONG_LINE, long_line
    try:
        streamed = []
        for first, item in tokens.value_batches(io.BytesIO(data), chunk=chunk):
            if isinstance(item, bytes):
                streamed += [key(t) for i, line in enumerate(item.split(b"\n"), first)
                             for t in line_tokens(line, i)]
            else:
                streamed.append(key(item))
    finally:
        tokens.LONG_LINE = saved
    assert streamed == direct, (data, chunk, long_line, streamed, direct)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
