"""Input for scan: raw chunks that end at a line boundary, bounded memory, idle detection.

Like :func:`uffdpte.tokens.value_batches` (``os.read``, here in 1 MiB pieces, yielding what
is available so ``dmesg -w | uffdpte scan`` is answered as lines arrive), but the chunk stays
one ``bytes`` object -- the scan searches it whole instead of line by line -- and a line
that never ends (binary junk, a log without newlines) is handed on in pieces instead of
growing without bound.  With ``follow``, a pause in the input is reported as "idle" so
values waiting for their report's context are decoded instead of waiting for more text.
"""

from __future__ import annotations

import os
import select
from typing import BinaryIO, Iterator

CHUNK = 1 << 20
MAX_PENDING = 1 << 20  # a partial line longer than this is passed on in pieces
IDLE = 0.5  # seconds without input that count as a pause (--follow)


def chunks(stream: BinaryIO, follow: bool = False, chunk: int = CHUNK,
           max_pending: int = MAX_PENDING, idle: float = IDLE) -> Iterator[tuple[str, bytes]]:
    """Yield ("data", complete lines), ("long", a piece of an over-long line), ("idle", b"")
    and finally ("tail", the last line without its newline)."""
    try:
        fd: int | None = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    read = (lambda: os.read(fd, chunk)) if fd is not None else (lambda: stream.read(chunk))
    pending = b""
    in_long = False
    waiting = False  # an idle has been reported and nothing arrived since
    while True:
        if follow and fd is not None:
            try:
                ready, _, _ = select.select([fd], [], [], idle)
            except (OSError, ValueError):
                ready = [fd]
            if not ready:
                if not waiting:
                    waiting = True
                    yield "idle", b""
                continue
        data = read()
        waiting = False
        if not data:
            break
        if in_long:
            cut = data.find(b"\n")
            if cut < 0:
                yield "long", data
                continue
            yield "long", data[:cut + 1]
            in_long = False
            data = data[cut + 1:]
            if not data:
                continue
        if pending:
            data = pending + data
            pending = b""
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > max_pending:
                yield "long", data
                in_long = True
            else:
                pending = data
            continue
        pending = data[cut + 1:]
        yield "data", data[:cut + 1]
        if len(pending) > max_pending:
            yield "long", pending
            pending = b""
            in_long = True
    if pending:
        yield "tail", pending
