"""Unix-filter plumbing: chunked line reading, batched writes, quiet broken pipes.

Input is read with ``os.read`` in 64 KiB chunks, so a bulk file moves in big pieces while
``dmesg -w | uffdpte ...`` gets each record as soon as its line arrives: output is flushed
after every chunk, which is exactly when the next read might block.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO, Iterator

#: input read size: big enough to amortise the syscalls, small enough that a batch's output
#: (a JSON record can be a kilobyte per 17-byte input line) stays a few megabytes
CHUNK = 1 << 16


def line_batches(stream: BinaryIO, chunk: int = CHUNK) -> Iterator[tuple[int, list[bytes]]]:
    """Yield (number of the first line, lines) per chunk read; the last line may lack \\n."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    read = (lambda: os.read(fd, chunk)) if fd is not None else (lambda: stream.read(chunk))
    pending = b""
    lineno = 1
    while True:
        data = read()
        if not data:
            break
        data = pending + data
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            continue
        pending = data[cut + 1:]
        lines = data[:cut].split(b"\n")
        yield lineno, lines
        lineno += len(lines)
    if pending:
        yield lineno, [pending]


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
