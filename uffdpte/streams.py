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


class Output:
    """Batched writes to stdout, flushed per batch; a closed pipe ends the run quietly."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        try:
            if self.parts:
                self.parts.append("")
                self.stream.write("\n".join(self.parts).encode("utf-8", "surrogateescape"))
                self.parts.clear()  # in place: callers may hold the list
            self.stream.flush()
        except BrokenPipeError:
            raise PipeClosed() from None


def silence_broken_pipe() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's exit flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
