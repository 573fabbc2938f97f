"""Classify a raw entry the way the kernel reads it, against a compiled profile.

The order mirrors the kernel: pte_none -> pte_present (valid, or present-invalid:
PROT_NONE) -> a swap-format entry whose __swp_type picks a real swap device, a special type
(migration, device, hwpoison, swapin-error) or the PTE-marker type.  Everything that says
*where* bits are comes from the layout rows a :class:`Decoder` selects for its profile.

:class:`Classifier` adds the alternatives: the same value read under the profiles the user
did not pin, memoised per payload-independent shape of the value.
"""

from __future__ import annotations

from functools import lru_cache

from .entry import Entry, Reading, payload_key
from .layouts import layout_for
from .layouts.generic import (MARKER_BITS, MAX_SWAPFILES_SHIFT, SWAP_DERIVED,
                              SWAP_FLAGS_ALLOWED, SWAP_OFFSET_LIMIT, SWAP_TYPES,
                              swp_entry_fields, swp_type_shift)
from .layouts.model import (FIELD, FLAG, IGNORED, LEVEL_NAMES, MBZ, OFFSET, PFN, PRESENT,
                            PROTNONE, SWAP, TABLE, TYPE, Bits, gate_holds)
from .profile import Profile

U64 = (1 << 64) - 1
LEVELS = LEVEL_NAMES  # pgd, p4d, pud, pmd, pte
#: levels below each level name, for its leaf shift: each level resolves PAGE_SHIFT - 3 bits
#: (ARM64_HW_PGTABLE_LEVEL_SHIFT, pgtable-hwdef.h; x86 PMD_SHIFT 21, PUD_SHIFT 30,
#: pgtable_64_types.h).  Only leaves use it, and leaves exist at PTE, PMD and PUD only; a
#: folded PGD/P4D (4-level x86, PGDIR_SHIFT 39) would need its parent's shift.
_DEPTH = {"pte": 0, "pmd": 1, "pud": 2, "p4d": 3, "pgd": 4}
FORMS = (PRESENT, PROTNONE, SWAP, TABLE)


def _pa_bits(pte: int, r: Bits) -> int:
    """The physical-address bits one PFN row of ``pte`` holds, in place."""
    return ((pte >> r.lo) & ((1 << r.width) - 1)) << r.pa_lo


def _size_label(size: int) -> str:
    for unit, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift}{unit}"
    return str(size)


def _bits_of(mask: int) -> list[int]:
    """The set bits of mask, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Form:
    """The rows that apply to one form (present / protnone / swap) under a profile."""

    __slots__ = ("name", "rows", "mbz", "flags", "fields", "pfn", "type", "offset", "ignored",
                 "known", "flag_masks", "ignored_masks")

    def __init__(self, name: str, rows: list[Bits], selector: int) -> None:
        self.name = name
        # Where rows of one role overlap, the later row in the table wins (a gated or
        # backported variant is listed after the plain one).  PFN rows may overlap (an
        # address bit held twice); TYPE and OFFSET rows are one each.
        kept: list[Bits] = []
        claimed = 0  # bits owned by a kept non-PFN row
        single: set[str] = set()
        for r in reversed(rows):
            mask = r.mask
            if r.role in (TYPE, OFFSET):
                if r.role in single:
                    continue
                single.add(r.role)
            elif mask & claimed:
                continue
            if r.role != PFN:
                claimed |= mask
            kept.append(r)
        rows = kept[::-1]
        self.rows = rows
        self.mbz = [r for r in rows if r.role == MBZ]
        self.flags = [r for r in rows if r.role == FLAG]
        self.ignored = [r for r in rows if r.role == IGNORED]
        # (name, mask) pairs: what every classification tests
        self.flag_masks = tuple((r.name, r.mask) for r in self.flags)
        self.ignored_masks = tuple((r.name, r.mask) for r in self.ignored)
        self.fields = [r for r in rows if r.role == FIELD]
        self.pfn = [r for r in rows if r.role == PFN]
        types = [r for r in rows if r.role == TYPE]
        offsets = [r for r in rows if r.role == OFFSET]
        self.type = types[0] if types else None
        self.offset = offsets[0] if offsets else None
        known = selector
        for r in rows:
            if r.role != MBZ:
                known |= r.mask
        self.known = known


@lru_cache(maxsize=256)
def _compiled_derived(derived: tuple, capabilities: frozenset[str]) -> tuple:
    """Derived rows as (name, gated off, ((flags set, flags clear), ...)): set tests."""
    return tuple(
        (d.name, d.gate is not None and d.gate not in capabilities,
         tuple((frozenset(n for n in conj if not n.startswith("!")),
                frozenset(n[1:] for n in conj if n.startswith("!"))) for conj in d.any_of))
        for d in derived)


class Decoder:
    """A profile compiled to masks: decode one raw entry at one level."""

    def __init__(self, profile: Profile, level: str = "pte") -> None:
        if level not in LEVELS:
            raise ValueError(f"level {level!r}: expected one of {', '.join(LEVELS)}")
        self.profile = profile
        self.level = level
        layout = layout_for(profile.arch)
        self.layout = layout
        kv = profile.kernel
        self.page_shift = profile.page_shift
        self.page_size = profile.page_size

        self.level_shift = self.page_shift + (self.page_shift - 3) * _DEPTH[level]
        presence = [p for p in layout.presence
                    if level in p.levels and p.era.contains(kv) and self._gate(p.gate)]
        if not presence:
            raise AssertionError(f"{profile.arch} {kv.text} {level}: no presence rule")
        self.presence = presence[-1]  # the later (more specific) rule wins
        pr = self.presence
        self.none_mask = U64 & ~pr.none_ignores
        self.valid = pr.valid
        self.present_invalid = pr.present_invalid

        # swap entries at this level? (PTEs; PMDs where THP migration makes them)
        swap = pr.swap
        self.swap_ok = swap if isinstance(swap, bool) else profile.has(swap)
        gates = _row_gates(profile.arch)
        _, self.gated_off, self.forms = _compile_forms(
            profile.arch, kv, level, self.page_shift, self.level_shift, pr, self.swap_ok,
            frozenset(c for c in profile.capabilities if c in gates))
        sw = self.forms[SWAP]
        if sw.type is None or sw.offset is None:
            if self.swap_ok:
                raise AssertionError(f"{profile.arch} {kv.text} {level}: no swap type/offset rows")
            self.type_lo = self.type_mask = self.off_lo = self.off_mask = 0
            self.off_inverted = False
        else:
            self.type_lo, self.type_mask = sw.type.lo, (1 << sw.type.width) - 1
            self.off_lo, self.off_mask = sw.offset.lo, (1 << sw.offset.width) - 1
            self.off_inverted = sw.offset.inverted

        # swap types: special ones count up from MAX_SWAPFILES in table order (swap.h)
        specials = [t for t in SWAP_TYPES
                    if t.era.contains(kv) and (t.gate is None or profile.has(t.gate))]
        self.max_swapfiles = (1 << MAX_SWAPFILES_SHIFT) - len(specials)
        self.types = {self.max_swapfiles + i: t for i, t in enumerate(specials)}

        self.swp_type_shift = swp_type_shift(kv)[0]
        self.marker_bits = [m for m in MARKER_BITS if m.era.contains(kv)]
        self.marker_mask = sum(1 << m.bit for m in self.marker_bits if m.in_page_tables)

        self.physmem_bits = self._physmem_bits()
        self.swp_pfn_bits = self.physmem_bits - self.page_shift
        self.swp_pfn_mask = (1 << self.swp_pfn_bits) - 1
        self.migration_ad = profile.has("migration_ad")
        self.pfn_masked = profile.has("swp_pfn_mask")

        # PFN rows that hold the same address bits twice (arm64 6.9+, 64K pages, 52-bit PA:
        # PA[49:48] sit in place and in bits 13:12; __phys_to_pte_val writes both)
        self.pfn_overlaps: dict[str, list[tuple[Bits, Bits, int]]] = {}
        for fname in (PRESENT, PROTNONE, TABLE):
            rows = self.forms[fname].pfn
            pairs = []
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    pa_a = ((1 << a.width) - 1) << a.pa_lo
                    pa_b = ((1 << b.width) - 1) << b.pa_lo
                    if pa_a & pa_b:
                        pairs.append((a, b, pa_a & pa_b))
            self.pfn_overlaps[fname] = pairs
        #: per form, the PFN rows as (raw lo, width mask, physical-address lo)
        self._pa_pieces = {f: tuple((r.lo, (1 << r.width) - 1, r.pa_lo)
                                    for r in self.forms[f].pfn)
                           for f in (PRESENT, PROTNONE, TABLE)}
        self._readings: dict[tuple, Reading] = {}
        self.derived = tuple(layout.derived)
        self.cont_span = dict(layout.cont_spans).get((level, self.page_size))
        self.special_values = self._special_values()
        pr_inv = pr.invert_pfn
        #: how each kind of payload is extracted: readings of two decoders that agree here
        #: give the same numbers for every value
        self.payload_sig = {
            "pa": {f: (self._pa_pieces[f], self.page_shift, pr_inv and f == PROTNONE)
                   for f in (PRESENT, PROTNONE, TABLE)},
            "pfn": (self.off_lo, self.off_mask, self.off_inverted, self.swp_pfn_bits,
                    self.pfn_masked),
            "offset": (self.off_lo, self.off_mask, self.off_inverted),
        }
        self.lp_mask = self._low_payload_mask()

    # --- compiling ------------------------------------------------------------------------
    def _gate(self, gate: str | None) -> bool:
        return gate_holds(gate, self.profile.has)

    def _physmem_bits(self) -> int:
        kv = self.profile.kernel
        for era, levels, bits in self.layout.physmem:
            if era.contains(kv) and levels in (None, self.profile.levels):
                return bits if bits is not None else self.profile.pa_bits
        raise AssertionError(f"no MAX_PHYSMEM_BITS row for {self.profile.label()}")

    def _low_payload_mask(self) -> int:
        """Raw bits that carry only numbers: PFN bits 0-31 of present entries that are also
        swap-offset bits 4-31.  Values differing only there share a reading (see
        :class:`Classifier`).  The checks that do look at these bits only ask whether all of
        them are 0 (a marker's bits above PTE_MARKER_MASK, offset 0) or all 1 (offset 0
        stored inverted), which the memo key keeps; marker bits (offset bits 0-3) and
        everything from offset bit 32 up stay in the key itself."""
        lp = U64
        for form in (PRESENT, TABLE):
            if form == PRESENT and self.presence.leaf_gate == "never":
                continue  # no leaves here: a valid non-table entry is pXd_bad, whatever its bits
            mask = 0
            for r in self.forms[form].pfn:
                for raw in range(r.lo, r.hi + 1):
                    pfn_bit = r.pa_lo + (raw - r.lo) - self.page_shift
                    if 0 <= pfn_bit < 32:
                        mask |= 1 << raw
            if self.forms[form].pfn:
                lp &= mask
        if self.swap_ok:
            swap = 0
            for off_bit in range(4, 32):
                swap |= 1 << (self.off_lo + off_bit)
            lp &= swap
        return 0 if lp == U64 else lp

    def _special_values(self) -> dict[int, str]:
        """The uffd-wp encodings of the 2021 proposals, computed from the layout rows."""
        scheme = self.profile.scheme
        if self.level != "pte":
            return {}
        if scheme == "special-pte":
            rows = [r for r in self.forms[SWAP].flags if r.name == "SWP_UFFD_WP"]
            return {rows[0].mask: "special_pte"} if rows else {}
        if scheme == "swp-type1":
            return {self.swp_entry_to_pte(1, 0): "swp_type1"}
        return {}

    # --- the kernel's predicates and accessors ----------------------------------------------
    def pte_none(self, pte: int) -> bool:
        """pte_none(): x86 ignores A/D (KNL erratum); arm64 compares with 0."""
        return not pte & self.none_mask

    def pte_present(self, pte: int) -> bool:
        """pte_present(): valid, or present-but-invalid (PROT_NONE / NUMA hinting)."""
        return bool(pte & (self.valid | self.present_invalid))

    def pte_protnone(self, pte: int) -> bool:
        """pte_protnone() with CONFIG_NUMA_BALANCING (the generic fallback returns 0)."""
        pr = self.presence
        return (bool(pte & pr.present_invalid) and (pte & pr.protnone_mask) == pr.protnone_want
                and self.profile.has("numa_balancing"))

    def is_swap_pte(self, pte: int) -> bool:
        """is_swap_pte() (swapops.h; mainline: !pte_none && !pte_present via softleaf)."""
        return not self.pte_none(pte) and not self.pte_present(pte)

    def swp_type_raw(self, pte: int) -> int:
        """__swp_type(): the arch's type field."""
        return (pte >> self.type_lo) & self.type_mask

    def swp_offset(self, pte: int) -> int:
        """__swp_offset(): the arch's offset field (x86 L1TF: stored inverted)."""
        raw = (pte >> self.off_lo) & self.off_mask
        return raw ^ self.off_mask if self.off_inverted else raw

    def swp_entry(self, swp_type: int, offset: int) -> int:
        """swp_entry(): the arch-independent swp_entry_t value."""
        return (swp_type << self.swp_type_shift) | (offset & ((1 << self.swp_type_shift) - 1))

    def swp_entry_split(self, val: int) -> tuple[int, int]:
        """swp_type(), swp_offset() of a swp_entry_t value."""
        return val >> self.swp_type_shift, val & ((1 << self.swp_type_shift) - 1)

    def swp_entry_check(self, val: int) -> tuple[int, int, int, list[str]]:
        """A printed swp_entry_t read back: (the PTE __swp_entry(swp_type, swp_offset) makes,
        type, offset, what does not fit).  swp_type() does not mask, so bits past the 5-bit
        type are a wrong value; a type or offset wider than the arch's fields would be
        truncated in the PTE."""
        t, off, _, problems = swp_entry_fields(val, self.profile.kernel)
        if not problems and t > self.type_mask:
            problems.append(f"type {t} does not fit the arch swap type field")
        if off > self.off_mask:
            problems.append(f"offset {off:#x} does not fit the arch swap offset field "
                            f"({self.off_mask.bit_length()} bits)")
        return self.swp_entry_to_pte(t, off), t, off, problems

    def swp_entry_to_pte(self, swp_type: int, offset: int) -> int:
        """__swp_entry(): type and offset placed in the arch's swap PTE (no flag bits)."""
        off = (offset ^ self.off_mask) if self.off_inverted else offset
        return (((swp_type & self.type_mask) << self.type_lo)
                | ((off & self.off_mask) << self.off_lo))

    def numbers(self, pte: int, r: Reading) -> tuple[int | None, int | None, int | None]:
        """(swp_offset, pfn, phys_addr) of ``pte`` read as ``r`` (None where meaningless)."""
        payload = r.payload
        if payload == "pa":
            pa = self.phys_addr(pte, r.form)
            return None, pa >> self.page_shift, pa
        if r.swp_type is None:
            return None, None, None
        off = self.swp_offset(pte)
        if payload == "pfn":
            return off, self.swp_offset_pfn(off), None
        return off, None, None

    def swp_offset_pfn(self, offset: int) -> int:
        """swp_offset_pfn(): 6.1+ masks with SWP_PFN_MASK; before, the whole offset."""
        return offset & self.swp_pfn_mask if self.pfn_masked else offset

    def phys_addr(self, pte: int, form: str = PRESENT) -> int:
        """pte_pfn() << PAGE_SHIFT, assembled from the PFN rows (x86 L1TF: PROT_NONE
        entries hold the address inverted, pgtable-invert.h)."""
        if form == PROTNONE and self.presence.invert_pfn:
            pte = ~pte & U64
        pa = 0
        for lo, mask, pa_lo in self._pa_pieces.get(form) or self._pa_pieces[PRESENT]:
            pa |= ((pte >> lo) & mask) << pa_lo
        return pa

    # --- classification -------------------------------------------------------------------
    def classify(self, pte: int) -> Reading:
        """The reading of one raw value (payload-independent part), in the kernel's order:
        pXd_none, pXd_present (valid: table or leaf; present-invalid), else swap-format.

        Equal readings are one object: a stream's many shapes (one per memo key) share a
        few readings, and the templates renderers keep on them."""
        r = self._classify(pte)
        key = r.identity()
        known = self._readings.get(key)
        if known is not None:
            return known
        if len(self._readings) >= 256:  # bounded, like the memo (one decoder's readings)
            self._readings.clear()
        self._readings[key] = r
        return r

    def _classify(self, pte: int) -> Reading:
        if self.pte_none(pte):
            return self._none(pte)
        special = self.special_values.get(pte)
        if special is not None:
            return self._special(pte, special)
        if pte & self.valid:
            table = self.presence.table
            if table is not None and (pte & table[0]) == table[1]:
                return self._present(pte, TABLE)
            return self._present(pte, PRESENT)
        if pte & self.present_invalid:
            return self._present(pte, PROTNONE)
        if not self.swap_ok:
            return self._not_swap(pte)
        return self._swap(pte)

    def decode(self, pte: int, token: str | None = None) -> Entry:
        return Entry(pte, self.classify(pte), self, token)

    def _base_predicates(self, pte: int) -> dict[str, bool]:
        lv = self.level
        preds = {
            f"{lv}_none": self.pte_none(pte),
            f"{lv}_present": self.pte_present(pte),
            f"{lv}_protnone": self.pte_protnone(pte),
        }
        if lv == "pte":
            preds["is_swap_pte"] = self.is_swap_pte(pte)
        else:
            table = self.presence.table
            preds[f"{lv}_leaf"] = bool(pte & self.valid) and not (
                table is not None and (pte & table[0]) == table[1]) or (
                not pte & self.valid and bool(pte & self.present_invalid))
        return preds

    def _kernel_name(self, name: str) -> str:
        """pte_dirty -> pmd_dirty at the PMD level (the kernel's pXd_ helpers)."""
        return name if self.level == "pte" else name.replace("pte_", f"{self.level}_", 1)

    def _none(self, pte: int) -> Reading:
        ignored = self.presence.none_ignores
        flags = tuple(r.name for r in self.forms[PRESENT].flags if pte & r.mask & ignored)
        notes = ()
        if flags:
            notes = (f"{'/'.join(flags)} set on an empty entry: pte_none() ignores them "
                     "(Knights Landing erratum, _PAGE_KNL_ERRATUM_MASK)",)
        return Reading(state="none", form="none", flags=flags,
                       predicates=self._base_predicates(pte), notes=notes)

    def _explain_bit(self, bit: int, form: str) -> str:
        """Why a set bit has no meaning here: a must-be-zero row, another era's or a
        gated-off row, or none."""
        for r in self.forms[form].mbz:
            if r.lo <= bit <= r.hi:
                return f"bit {bit} set: {r.macro} — {r.meaning}"
        if form in (PRESENT, PROTNONE) and self.page_shift <= bit < self.level_shift:
            return (f"bit {bit} set: below the {_size_label(1 << self.level_shift)} leaf's "
                    "alignment (reserved in a huge/block entry)")
        for r in self.gated_off:
            if form in r.forms and r.lo <= bit <= r.hi:
                gate = r.gate.lstrip("!")
                return (f"bit {bit} set: {r.macro} needs {gate.replace('_', '-')} support, "
                        f"which this profile lacks")
        others = [r for r in self.layout.bits
                  if form in r.forms and r.lo <= bit <= r.hi and not r.lo_is_page_shift
                  and not r.lo_is_level_shift and self.level in r.levels
                  and not r.era.contains(self.profile.kernel)]
        if others:
            r = others[0]
            return (f"bit {bit} set: {r.macro} only in {r.era.label()}, "
                    f"not in {self.profile.kernel.short}")
        return f"bit {bit} set: no meaning in this profile's {form} entries"

    def _flag_names(self, pte: int, form: Form) -> tuple[str, ...]:
        return tuple(name for name, mask in form.flag_masks if pte & mask)

    def _derived(self, derived, names: set[str]) -> dict[str, bool | None]:
        out: dict[str, bool | None] = {}
        for name, gated_off, any_of in _compiled_derived(derived, self.profile.capabilities):
            out[name] = None if gated_off else any(
                must <= names and not must_not & names for must, must_not in any_of)
        return out

    def _present(self, pte: int, form_name: str) -> Reading:
        form = self.forms[form_name]
        flags = self._flag_names(pte, form)
        names = set(flags)
        fields = tuple((r.name, (pte >> r.lo) & ((1 << r.width) - 1),
                        dict(r.values).get((pte >> r.lo) & ((1 << r.width) - 1)))
                       for r in form.fields)
        problems: list[str] = []
        notes: list[str] = []
        gate = self.presence.leaf_gate if form_name == PRESENT else None
        if gate == "never":  # pXd_bad: no leaves at this level at all
            return Reading(state="present", form=form_name, subtype="leaf", flags=flags,
                           predicates=self._base_predicates(pte), payload=None,
                           problems=(f"a leaf (block) entry at the {self.level} level: Linux "
                                     f"maps none here ({self.level}_bad)",))
        unknown = pte & ~form.known & U64
        for bit in _bits_of(unknown):
            problems.append(self._explain_bit(bit, form_name))
        pa = self.phys_addr(pte, form_name)
        src = ~pte & U64 if form_name == PROTNONE and self.presence.invert_pfn else pte
        for a, b, overlap in self.pfn_overlaps[form_name]:
            if (_pa_bits(src, a) ^ _pa_bits(src, b)) & overlap:
                problems.append(f"address bits held twice ({a.macro} and {b.macro}) disagree: "
                                "__phys_to_pte_val writes both")
        if pa >> self.physmem_bits:
            problems.append(
                f"physical address above MAX_PHYSMEM_BITS ({self.physmem_bits}): not memory "
                "this kernel manages"
                + (" (on SME/SEV or TDX guests the top bit may be the encryption/shared bit)"
                   if self.profile.arch == "x86_64" else ""))
        derived = self._derived(self.derived, names) if form_name != TABLE else {}
        preds = self._base_predicates(pte)
        for d in self.derived:
            if derived.get(d.name) is not None:
                preds[self._kernel_name(d.kernel)] = bool(derived[d.name])
        state, subtype = "present", None
        if self.level != "pte" and form_name in (PRESENT, PROTNONE):
            size = 1 << self.level_shift
            fields = fields + (("SIZE", size, _size_label(size)),)
            if form_name == PRESENT:
                subtype = "leaf"
                if gate is not None and not self.profile.has(gate):
                    problems.append(f"a leaf (block) entry at the {self.level} level: Linux maps "
                                    f"none here under {self.profile.label()}")
        if form_name == TABLE:
            subtype = "table"
        if form_name == PROTNONE:
            pr = self.presence
            if (pte & pr.protnone_mask) == pr.protnone_want:
                state = "protnone"
                if not self.profile.has("numa_balancing"):
                    notes.append("pte_protnone() is 0 without CONFIG_NUMA_BALANCING; the entry "
                                 "is still a present PROT_NONE mapping")
                if pr.invert_pfn:
                    notes.append("PFN stored inverted (L1TF, pgtable-invert.h)")
            else:
                subtype = "present_invalid"
                notes.append("present but invalid and not PROT_NONE: " + (
                    pr.invalidated_by or "huge-page splits make such entries (pmdp_invalidate), "
                    f"the kernel does not make them at {self.level.upper()} level"))
        elif self.presence.not_page and (pte & self.presence.page) != self.presence.page:
            problems.append(self.presence.not_page)
        span = self.cont_span
        if span and "CONT" in names:
            notes.append(f"contiguous hint: one of {span} entries mapping "
                         f"{_size_label(span << self.level_shift)} together; the kernel reads "
                         "dirty/young across all of them (contpte_ptep_get, huge_ptep_get)")
        uffd_wp = derived.get("uffd_wp")
        return Reading(state=state, form=form_name, subtype=subtype, flags=flags, fields=fields,
                       uffd_wp=uffd_wp, soft_dirty=derived.get("soft_dirty"),
                       write=derived.get("write"), dirty=derived.get("dirty"),
                       young=derived.get("young"), predicates=preds,
                       problems=tuple(problems), notes=tuple(notes), payload="pa")

    def _special(self, pte: int, scheme: str) -> Reading:
        preds = self._base_predicates(pte)
        if scheme == "special_pte":
            preds["pte_swp_uffd_wp"] = True
            preds["pte_swp_uffd_wp_special"] = True
            note = ("Peter Xu's 2021 uffd-wp series (v2-v5): UFFD_WP_SWP_PTE_SPECIAL, the PTE with "
                    "only the swap uffd-wp bit set; never passed to pte_to_swp_entry()")
            return Reading(state="marker", form="special", subtype="special_pte",
                           markers=("UFFD_WP",), flags=("SWP_UFFD_WP",), uffd_wp=True,
                           predicates=preds, notes=(note,))
        note = ("Hugh Dickins' 2021 proposal: swp_entry(1, 0) marks uffd-wp; slot 0 of a swap "
                "file is its header, so it is never a swapped-out page")
        preds["pte_swp_uffd_wp"] = False
        return Reading(state="marker", form="special", subtype="swp_type1", swp_type=1,
                       markers=("UFFD_WP",), uffd_wp=True, predicates=preds, notes=(note,),
                       payload="offset")

    def _swap(self, pte: int) -> Reading:
        form = self.forms[SWAP]
        flags = self._flag_names(pte, form)
        ignored = tuple(name for name, mask in form.ignored_masks if pte & mask)
        names = set(flags)
        problems: list[str] = []
        invalid: list[str] = []
        notes: list[str] = []
        for bit in _bits_of(pte & ~form.known & U64):
            invalid.append(self._explain_bit(bit, SWAP).replace(
                "no meaning in this profile's swap entries", "must be 0 in a swap entry"))
        if ignored:
            notes.append(f"{'/'.join(ignored)} set: ignored in swap entries (Knights Landing "
                         "erratum may set A/D on non-present entries)")
        swp_type = self.swp_type_raw(pte)
        offset = self.swp_offset(pte)
        derived = self._derived(SWAP_DERIVED, names)
        preds = self._base_predicates(pte)
        for d in SWAP_DERIVED:
            if derived[d.name] is not None:
                preds[self._kernel_name(d.kernel)] = bool(derived[d.name])
        kind = self.types.get(swp_type)
        fields: dict = dict(uffd_wp=derived["uffd_wp"], soft_dirty=derived["soft_dirty"],
                            exclusive=derived["exclusive"])
        state, subtype, type_name, markers, payload = "swap", None, None, (), "offset"
        if kind is None:
            if swp_type >= 1 << MAX_SWAPFILES_SHIFT:
                invalid.append(f"swap type {swp_type} does not exist: swp_type is 5 bits "
                               "(MAX_SWAPFILES_SHIFT), this layout's field is wider")
            else:
                type_name = f"swap device {swp_type}"
                if offset >= SWAP_OFFSET_LIMIT:
                    invalid.append("swap offset ≥ 2^32: no swap device has that many slots "
                                   "(swap_header.last_page is 32 bits)")
                elif offset == 0:
                    problems.append("swap offset 0 is the swap header, never a swapped-out page")
        else:
            state, subtype, type_name = kind.state, kind.subtype, kind.name
            preds.update(self._type_predicates(kind))
            # A predicate means something only where the kernel writes that flag bit.
            allowed = SWAP_FLAGS_ALLOWED[kind.state]
            for key, flag in (("uffd_wp", "SWP_UFFD_WP"), ("soft_dirty", "SWP_SOFT_DIRTY"),
                              ("exclusive", "SWP_EXCLUSIVE")):
                if flag not in allowed:
                    fields[key] = None
            stray = [f for f in flags if f not in allowed]
            if stray:
                problems.append(f"{', '.join(stray)} set on a {kind.state} entry: the kernel "
                                f"never sets {'it' if len(stray) == 1 else 'them'} there")
            if kind.state == "marker":
                markers, bad = self.pte_marker_get(offset)
                invalid.extend(bad)
                fields["uffd_wp"] = "UFFD_WP" in markers
            else:
                payload = "pfn"
                invalid.extend(self._pfn_checks(offset, kind, fields))
                if "young" in fields:  # is_migration_entry_young/dirty (migration_ad)
                    preds["is_migration_entry_young"] = fields["young"]
                    preds["is_migration_entry_dirty"] = fields["dirty"]
                if kind.state in ("migration", "device"):
                    fields["write"] = kind.writable
        if invalid:
            # payload-free text: readings are shared by values with other offsets
            notes.insert(0, f"read as the kernel would: {state}"
                         + (f"/{subtype}" if subtype else "") + f", swap type {swp_type}")
            state = "invalid"
        return Reading(state=state, form=SWAP, subtype=subtype, swp_type=swp_type,
                       type_name=type_name, markers=markers, flags=flags + ignored,
                       predicates=preds, problems=tuple(invalid + problems), notes=tuple(notes),
                       payload=payload, **fields)

    def _not_swap(self, pte: int) -> Reading:
        """A non-present, non-empty entry where the kernel makes no swap entries."""
        why = (f"a non-present {self.level} entry must be empty ({self.level}_none): no swap "
               f"entries at this level under {self.profile.label()}")
        return Reading(state="invalid", form="none", predicates=self._base_predicates(pte),
                       problems=(why,))

    def _type_predicates(self, kind) -> dict[str, bool]:
        s, sub = kind.state, kind.subtype
        return {
            "is_migration_entry": s == "migration",
            "is_writable_migration_entry": sub == "migration_write",
            "is_device_private_entry": sub.startswith("device_private"),
            "is_device_exclusive_entry": sub.startswith("device_exclusive"),
            "is_hwpoison_entry": s == "hwpoison",
            "is_pte_marker_entry": s == "marker",
            "is_pfn_swap_entry": kind.has_pfn and s != "swapin_error",
        }

    def pte_marker_get(self, offset: int) -> tuple[tuple[str, ...], list[str]]:
        """pte_marker_get(): the offset's marker bits, and what is wrong with the rest."""
        names = tuple(m.name for m in self.marker_bits
                      if m.in_page_tables and offset >> m.bit & 1)
        bad: list[str] = []
        outside = offset & ~self.marker_mask
        for m in self.marker_bits:
            if not m.in_page_tables and outside >> m.bit & 1:
                bad.append(f"marker bit {m.bit} is {m.macro}: {m.meaning}")
                outside &= ~(1 << m.bit)
        if outside:  # (payload-free text: the offset itself is in swp_offset)
            bad.append(f"marker bits outside PTE_MARKER_MASK ({self.marker_mask:#x}) set")
        if not offset:
            bad.append("PTE marker with no marker bits: the kernel never installs one")
        return names, bad

    def _pfn_checks(self, offset: int, kind, fields: dict) -> list[str]:
        """swp_offset_pfn() and the migration A/D bits above SWP_PFN_BITS."""
        bits = self.swp_pfn_bits
        rest = offset >> bits
        if kind.state == "migration" and self.migration_ad:
            fields["young"] = bool(rest & 1)
            fields["dirty"] = bool(rest & 2)
            rest >>= 2
            used = f"SWP_PFN_BITS ({bits}) + young/dirty"
        else:
            used = f"SWP_PFN_BITS ({bits} = MAX_PHYSMEM_BITS {self.physmem_bits} - PAGE_SHIFT)"
        if rest:
            return [f"offset bits above {used} set: not a PFN this kernel can hold"]
        return []

    def __repr__(self) -> str:
        return f"<Decoder {self.profile.label()} {self.level}>"


def _lp_map(d: Decoder, r: Reading, lp: int) -> tuple:
    """How the memo key's free bits (``lp``) enter the numbers of ``r`` under ``d``: two
    decoders with equal maps give numbers that differ by the same amount for every value
    of one key."""
    if r.payload == "pa":
        inverted = r.form == PROTNONE and d.presence.invert_pfn
        return (inverted,) + tuple((lp & (mask << lo), pa_lo - lo)
                                   for lo, mask, pa_lo in d._pa_pieces[r.form])
    if r.payload in ("pfn", "offset"):
        return (lp & (d.off_mask << d.off_lo), d.off_lo, d.off_inverted)
    return ()


def _payload_sig(d: Decoder, r: Reading):
    """How ``d`` turns a value of reading ``r`` into numbers (None: it holds none)."""
    sig = d.payload_sig.get(r.payload)
    return sig.get(r.form) if isinstance(sig, dict) else sig


@lru_cache(maxsize=8)
def _row_gates(arch: str) -> frozenset[str]:
    """The capabilities some row of this arch is gated on."""
    return frozenset(r.gate.lstrip("!") for r in layout_for(arch).bits if r.gate)


@lru_cache(maxsize=256)
def _compile_forms(arch: str, kv, level: str, page_shift: int, level_shift: int, pr,
                   swap_ok: bool, caps: frozenset[str]):
    """Rows and forms of one (arch, kernel, level, geometry, row gates): shared by the
    profiles that differ only in what no row depends on (a config preset's swap types)."""
    def gate_ok(gate: str | None) -> bool:
        return gate_holds(gate, caps.__contains__)

    def resolve(r: Bits) -> Bits:
        if r.lo_is_page_shift:
            return r._replace(lo=page_shift, pa_lo=page_shift)
        if r.lo_is_level_shift:
            return r._replace(lo=level_shift, pa_lo=level_shift)
        if r.role == PFN and r.pa_lo is None:
            return r._replace(pa_lo=r.lo)
        return r

    in_era = [resolve(r) for r in _rows_in_era(arch, kv, level)]
    rows = [r for r in in_era if gate_ok(r.gate)]
    gated_off = [r for r in in_era if not gate_ok(r.gate)]
    # the bits that select a form are "known" only in that form
    selector = {PRESENT: pr.page or pr.valid, PROTNONE: pr.present_invalid, SWAP: 0,
                TABLE: pr.table_bits or pr.valid}
    # forms this level has; the others stay empty (no rows, nothing known)
    has = {PRESENT: True, PROTNONE: bool(pr.present_invalid), SWAP: swap_ok,
           TABLE: pr.table is not None}
    forms = {f: Form(f, [r for r in rows if f in r.forms] if has[f] else [],
                     selector[f] if has[f] else 0)
             for f in FORMS}
    return rows, gated_off, forms


@lru_cache(maxsize=256)
def _rows_in_era(arch: str, kv, level: str) -> tuple[Bits, ...]:
    """The rows of one arch that hold for one kernel at one level (shared by profiles that
    differ only in config or geometry)."""
    return tuple(r for r in layout_for(arch).bits if level in r.levels and r.era.contains(kv))


def decoder_for(profile: Profile, level: str = "pte") -> Decoder:
    """The compiled decoder of a profile (cached; where a choice came from does not matter)."""
    return _decoder_for(profile._replace(sources=(), notes=()), level)


@lru_cache(maxsize=64)
def _decoder_for(profile: Profile, level: str) -> Decoder:
    return Decoder(profile, level)


class Classifier:
    """A primary decoder plus the neighbours that supply alternatives, memoised by shape."""

    #: the memo is bounded by readings held (a shape and each of its alternatives), not by
    #: shapes: a real dump has tens to hundreds of shapes with few alternatives, random junk
    #: a new shape per value with a dozen each, and memory must stay bounded for both
    MEMO_WEIGHT = 1 << 11

    def __init__(self, profile: Profile, level: str = "pte", alternatives: bool = True) -> None:
        self.primary = decoder_for(profile, level)
        #: (decoder, what differs, policy): "all" readings that differ are alternatives;
        #: "wellformed" only valid ones (another page size or paging depth that cannot hold
        #: this value is no news); "special" only a scheme's own marker value.
        self.neighbours: list[tuple[Decoder, dict[str, str], str]] = []
        if alternatives:
            for q, differs in profile.neighbours():
                policy = ("special" if "scheme" in differs else
                          "wellformed" if differs.keys() & {"page_size", "levels", "pa_bits"}
                          else "all")
                self.neighbours.append((decoder_for(q, level), differs, policy))
        lp = self.primary.lp_mask
        for d, _, _ in self.neighbours:
            lp &= d.lp_mask
        self.lp = lp
        self.nlp = U64 & ~lp
        self.memo: dict[int, tuple[Reading, tuple]] = {}
        self.memo_weight = 0

    @property
    def profile(self) -> Profile:
        return self.primary.profile

    def _miss(self, pte: int, key: int) -> tuple[Reading, tuple]:
        r0 = self.primary.classify(pte)
        sig0 = r0.signature()
        psig0 = _payload_sig(self.primary, r0)
        groups: dict[tuple, list] = {}
        for dec, differs, policy in self.neighbours:
            if policy == "special" and pte not in dec.special_values:
                continue  # a scheme only changes how its own marker value reads
            r = dec.classify(pte)
            if policy == "special" and r.form != "special":
                continue  # (pte_none comes first)
            if policy == "wellformed" and not r.wellformed:
                continue
            same = r.signature() == sig0
            psig = _payload_sig(dec, r)
            same_numbers = psig == psig0
            if same and same_numbers:
                continue
            if same and _lp_map(dec, r, self.lp) == _lp_map(self.primary, r0, self.lp):
                # the numbers differ, if at all, only through bits the key fixes: decide
                # for every value of this key now, not per value
                if payload_key(dec.numbers(pte, r), r) == \
                        payload_key(self.primary.numbers(pte, r0), r0):
                    continue
                same = False
            gkey = (r.signature(), psig)
            if gkey in groups:
                groups[gkey][2].append(differs)
            else:
                groups[gkey] = [dec, r, [differs], same, same_numbers]
        # (decoder, reading, differs, same reading, label, same numbers as the primary's)
        alts = tuple((d, r, tuple(diffs), same, ",".join("+".join(x.values()) for x in diffs),
                      same_numbers)
                     for d, r, diffs, same, same_numbers in groups.values())
        self.memo_weight += 1 + len(alts)
        if self.memo_weight > self.MEMO_WEIGHT:
            self.memo.clear()
            self.memo_weight = 1 + len(alts)
        rec = (r0, alts)
        self.memo[key] = rec
        return rec

    def record(self, pte: int) -> tuple[Reading, tuple]:
        """The memoised (reading, alternative specs) of one value."""
        lp = self.lp
        low = pte & lp
        key = (pte & self.nlp) | ((0 if low == 0 else (1 if low == lp else 2)) << 64)
        rec = self.memo.get(key)
        return rec if rec is not None else self._miss(pte, key)

    def decode(self, pte: int, token: str | None = None) -> Entry:
        r, alts = self.record(pte)
        return Entry(pte, r, self.primary, token, alts)


def classifier_for(profile: Profile, level: str = "pte", alternatives: bool = True) -> Classifier:
    """The memoising classifier of a profile (cached like :func:`decoder_for`)."""
    return _classifier_for(profile._replace(sources=(), notes=()), level, alternatives)


@lru_cache(maxsize=64)
def _classifier_for(profile: Profile, level: str, alternatives: bool) -> Classifier:
    return Classifier(profile, level, alternatives)
