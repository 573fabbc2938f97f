"""Properties of scan: it never raises, never invents a value, never changes the text, and
finds exactly the values a text was built with, however the text is dressed up or cut."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from uffdpte.scan import ANNOTATE, JSON, ONLY, scan_bytes

MARK = b"    uffdpte: "
U64 = st.integers(min_value=0, max_value=(1 << 64) - 1)


def _unsoft(data: bytes) -> bytes:
    """The input with quoted-printable soft line breaks and =3D undone (the only places
    where scan joins what the input keeps apart)."""
    return re.sub(rb"=\r?\n", b"", data).replace(b"=3D", b"=")


def _check(data: bytes, **pins) -> list[dict]:
    """Scan in every mode; the invariants that hold for any input.  Returns the records."""
    out, _ = scan_bytes(data, mode=ANNOTATE, **pins)
    lines = out.split(b"\n")
    kept = b"\n".join(ln for ln in lines if not ln.startswith(MARK))
    if kept != data:  # an annotated last line without "\n" gets one
        assert not data.endswith(b"\n") and kept == data + b"\n"
    jout, _ = scan_bytes(data, mode=JSON, **pins)
    recs = [json.loads(x) for x in jout.decode().splitlines()]
    oout, _ = scan_bytes(data, mode=ONLY, **pins)
    assert len(oout.decode().splitlines()) == len(recs)
    assert out.count(b"\n" + MARK) + out.startswith(MARK) == len(recs)
    hay = _unsoft(data).lower()
    for r in recs:
        digits = r["input"].lower().encode()
        assert re.fullmatch(rb"[0-9a-f]{1,16}", digits), r["input"]
        assert digits in hay, r["input"]
        if r["encoding"] == "raw":
            assert int(r["value"], 16) == int(r["input"], 16)
        else:
            assert r["swp_entry_t"]["val"] == "0x%016x" % int(r["input"], 16)
        assert 1 <= r["line"] <= data.count(b"\n") + 1
    return recs


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data):
    _check(data, arch="x86_64")


# --- text built from the kernel's formats ---------------------------------------------------

def _h(v: int, width: int) -> str:
    return "%0*x" % (width, v)


class _Line:
    """A message built piece by piece, remembering where each value stands."""

    def __init__(self) -> None:
        self.text = ""
        self.values: list[tuple[int, str]] = []

    def add(self, s: str) -> "_Line":
        self.text += s
        return self

    def val(self, tok: str) -> "_Line":
        self.values.append((len(self.text), tok))
        self.text += tok
        return self


def _bad_pte(draw):
    pte, pmd = draw(U64), draw(U64)
    return (_Line().add("BUG: Bad page map in process a.out  pte:").val(_h(pte, 8))
            .add(" pmd:").val(_h(pmd, 8)))


def _walk(draw):
    n = draw(st.integers(1, 5))
    ln = _Line()
    for i, name in enumerate(["PGD", "P4D", "PUD", "PMD", "PTE"][:n]):
        ln.add((" " if i else "") + name + " ").val("%x" % draw(U64))
    return ln


def _show_pte(draw):
    n = draw(st.integers(1, 5))
    ln = _Line().add(f"[{draw(U64):016x}] ")
    for i, name in enumerate(["pgd", "p4d", "pud", "pmd", "pte"][:n]):
        ln.add((", " if i else "") + name + "=").val(f"{draw(U64):016x}")
    return ln


def _pte_error(draw):
    v, arm = draw(U64), draw(st.booleans())
    lvl = draw(st.sampled_from(["pte", "pmd", "pud", "p4d", "pgd"]))
    if arm:
        return _Line().add(f"mm/pgtable-generic.c:53: bad {lvl} ").val(f"{v:016x}").add(".")
    return (_Line().add(f"mm/pgtable-generic.c:53: bad {lvl} 000000003a5b7c9d(")
            .val(f"{v:016x}").add(")"))


def _swap(draw):
    v = draw(st.integers(0, (1 << 63) - 1))
    head = draw(st.sampled_from(["get_swap_device: Bad swap file entry ",
                                 "_swap_info_get: Unused swap offset entry ",
                                 "unrecognized swap entry 0x"]))
    return _Line().add(head).val("%x" % v if head.endswith("0x") else _h(v, 8))


NOISE = ["usb 1-1: new high-speed USB device number 2 using xhci_hcd",
         "CPU: 3 PID: 1 Comm: x Not tainted 6.12.0 #1",
         "Oops: 0000 [#1] PREEMPT SMP NOPTI", "Hardware name: linux,dummy-virt (DT)",
         "user pgtable: 4k pages, 48-bit VAs, pgdp=0000000041c2e000",
         "RIP: 0010:0x0", "pc : 0x0", "Call Trace:", "PTE entries look fine", "swap on",
         "page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1"]

PREFIXES = ["", "[   63.912126] ", "[   63.912126][    T1] ", "Jan 12 10:00:00 host kernel: ",
            "> ", "> > [  1.000000] ", "kernel: ", "<1>", "\x1b[0;1;31m"]


@st.composite
def reports(draw):
    """(text, expected [(line, token)]) built from message templates."""
    lines: list[str] = []
    want: list[tuple[int, str]] = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["bad_pte", "walk", "show_pte", "pte_error", "swap",
                                     "noise", "noise"]))
        if kind == "noise":
            text, toks = draw(st.sampled_from(NOISE)), []
        else:
            ln = {"bad_pte": _bad_pte, "walk": _walk, "show_pte": _show_pte,
                  "pte_error": _pte_error, "swap": _swap}[kind](draw)
            text, toks = ln.text, [t for _, t in ln.values]
        prefix = draw(st.sampled_from(PREFIXES))
        suffix = "\x1b[0m" if prefix.endswith("m") else ""
        lines.append(prefix + text + suffix)
        want.extend((len(lines), t) for t in toks)
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines) + eol, want


@settings(max_examples=300, deadline=None)
@given(reports(), st.sampled_from([None, "6.12", "5.10", "7.2"]))
def test_finds_exactly_what_the_text_prints(built, kernel):
    text, want = built
    recs = _check(text.encode("latin-1"), kernel=kernel)
    assert sorted((r["line"], r["input"]) for r in recs) == sorted(want)


def _qp_encode(line: str, cuts: list[int]) -> tuple[str, list[int]]:
    """Quoted-printable: "=" -> "=3D", soft breaks at the given places (never inside an
    escape); returns the text and the offset (in the encoded line) of each break."""
    enc = line.replace("=", "=3D")
    out, breaks, last = [], [], 0
    for c in sorted(set(cuts)):
        c = min(c, len(enc))
        while c < len(enc) and c > 0 and (enc[c - 1] == "=" or (c > 1 and enc[c - 2] == "=")):
            c += 1  # do not split "=3D"
        if c <= last or c >= len(enc):
            continue
        out.append(enc[last:c] + "=\n")
        breaks.append(c)
        last = c
    out.append(enc[last:])
    return "".join(out), breaks


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([_bad_pte, _walk, _show_pte, _swap]), st.data())
def test_quoted_printable_soft_breaks_split_values(template, data):
    ln = template(data.draw)
    prefix = data.draw(st.sampled_from(["", "> ", "> > [   63.912126] "]))
    line = prefix + ln.text
    # where each value stands once "=" is written "=3D"
    starts = [len((prefix + ln.text[:off]).replace("=", "=3D")) for off, _ in ln.values]
    # breaks anywhere from the first value on (a mailer breaks at column 76; the words
    # that identify a message come first, the values later)
    cuts = data.draw(st.lists(st.integers(starts[0], len(line) * 2), max_size=3))
    enc, breaks = _qp_encode(line, cuts)
    recs = _check((enc + "\n").encode())
    got = sorted((r["line"], r["input"]) for r in recs)
    want = [(1 + sum(1 for b in breaks if b <= s), t) for s, (_, t) in zip(starts, ln.values)]
    assert got == sorted(want)


@settings(max_examples=60, deadline=None)
@given(reports(), st.integers(1, 64))
def test_chunk_boundaries_change_nothing(built, chunk):
    text, _ = built
    data = text.encode("latin-1")
    for mode in (ANNOTATE, JSON):
        assert scan_bytes(data, mode=mode, chunk=chunk)[0] == scan_bytes(data, mode=mode)[0]
