"""Encode: build any entry state as raw bits, the exact inverse of decode.

Every bit comes from the rows the profile's :class:`~uffdpte.classify.Decoder` selected, so
encode and decode cannot disagree on a position.  A spec the profile cannot represent is
refused with the reason; every result is decoded again and must give the spec back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .classify import Decoder
from .entry import Entry
from .layouts import ARCHES, layout_for
from .layouts.generic import (GENERIC_CAPABILITIES, MAX_SWAPFILES_SHIFT, SWAP_DERIVED,
                              SWAP_FLAGS_ALLOWED, SWAP_HEADER_SOURCE, SWAP_OFFSET_LIMIT,
                              SWAP_TYPES)
from .layouts.model import FLAG, IGNORED, PRESENT, PROTNONE, SWAP, TABLE, Era

#: swap-format states (the kinds of entry SWAP_FLAGS_ALLOWED lists)
SWAP_STATES = tuple(SWAP_FLAGS_ALLOWED)
#: the special swap types' subtypes per state, in swap.h order
_SUBTYPES_OF = {state: tuple(dict.fromkeys(t.subtype for t in SWAP_TYPES if t.state == state))
                for state in dict.fromkeys(t.state for t in SWAP_TYPES)}
#: states with several special types: a spec must name the subtype
SUBTYPES = {state: subs for state, subs in _SUBTYPES_OF.items() if len(subs) > 1}
#: states with one special type: its subtype is implied
DEFAULT_SUBTYPE = {state: subs[0] for state, subs in _SUBTYPES_OF.items() if len(subs) == 1}
#: spec booleans -> the swap flag row that carries them (pte_swp_uffd_wp, ...)
SWAP_FLAG_OF = {d.name: d.any_of[0][0] for d in SWAP_DERIVED}


class EncodeError(ValueError):
    """The profile cannot represent this spec (the message says why)."""


@dataclass
class Spec:
    """What to build.  Fields a state does not use must stay unset."""

    state: str
    subtype: str | None = None
    pfn: int | None = None
    swp_type: int | None = None
    offset: int | None = None
    flags: tuple[str, ...] = ()  # kernel names: RW, NX, SWP_EXCLUSIVE, ...
    fields: dict[str, int] = field(default_factory=dict)  # ATTRINDX=0, PKEY=3, ...
    markers: tuple[str, ...] = ()
    uffd_wp: bool = False
    soft_dirty: bool = False
    exclusive: bool = False
    young: bool = False
    dirty: bool = False


def spec_of(e: Entry) -> Spec:
    """The spec a decoded entry stands for (what encode needs to rebuild it)."""
    r = e.reading
    flags = tuple(f for f in r.flags)
    form = e.decoder.forms.get(r.form)
    rows = {f.name for f in form.fields} if form is not None else set()
    fields = {name: raw for name, raw, _ in r.fields if name in rows}  # not derived SIZE
    s = Spec(state=r.state, subtype=r.subtype, flags=flags, fields=fields, markers=r.markers)
    if r.form in (PRESENT, PROTNONE, TABLE):
        s.pfn = e.pfn
    elif r.form == "special":
        s.flags = ()  # the scheme's value is the whole entry
    elif r.form == SWAP:
        if r.state == "swap":
            s.swp_type, s.offset = r.swp_type, e.swp_offset
        elif r.state != "marker":
            s.pfn = e.pfn
        migration = r.state == "migration"
        s.young, s.dirty = bool(r.young) and migration, bool(r.dirty) and migration
    return s


def _names(decoder: Decoder, form: str) -> dict[str, int]:
    f = decoder.forms[form]
    return {r.name: r.mask for r in f.rows if r.role in (FLAG, IGNORED)}


def _did_you_mean(name: str, known: list[str]) -> str:
    import difflib
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _flag_bits(decoder: Decoder, form: str, flags: tuple[str, ...]) -> int:
    names = _names(decoder, form)
    bits = 0
    for fl in flags:
        key = fl.upper()
        if key not in names:
            raise EncodeError(f"flag {fl!r} is not a {form} bit under {decoder.profile.label()}"
                              + _did_you_mean(key, sorted(names)))
        bits |= names[key]
    return bits


def _field_bits(decoder: Decoder, form: str, fields: dict[str, int]) -> int:
    rows = {r.name: r for r in decoder.forms[form].fields}
    bits = 0
    for name, value in fields.items():
        r = rows.get(name.upper())
        if r is None:
            raise EncodeError(f"field {name!r} is not a {form} field under "
                              f"{decoder.profile.label()}"
                              + _did_you_mean(name.upper(), sorted(rows)))
        if isinstance(value, str):
            by_name = {label: raw for raw, label in r.values}
            if value not in by_name:
                raise EncodeError(f"{name}={value}: known values {', '.join(by_name) or 'numbers'}")
            value = by_name[value]
        if not 0 <= value < 1 << r.width:
            raise EncodeError(f"{name}={value}: the field is {r.width} bits ({r.bits_label()})")
        bits |= value << r.lo
    return bits


def _pa_bits(decoder: Decoder, form: str, pfn: int) -> int:
    """Place pfn << PAGE_SHIFT into the PFN rows; refuse what they cannot hold."""
    limit = decoder.physmem_bits - decoder.page_shift
    if pfn < 0 or pfn >> limit:
        raise EncodeError(f"PFN {pfn:#x} is above MAX_PHYSMEM_BITS - PAGE_SHIFT "
                          f"({decoder.physmem_bits} - {decoder.page_shift} = {limit} bits)")
    pa = pfn << decoder.page_shift
    raw = 0
    for r in decoder.forms[form].pfn:
        raw |= ((pa >> r.pa_lo) & ((1 << r.width) - 1)) << r.lo
    if decoder.phys_addr(raw, form if form != PROTNONE else PRESENT) != pa:
        what = ("is not aligned to the leaf size" if decoder.level != "pte" and form != TABLE
                else "cannot be held by the PFN rows")
        raise EncodeError(f"PFN {pfn:#x} {what} of {decoder.profile.label()} "
                          f"({decoder.level})")
    return raw


def encode(spec: Spec, decoder: Decoder, *, allow_invalid: bool = False) -> int:
    """Build the raw entry for ``spec`` under ``decoder``'s profile.

    ``allow_invalid`` builds bits the kernel never writes (a swap offset no device reaches,
    a flag on a kind of entry that never carries it) instead of refusing; the result then
    decodes with problems.
    """
    raw = _build(spec, decoder, allow_invalid)
    _verify(spec, decoder, raw, allow_invalid)
    return raw


def _build(spec: Spec, d: Decoder, allow_invalid: bool) -> int:
    state = spec.state
    pr = d.presence
    if state == "none":  # only the bits pte_none ignores (x86: A/D, the KNL erratum)
        bits = _flag_bits(d, PRESENT, spec.flags) if spec.flags else 0
        if bits & ~pr.none_ignores:
            raise EncodeError(f"an empty entry may only carry bits pte_none ignores "
                              f"({pr.none_ignores:#x} under {d.profile.label()})")
        return bits
    if state == "present" and spec.subtype == "table":
        if pr.table is None:
            raise EncodeError(f"no table entries at the {d.level} level")
        if spec.pfn is None:
            raise EncodeError("a table entry needs --pfn (the next-level table's PFN)")
        raw = (pr.table_bits or pr.valid) | _flag_bits(d, TABLE, spec.flags)
        return raw | _field_bits(d, TABLE, spec.fields) | _pa_bits(d, TABLE, spec.pfn)
    if state == "present" and spec.subtype != "present_invalid":
        if spec.pfn is None:
            raise EncodeError("present needs --pfn")
        if pr.table is not None:  # a leaf above PTE level: not the table pattern (PSE, 0b01)
            mask, want = pr.table
            leaf = pr.valid | (mask & ~want)
        else:
            leaf = pr.page or pr.valid
        raw = leaf | _flag_bits(d, PRESENT, spec.flags)
        raw |= _field_bits(d, PRESENT, spec.fields) | _pa_bits(d, PRESENT, spec.pfn)
        return raw
    if state == "protnone" or (state == "present" and spec.subtype == "present_invalid"):
        # present-invalid form: PROT_NONE, or (arm64 6.10+) an invalidated entry that is not
        if spec.pfn is None:
            raise EncodeError(f"{state} needs --pfn")
        raw = _flag_bits(d, PROTNONE, spec.flags) | _field_bits(d, PROTNONE, spec.fields)
        if not raw & pr.present_invalid:  # (3.16-3.19 NUMA: either bit 8 or bit 9 will do)
            raw |= pr.present_invalid & -pr.present_invalid
        raw &= ~pr.valid
        if state == "protnone":
            raw |= pr.protnone_want
        if state == "protnone" and (raw & pr.protnone_mask) != pr.protnone_want:
            clash = (raw ^ pr.protnone_want) & pr.protnone_mask
            raise EncodeError(f"bits {clash:#x} conflict with pte_protnone() under "
                              f"{d.profile.label()} ({pr.source})")
        pa = _pa_bits(d, PROTNONE, spec.pfn)
        if pr.invert_pfn:  # L1TF: the PFN field holds ~pfn (pgtable-invert.h)
            mask = sum(r.mask for r in d.forms[PROTNONE].pfn)
            pa ^= mask
        return raw | pa
    if state in SWAP_STATES:
        return _build_swap(spec, d, allow_invalid)
    raise EncodeError(f"unknown state {state!r} (states: none, present, protnone, "
                      f"{', '.join(SWAP_STATES)})")


def _type_for(spec: Spec, d: Decoder) -> int:
    state = spec.state
    want = spec.subtype or DEFAULT_SUBTYPE.get(state)
    if state in SUBTYPES and want not in SUBTYPES[state]:
        raise EncodeError(f"{state} needs a subtype: {', '.join(SUBTYPES[state])}")
    for n, t in d.types.items():
        if t.state == state and t.subtype == want:
            return n
    raise EncodeError(f"no {want} swap type under {d.profile.label()}: "
                      f"{why_no_type(d, state, want)}")


def _build_swap(spec: Spec, d: Decoder, allow_invalid: bool) -> int:
    state = spec.state
    if (state == "marker" and d.special_values and spec.markers == ("UFFD_WP",)
            and not spec.flags and not (spec.soft_dirty or spec.exclusive)):
        return next(iter(d.special_values))  # the scheme's own uffd-wp encoding
    flags = set(f.upper() for f in spec.flags)
    for key, flag in SWAP_FLAG_OF.items():
        if getattr(spec, key):
            flags.add(flag)
    names = _names(d, SWAP)
    for flag in sorted(flags):
        if flag not in names:
            raise EncodeError(_missing_flag(flag, d))
    allowed = SWAP_FLAGS_ALLOWED[state]
    stray = sorted(f for f in flags if f.startswith("SWP_") and f not in allowed)
    if stray and not allow_invalid:
        raise EncodeError(f"{', '.join(stray)} on a {state} entry: the kernel never sets "
                          f"{'it' if len(stray) == 1 else 'them'} there "
                          "(--allow-invalid builds it)")
    if state == "swap":
        if spec.swp_type is None or spec.offset is None:
            raise EncodeError("swap needs --type and --offset")
        t, offset = spec.swp_type, spec.offset
        if not 0 <= t < d.max_swapfiles:
            what = d.types.get(t)
            raise EncodeError(f"swap type {t} is " + (f"{what.name} under {d.profile.label()}: a "
                              "special type, not a swap device" if what else
                              f"out of range (MAX_SWAPFILES_SHIFT is {MAX_SWAPFILES_SHIFT})"))
        limit = d.off_mask
        if not 0 <= offset <= limit:
            raise EncodeError(f"offset {offset:#x} is wider than the profile's "
                              f"{limit.bit_length()}-bit swap offset field")
        if not allow_invalid and not 0 < offset < SWAP_OFFSET_LIMIT:
            raise EncodeError(f"offset 0 is the swap header and no swap device has "
                              f"2^{SWAP_OFFSET_LIMIT.bit_length() - 1} slots "
                              f"({SWAP_HEADER_SOURCE}): the kernel never writes this "
                              "(--allow-invalid builds it)")
    else:
        t = _type_for(spec, d)
        if state == "marker":
            offset = _marker_bits(spec.markers, d)
        else:
            if spec.pfn is None:
                raise EncodeError(f"{state} needs --pfn")
            bits = d.swp_pfn_bits  # MAX_PHYSMEM_BITS - PAGE_SHIFT, masked (6.1+) or not
            if not 0 <= spec.pfn < 1 << bits:
                raise EncodeError(f"PFN {spec.pfn:#x} is above SWP_PFN_BITS ({bits} = "
                                  f"MAX_PHYSMEM_BITS {d.physmem_bits} - PAGE_SHIFT "
                                  f"{d.page_shift})")
            offset = spec.pfn
            if spec.young or spec.dirty:
                if state != "migration" or not d.migration_ad:
                    raise EncodeError(
                        "young/dirty are cached only in migration entries, 6.1+, when "
                        "arch_max_swapfile_size allows (not under "
                        f"{d.profile.label()})" if state == "migration" else
                        f"young/dirty are cached only in migration entries, not {state}")
                offset |= (int(spec.young) << d.swp_pfn_bits
                           | int(spec.dirty) << (d.swp_pfn_bits + 1))
    raw = d.swp_entry_to_pte(t, offset)
    for flag in flags:
        raw |= names[flag]
    return raw


def _missing_flag(flag: str, d: Decoder) -> str:
    return (f"{flag} is not representable on {d.profile.arch} {d.profile.kernel.short}: "
            f"{why_no_row(d, flag, SWAP)}")


# --- why a row or a swap type is missing under a profile ---------------------------------------
# From the rows themselves, as classify's _explain_bit reads a set bit: a row whose era holds
# but whose gate is off (Decoder.gated_off) says which capability is missing and why (its
# Capability rows); a row of another era says which releases have it, and where from.

def _era_text(era: Era, kv) -> str:
    """``arrives in 6.10+ (source)`` or ``only in 5.19–<6.2 (source)``."""
    when = (f"arrives in {era.label()}" if era.until is None and era.since is not None
            and kv.key < era.since else f"only in {era.label()}")
    return when + (f" ({era.source})" if era.source else "")


def why_no_capability(p, name: str) -> str:
    """Why profile ``p`` lacks capability ``name``, from its Capability rows: the
    requirements that fail in the row of this kernel's era, or the eras that have it."""
    from .profile import SYMBOLS
    arch_rows = layout_for(p.arch).capabilities
    rows = [c for c in arch_rows + GENERIC_CAPABILITIES if c.name == name]
    meaning = next((c.meaning for c in rows if c.meaning), "")
    head = name.replace("_", "-") + (f" ({meaning})" if meaning else "")
    now = [c for c in rows if c.era.contains(p.kernel)]
    if not now:
        eras = "; ".join(("on " + p.arch + " " if c in arch_rows else "")
                         + _era_text(c.era, p.kernel) for c in rows)
        return f"{head}: {eras or f'no {p.arch} row'}"
    facts = p.facts
    unmet: list[str] = []
    for c in now:
        for req in c.requires:
            neg, req_name = req.startswith("!"), req.lstrip("!")
            if req_name.islower():
                if p.has(req_name) == neg:
                    unmet.append(f"{req_name.replace('_', '-')} holds" if neg
                                 else "needs " + why_no_capability(p, req_name))
            elif (req_name in facts) == neg:
                sym = SYMBOLS.get(req_name)
                what = f"CONFIG_{req_name}" if sym is not None and not sym.runtime else req_name
                if neg:
                    unmet.append(f"{what} is set")
                elif sym is not None and not sym.exists(p.arch, p.kernel):
                    unmet.append(f"{what} does not exist on {p.arch} {p.kernel.short}")
                else:
                    unmet.append(f"{what} is off")
    later = [c for c in rows if c.era.since is not None and p.kernel.key < c.era.since]
    tail = "".join(f"; from {c.era.label()} it needs "
                   + (", ".join(c.requires) if c.requires else "nothing")
                   + f" ({c.era.source})" for c in later)
    return f"{head}: {' and '.join(unmet) or 'off under this profile'}{tail}"


def why_no_row(d: Decoder, name: str, form: str) -> str:
    """Why the decoder's form has no row ``name``: its gate is off, it belongs to another
    era, or only another arch's layout has it."""
    kv = d.profile.kernel
    for r in d.gated_off:
        if r.name == name and form in r.forms:
            gate = r.gate.lstrip("!")
            if r.gate.startswith("!"):
                return f"{r.macro} is not used where {gate.replace('_', '-')} holds"
            return f"{r.macro} needs {why_no_capability(d.profile, gate)}"
    others = [r for r in d.layout.bits if r.name == name and form in r.forms
              and d.level in r.levels and not r.era.contains(kv)]
    if others:
        return "; ".join(f"{r.macro} {_era_text(r.era, kv)}" for r in others)
    elsewhere = [(a, r) for a in ARCHES if a != d.profile.arch
                 for r in layout_for(a).bits if r.name == name and form in r.forms]
    if elsewhere:
        arches = sorted({a for a, _ in elsewhere})
        macros = sorted({r.macro for _, r in elsewhere})
        return (f"no {d.profile.arch} layout has it: only {', '.join(arches)} "
                f"({', '.join(macros)})")
    return f"no such {form}-entry bit"


def why_no_type(d: Decoder, state: str, subtype: str | None) -> str:
    """Why the profile reserves no special swap type ``state``/``subtype``: its gate is
    off (the Capability rows say why), or its era does not hold."""
    kv, p = d.profile.kernel, d.profile
    rows = [t for t in SWAP_TYPES if t.state == state and subtype in (None, t.subtype)]
    why = []
    for t in rows:
        if t.era.contains(kv):
            why.append(f"{t.name} needs {why_no_capability(p, t.gate)}" if t.gate else
                       f"{t.name} is not reserved under this profile")
        else:
            why.append(f"{t.name} {_era_text(t.era, kv)}")
    return "; ".join(why) or f"no special swap type {subtype or state}"


def _marker_bits(markers: tuple[str, ...], d: Decoder) -> int:
    if not markers:
        raise EncodeError("a marker needs at least one marker bit (--uffd-wp, --poisoned, --guard)")
    known = {m.name: m for m in d.marker_bits}
    bits = 0
    for name in markers:
        m = known.get(name.upper())
        if m is None or not m.in_page_tables:
            defined = ", ".join(k for k, x in known.items() if x.in_page_tables) or "none"
            raise EncodeError(f"marker {name} is not defined in {d.profile.kernel.short} "
                              f"(defined: {defined})")
        bits |= 1 << m.bit
    return bits


def _verify(spec: Spec, d: Decoder, raw: int, allow_invalid: bool) -> None:
    """Decode the result: it must give the spec back (encode and decode share the rows)."""
    e = d.decode(raw)
    r = e.reading
    if allow_invalid and not r.wellformed:
        return
    if spec.subtype == "present_invalid" and r.subtype != "present_invalid":
        raise EncodeError("an invalidated present entry needs bits that keep it from reading "
                          "as PROT_NONE (pte_protnone)")
    want_state = spec.state
    got = (r.state, e.pfn if spec.pfn is not None else None,
           r.markers if spec.markers else ())
    want = (want_state, spec.pfn, tuple(m.upper() for m in spec.markers))
    problems = list(r.problems)
    if got != want or (spec.subtype and r.subtype != spec.subtype and r.form != "special") or \
            problems:
        detail = "; ".join(problems) if problems else f"it decodes as {r.state}/{r.subtype}"
        raise EncodeError(f"not representable as asked: {detail}")
