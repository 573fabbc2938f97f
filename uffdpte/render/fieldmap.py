"""The 64-bit field map of one form, generated from the layout rows decode reads.

Nothing here is drawn by hand: the spans come from ``Decoder.forms[form].rows`` (the same
rows :mod:`uffdpte.classify` interprets), so the picture cannot disagree with the decode.
This module knows nothing about rich: it lays the map out as lines of ``(text, style key)``
segments, and ``render.term`` (colours, Unicode) or the plain ``layout`` output (ASCII,
no escape codes) turn the keys into output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from ..classify import U64
from ..layouts.model import FIELD, FLAG, BitRange, IGNORED, MBZ, OFFSET, PFN, PRESENT, PROTNONE, SWAP, TYPE

if TYPE_CHECKING:
    from ..classify import Decoder, Form
    from ..entry import Entry
    from ..layouts.model import Bits

#: Roles of bits no row of the form names: a presence bit (what pte_present tests, which by
#: definition reads 0 in the swap form) and a bit with no meaning in the form at all.
PRESENCE, UNDEFINED = "presence", "undefined"

#: A segment of a drawn line: its text and a style key (see ``STYLE_KEYS``).
Segment = tuple[str, str]
STYLE_KEYS = ("bitno", "one", "zero", "bad", "flag", "flag_set", "pfn", "type", "offset",
              "field", "ignored", "mbz", "presence", "undefined", "plain")

#: bits per map line, widest first; each bit takes ``CELL`` columns
LINE_BITS = (64, 32, 16, 8)
CELL = 3


@dataclass(frozen=True)
class Glyphs:
    """How a multi-bit span's extent is drawn: Unicode on a terminal, ASCII in a pipe."""

    left: str
    fill: str
    right: str
    undefined: str


UNICODE = Glyphs("├", "─", "┤", "·")
ASCII = Glyphs("[", "-", "]", ".")


@dataclass(frozen=True)
class Span(BitRange):
    """A run of bits owned by one row (or by no row) of the form."""

    lo: int
    hi: int
    role: str  # a Bits role, PRESENCE or UNDEFINED
    label: str
    row: "Bits | None" = None


def form_for(entry: "Entry") -> str | None:
    """The form whose rows describe this entry's bits (None for an all-zero entry).

    An empty entry's stray bits (x86 A/D, which pte_none ignores) and the 2021 uffd-wp
    special values are named by the swap form's rows, as the classifier reads them."""
    form = entry.reading.form
    if form in entry.decoder.forms:
        return form
    if form == "none" and not entry.value:
        return None
    return SWAP


def _presence_rows(decoder: "Decoder") -> dict[int, "Bits"]:
    """The rows naming the bits pte_present tests: a valid bit as the present form names it
    (x86 P, arm64 VALID), a present-invalid bit as the PROT_NONE form does (x86 PROTNONE,
    arm64 PRESENT_INVALID) -- the same bit may mean GLOBAL or nG in a valid entry."""
    out: dict[int, Bits] = {}
    for mask, name in ((decoder.valid, PRESENT), (decoder.present_invalid, PROTNONE)):
        form = decoder.forms.get(name)
        for r in form.rows if form is not None else ():
            if r.width == 1 and r.mask & mask and r.lo not in out:
                out[r.lo] = r
    return out


def spans(decoder: "Decoder", form_name: str) -> list[Span]:
    """The form's bits as spans, bit 63 first, covering all 64 bits exactly once.

    Where two rows of a form overlap (a narrower field inside a PFN range), the narrower
    one owns the bits: it is the more specific statement about them."""
    form: Form = decoder.forms[form_name]
    owner: list[Bits | None] = [None] * 64
    for r in form.rows:
        for b in range(r.lo, min(r.hi, 63) + 1):
            cur = owner[b]
            if cur is None or r.width < cur.width:
                owner[b] = r
    borrowed = _presence_rows(decoder)
    out: list[Span] = []
    b = 63
    while b >= 0:
        r = owner[b]
        if r is None and b in borrowed:
            p = borrowed[b]
            out.append(Span(b, b, PRESENCE, p.short or p.name, p))
            b -= 1
            continue
        lo = b
        while lo - 1 >= 0 and owner[lo - 1] is r and (r is not None or lo - 1 not in borrowed):
            lo -= 1
        if r is None:
            out.append(Span(lo, b, UNDEFINED, ""))
        else:
            out.append(Span(lo, b, r.role, r.short or r.name, r))
        b = lo - 1
    return out


def must_be_zero(decoder: "Decoder", form_name: str) -> int:
    """Bits that must be 0 in this form: every bit the form does not define (the
    classifier's Form.known, which already leaves out MBZ rows; a presence bit of another
    form cannot be set here, or the entry would have been read in that form)."""
    return ~decoder.forms[form_name].known & U64


class FieldMap:
    """The field map of one form, for one value (or for the layout alone: value None)."""

    def __init__(self, decoder: "Decoder", form_name: str, value: int | None = None) -> None:
        self.decoder = decoder
        self.form = form_name
        self.value = value
        self.spans = spans(decoder, form_name)
        self.mbz = must_be_zero(decoder, form_name)
        #: set bits that must be zero: drawn red
        self.bad = (value or 0) & self.mbz

    @classmethod
    def of(cls, entry: "Entry") -> "FieldMap | None":
        form = form_for(entry)
        return None if form is None else cls(entry.decoder, form, entry.value)

    # --- drawing --------------------------------------------------------------------------
    @staticmethod
    def bits_per_line(width: int) -> int:
        """As many bits per line as the width holds (64, 32, 16 or 8)."""
        for n in LINE_BITS:
            if n * CELL <= width:
                return n
        return LINE_BITS[-1]

    def lines(self, width: int, glyphs: Glyphs = UNICODE) -> list[list[Segment]]:
        """The map as lines: per chunk of bits, the bit numbers, the value's bits (when
        there is a value), and the labels; chunks are separated by an empty line."""
        n = self.bits_per_line(width)
        out: list[list[Segment]] = []
        for top in range(63, -1, -n):
            if out:
                out.append([])
            bits = range(top, top - n, -1)
            out.append([(f"{b:>{CELL}}", "bitno") for b in bits])
            if self.value is not None:
                out.append([(f"{self.value >> b & 1:>{CELL}}", self._bit_style(b)) for b in bits])
            out.extend(self._label_lines(top, top - n + 1, glyphs))
        return out

    def _bit_style(self, b: int) -> str:
        if self.bad >> b & 1:
            return "bad"
        return "one" if (self.value or 0) >> b & 1 else "zero"

    def _label_style(self, s: Span) -> str:
        if self.bad & s.mask:
            return "bad"
        if s.role in (FLAG, IGNORED):
            if self.value is not None and self.value & s.mask:
                return "flag_set" if s.role == FLAG else "ignored"
            return "flag" if self.value is None else "zero"
        if s.role == MBZ and self.value is not None:
            return "zero"  # clear, as it must be: red is kept for set ones
        return {PFN: "pfn", TYPE: "type", OFFSET: "offset", FIELD: "field", MBZ: "mbz",
                PRESENCE: "presence"}.get(s.role, "undefined")

    def _pieces(self, hi: int, lo: int) -> Iterator[tuple[Span, int, int]]:
        for s in self.spans:
            phi, plo = min(s.hi, hi), max(s.lo, lo)
            if phi >= plo:
                yield s, phi, plo

    def _label_lines(self, hi: int, lo: int, glyphs: Glyphs) -> list[list[Segment]]:
        """Labels under their bits.  A span's label is centred in its columns; a one-bit
        label too long for its cell (PWT, PXN) moves down a line rather than run into its
        neighbour, so every label stays under its own bit."""
        rows: list[list[tuple[int, str, str]]] = [[]]  # per line: (column, text, style)
        ends = [0]  # per line: first free column
        for s, phi, plo in self._pieces(hi, lo):
            start = CELL * (hi - phi)
            end = CELL * (hi - plo) + CELL
            style = self._label_style(s)
            if s.role == UNDEFINED:
                for b in range(phi, plo - 1, -1):
                    col = CELL * (hi - b) + CELL - 1
                    rows[0].append((col, glyphs.undefined, "bad" if self.bad >> b & 1 else
                                    "undefined"))
                ends[0] = end
                continue
            if phi == plo and s.width == 1:
                text = s.label[:CELL]
                col = end - len(text)
            else:
                text = _extent(s.label, end - start - 1, glyphs, open_left=s.hi > phi,
                               open_right=s.lo < plo)
                col = start + 1
            line = 0  # the first line where a gap of one column is left to the last label
            while ends[line] and col <= ends[line]:
                line += 1
                if line == len(rows):
                    rows.append([])
                    ends.append(0)
            rows[line].append((col, text, style))
            ends[line] = col + len(text)
        out: list[list[Segment]] = []
        for placed in rows:
            segs: list[Segment] = []
            pos = 0
            for col, text, style in placed:
                if col > pos:
                    segs.append((" " * (col - pos), "plain"))
                segs.append((text, style))
                pos = col + len(text)
            out.append(segs)
        return out

    def text(self, width: int, glyphs: Glyphs = ASCII) -> str:
        """The map as plain text (no styles)."""
        return "\n".join("".join(t for t, _ in line).rstrip() for line in self.lines(width, glyphs))


def _extent(label: str, width: int, g: Glyphs, *, open_left: bool, open_right: bool) -> str:
    """``├── PFN ──┤`` in ``width`` columns; an open end continues on the next line."""
    left = g.fill if open_left else g.left
    right = g.fill if open_right else g.right
    if len(label) + 4 <= width:
        return left + f" {label} ".center(width - 2, g.fill) + right
    if len(label) + 2 <= width:
        return left + label.center(width - 2, g.fill) + right
    return label[:width].center(width)


# --- the table of fields ---------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRow:
    """One line of the table of fields: what the bits hold and what the kernel reads."""

    name: str
    macro: str
    bits: str
    raw: str
    decoded: str
    meaning: str
    style: str  # "bad" for must-be-zero bits that are set, else the span's role


def field_rows(entry: "Entry", fmap: FieldMap) -> list[FieldRow]:
    """Every multi-bit field of the form, and the one-bit rows that are set, bit 63 first;
    set bits that must be zero are listed (style "bad") with why."""
    v = entry.value
    out: list[FieldRow] = []
    for s in fmap.spans:
        raw = (v >> s.lo) & ((1 << s.width) - 1)
        bad = fmap.bad & s.mask
        if s.role == UNDEFINED:
            if bad:
                out.append(FieldRow(f"bit{'s' if s.width > 1 else ''} {s.bits_label()}", "",
                                    s.bits_label(), f"{raw:#x}", "must be 0",
                                    f"no meaning in {fmap.form} entries of this profile", "bad"))
            continue
        r = s.row
        assert r is not None
        multi = r.width > 1 and r.role != FLAG
        if not multi and not raw:
            continue
        if r.role in (TYPE, OFFSET) and entry.reading.swp_type is None:
            continue  # an empty entry or a 2021 special value: no swap entry to read
        rawtext = f"{raw:#x}" if r.width > 1 else str(raw)
        name = ("~" + r.name) if r.inverted else r.name
        out.append(FieldRow(name, r.macro, s.bits_label(), rawtext,
                            _decoded(entry, fmap, s, raw), r.meaning,
                            "bad" if bad else s.role))
    return out


def _decoded(entry: "Entry", fmap: FieldMap, s: Span, raw: int) -> str:
    r = s.row
    assert r is not None
    reading = entry.reading
    if fmap.bad & s.mask:
        return "must be 0"
    if s.role == PFN:
        if r.pa_lo != r.lo:  # an address extension (arm64 PA_HIGH): where its bits go
            return f"PA[{r.pa_lo + r.width - 1}:{r.pa_lo}] = {raw:#x}"
        pfn, pa = entry.pfn, entry.phys_addr
        if pfn is None or pa is None:
            return ""
        inv = ("stored inverted (L1TF): "
               if fmap.form == PROTNONE and entry.decoder.presence.invert_pfn else "")
        return f"{inv}pfn {pfn:#x}, phys {pa:#x}"
    if s.role == TYPE:
        if reading.swp_type is None:
            return str(raw)
        return f"{reading.swp_type} = {reading.type_name}" if reading.type_name else str(raw)
    if s.role == OFFSET:
        off = entry.swp_offset
        if off is None:
            return ""
        text = ("~raw: " if r.inverted else "") + f"offset {off:#x} ({off})"
        if reading.payload == "pfn" and entry.pfn is not None:
            text += f", pfn {entry.pfn:#x}"
            ad = [k for k in ("young", "dirty") if reading.state == "migration"
                  and getattr(reading, k)]
            if ad:
                text += " + " + ", ".join(ad)
        if reading.markers:
            text += ", markers " + ",".join(reading.markers)
        return text
    if s.role == FIELD:
        name = dict(r.values).get(raw)
        return name if name is not None else str(raw)
    if s.role == IGNORED:
        return "ignored"
    if s.role == PRESENCE:
        return "presence bit"
    return "set"
