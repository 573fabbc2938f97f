"""uffdpte scan: find every page-table entry value in kernel text and decode it in place.

Modules: :mod:`.patterns` (one row per kernel/crash message format, with its source),
:mod:`.context` (what the text says about the kernel, per report), :mod:`.cleanup`
(timestamps, prefixes, quoting, CRLF, quoted-printable, ANSI), :mod:`.swapentry`
(``swp_entry_t`` messages), :mod:`.engine` (the scan), :mod:`.reader` (input),
:mod:`.render` (annotation, ``--only`` and JSON output).

    >>> from uffdpte.scan import scan_bytes
    >>> out, stats = scan_bytes(b"BUG: Bad page map in process a  pte:8000000071c00227 "
    ...                         b"pmd:10a5d8067\\n", arch="x86_64", kernel="6.12", mode="only")
    >>> print(out.decode().split(" | ")[0].split(" flags=")[0])
    -:1:37: pte 0x8000000071c00227 present pfn=0x71c00
"""

from __future__ import annotations

import io

from .context import Pins
from .engine import ANNOTATE, JSON, ONLY, SUMMARY, Finding, Scanner, Stats
from .reader import CHUNK, chunks

__all__ = ["Scanner", "Stats", "Pins", "Finding", "scan_bytes", "scan_stream", "ANNOTATE",
           "ONLY", "JSON", "SUMMARY"]


def scan_stream(stream, scanner: Scanner, follow: bool = False, flush=None,
                chunk: int = CHUNK) -> None:
    """Feed a binary stream to a scanner chunk by chunk (``flush`` after each)."""
    for kind, data in chunks(stream, follow=follow, chunk=chunk):
        scanner.feed(kind, data)
        if flush is not None:
            flush()
    scanner.close()


def scan_bytes(data: bytes, *, source: str = "-", mode: str = ANNOTATE,
               alternatives: bool = False, chunk: int = CHUNK, **pins) -> tuple[bytes, Stats]:
    """Scan a byte string (tests, library use): returns the output and the statistics.
    ``chunk`` is the read size (the output must not depend on it)."""
    out: list[bytes] = []
    stats = Stats()
    scanner = Scanner(source, Pins(**pins), mode, alternatives, out.append, stats)
    scan_stream(io.BytesIO(data), scanner, chunk=chunk)
    return b"".join(out), stats
