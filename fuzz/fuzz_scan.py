#!/usr/bin/env python3
"""Coverage-guided fuzzing of scan's engine (uffdpte/scan: reader, cleanup, context,
patterns, engine, render), with atheris.

For any bytes, under a profile pin chosen from the input's first byte: the scan never raises
in any mode; ANNOTATE passes the text through byte for byte (only its own "    uffdpte: "
lines added); JSON, --only and the annotations count the same values; every value reported
is literally in the input (after undoing quoted-printable soft breaks and =3D, the only
joins scan makes, and removing ANSI escapes) and on a line that exists; and feeding the input in small chunks through
the stream reader gives the same output as feeding it whole.

    python3 fuzz/fuzz_scan.py -max_total_time=300 fuzz/corpus/scan fuzz/seeds/scan examples

(see fuzz/README.md).  A crash prints the input and writes it as crash-<sha1>.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

with atheris.instrument_imports(include=["uffdpte"]):
    from uffdpte.scan import ANNOTATE, JSON, ONLY, Pins, Scanner, Stats, scan_bytes
    from uffdpte.scan.reader import chunks

MARK = b"    uffdpte: "
#: what the first input byte pins (most inputs: nothing, as `dmesg | uffdpte scan`)
PINS = [{}, {}, {}, {}, {"arch": "x86_64"}, {"arch": "arm64"}, {"kernel": "6.1"},
        {"kernel": "5.10", "arch": "x86_64"}, {"arch": "arm64", "page_size": "64k"},
        {"arch": "x86_64", "levels": 5}, {"scheme": "special-pte"},
        {"arch": "arm64", "pa_bits": 52, "kernel": "6.12"}]


#: ECMA-48 escape sequences (CSI, OSC, two-byte): scan reads text as a terminal shows it, so
#: a value may be coloured in pieces (grep --color, journalctl); README: "ANSI" cleanup
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def haystacks(data: bytes) -> list[bytes]:
    """The input as scan may read it: as is, with quoted-printable soft breaks and =3D undone
    (the only joins scan makes across lines) and/or ANSI escapes removed; lower case."""
    def unsoft(b: bytes) -> bytes:
        return re.sub(rb"=\r?\n", b"", b).replace(b"=3D", b"=")
    plain = _ANSI.sub(b"", data)
    return [x.lower() for x in (data, unsoft(data), plain, unsoft(plain), _ANSI.sub(b"", unsoft(data)))]


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    pins = PINS[data[0] % len(PINS)]
    chunk = 1 + data[-1] % 97
    data = data[1:]

    out, _ = scan_bytes(data, mode=ANNOTATE, **pins)
    kept = b"\n".join(ln for ln in out.split(b"\n") if not ln.startswith(MARK))
    if kept != data:  # an annotated last line without "\n" gets one
        assert not data.endswith(b"\n") and kept == data + b"\n", (data, out)

    jout, _ = scan_bytes(data, mode=JSON, **pins)
    # JSON Lines: records end in "\n" only (a record may hold U+0085 or U+2028 from the text,
    # which str.splitlines() would also split on)
    recs = [json.loads(x) for x in jout.split(b"\n") if x]
    oout, _ = scan_bytes(data, mode=ONLY, **pins)
    assert oout.count(b"\n") == len(recs), (data, oout, jout)
    assert out.count(b"\n" + MARK) + out.startswith(MARK) == len(recs), (data, out, jout)

    hay = haystacks(data)
    nlines = data.count(b"\n") + 1
    for r in recs:
        digits = r["input"].lower().encode()
        assert re.fullmatch(rb"[0-9a-f]{1,16}", digits), r
        assert any(digits in h for h in hay), (data, r["input"])
        assert 1 <= r["line"] <= nlines, (data, r["line"])
        if r.get("encoding") == "raw":  # (a value no profile fits has no decode keys)
            assert int(r["value"], 16) == int(r["input"], 16), r

    # the stream reader: chunk boundaries change nothing (this found the quoted-printable
    # soft break at a read boundary, now tests/test_robustness_properties.py::
    # test_scan_soft_break_at_a_read_boundary)
    parts: list[bytes] = []
    sc = Scanner("-", Pins(**pins), JSON, False, parts.append, Stats())
    for kind, piece in chunks(io.BytesIO(data), chunk=chunk, max_pending=1 << 20):
        sc.feed(kind, piece)
    sc.close()
    whole, _ = scan_bytes(data, mode=JSON, alternatives=False, **pins)
    assert b"".join(parts) == whole, (data, chunk)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
