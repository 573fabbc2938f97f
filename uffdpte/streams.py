"""Unix-filter plumbing: batched writes, quiet broken pipes.

Readers (:func:`uffdpte.tokens.value_batches`, :mod:`uffdpte.scan.reader`) use ``os.read``,
so a bulk file moves in big pieces while ``dmesg -w | uffdpte ...`` gets each record as soon
as its line arrives: output is flushed after every chunk, exactly when the next read might
block.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO


class PipeClosed(Exception):
    """The reader of stdout went away (``| head``): stop quietly."""


EXIT_PIPE = 128 + 13  # what a filter killed by SIGPIPE reports, as `cat | head` does


class _Batched:
    """Writes to stdout (or ``stream``) in batches; a closed pipe ends the run quietly."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def _send(self, data: bytes | None) -> None:
        try:
            if data:
                self.stream.write(data)
            self.stream.flush()
        except BrokenPipeError:
            raise PipeClosed() from None


class Output(_Batched):
    """Batched lines of text, written and flushed per batch."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        super().__init__(stream)
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        data = None
        if self.parts:
            self.parts.append("")
            data = "\n".join(self.parts).encode("utf-8", "surrogateescape")
            self.parts.clear()  # in place: callers may hold the list
        self._send(data)


class RawOutput(_Batched):
    """Batched bytes (scan passes its input through byte for byte), flushed per input chunk,
    or sooner once a batch passes LIMIT bytes (a chunk of junk values can decode to hundreds
    of megabytes)."""

    LIMIT = 1 << 22

    def __init__(self, stream: BinaryIO | None = None) -> None:
        super().__init__(stream)
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size > self.LIMIT:
            self.flush()

    def flush(self) -> None:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        self._send(data)


def silence_broken_pipe() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's exit flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
