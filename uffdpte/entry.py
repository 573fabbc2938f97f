"""The result of a decode: a :class:`Reading` shared by every value of one shape, and an
:class:`Entry` that adds the value (PFN, offset) on demand.

A Reading holds what does not depend on the payload bits (state, type, flags, problems);
values that differ only in their PFN or swap offset share one, which is what lets a stream
of millions of entries decode at the speed of a dict lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classify import Decoder
    from .profile import Profile

#: State names are part of the JSON interface.  ``swapped`` is pagemap's only: a page the
#: kernel reports as PM_SWAP with its type hidden (no CAP_SYS_ADMIN), not yet told apart.
STATES = ("none", "present", "protnone", "swap", "migration", "device", "hwpoison",
          "swapin_error", "marker", "invalid", "swapped")

#: Keys every JSON record has (the contract); tests pin them.
RECORD_KEYS = ("input", "value", "arch", "kernel", "level", "state", "pfn", "swp_type",
               "swp_offset", "swp_entry", "subtype", "markers", "flags", "uffd_wp",
               "soft_dirty", "exclusive", "write", "dirty", "young", "problems", "alternatives")


class Reading:
    """What one shape of entry means under one profile (payload-independent)."""

    __slots__ = ("state", "subtype", "form", "swp_type", "type_name", "markers", "flags",
                 "fields", "uffd_wp", "soft_dirty", "exclusive", "write", "dirty", "young",
                 "predicates", "problems", "notes", "payload", "wellformed", "cache")

    def __init__(self, *, state: str, form: str, subtype: str | None = None,
                 swp_type: int | None = None, type_name: str | None = None,
                 markers: tuple[str, ...] = (), flags: tuple[str, ...] = (),
                 fields: tuple[tuple[str, int, str | None], ...] = (),
                 uffd_wp: bool | None = None, soft_dirty: bool | None = None,
                 exclusive: bool | None = None, write: bool | None = None,
                 dirty: bool | None = None, young: bool | None = None,
                 predicates: dict[str, bool] | None = None, problems: tuple[str, ...] = (),
                 notes: tuple[str, ...] = (), payload: str | None = None) -> None:
        self.state = state
        self.subtype = subtype
        self.form = form  # none / present / protnone / swap / special
        self.swp_type = swp_type
        self.type_name = type_name
        self.markers = markers
        self.flags = flags
        self.fields = fields  # (name, raw value, value name) of multi-bit fields
        self.uffd_wp = uffd_wp
        self.soft_dirty = soft_dirty
        self.exclusive = exclusive
        self.write = write
        self.dirty = dirty
        self.young = young
        self.predicates = predicates or {}
        self.problems = problems
        self.notes = notes
        #: how the value's payload reads: "pa" (present PFN), "pfn" (PFN in the swap
        #: offset), "offset" (swap offset only), None (nothing more)
        self.payload = payload
        self.wellformed = state != "invalid" and not problems
        #: what renderers derive from the reading alone (templates), built on first use
        self.cache: dict = {}

    def identity(self) -> tuple:
        """Everything the reading says: equal identities are interchangeable readings."""
        return (self.state, self.subtype, self.form, self.swp_type, self.type_name,
                self.markers, self.flags, self.fields, self.uffd_wp, self.soft_dirty,
                self.exclusive, self.write, self.dirty, self.young,
                tuple(self.predicates.items()), self.problems, self.notes, self.payload)

    def signature(self) -> tuple:
        """What two readings must share to be the same reading (payload aside).  A
        predicate the profile lacks (None) and one that is false read the same."""
        fields = tuple(f for f in self.fields if f[1] or f[2] is not None)
        return (self.state, self.subtype, self.swp_type, self.markers, self.flags, fields,
                bool(self.uffd_wp), bool(self.soft_dirty), bool(self.exclusive),
                bool(self.write), bool(self.dirty), bool(self.young), self.problems)


def payload_key(numbers: tuple, r: Reading) -> tuple:
    """What must match for two readings of one value to give the same numbers.  Present
    entries compare by physical address: the same PA is another PFN under another page
    size, and that is not a different reading."""
    return ("pa", numbers[2]) if r.payload == "pa" else (numbers[1], numbers[0])


def shown_alternatives(decoder: "Decoder", reading: Reading, alts: tuple, value: int,
                       mine: tuple | None = None) -> list:
    """The alternative specs worth showing for ``value``: (decoder, reading, differs, label,
    numbers).  A profile that reads the same shape but extracts the payload differently
    (another page size, another swap layout) differs only if the numbers do.  ``mine``:
    the primary's numbers, when the caller has them."""
    if mine is None:
        mine = decoder.numbers(value, reading)
    out = []
    mine_key = None
    for dec, r, differs, same_reading, label, same_numbers in alts:
        if same_numbers:
            out.append((dec, r, differs, label, mine))  # a different reading, same numbers
            continue
        nums = dec.numbers(value, r)
        if same_reading:
            if mine_key is None:
                mine_key = payload_key(mine, reading)
            if payload_key(nums, r) == mine_key:
                continue
        out.append((dec, r, differs, label, nums))
    return out


def contract(profile: "Profile", level: str, r: Any, *, input: Any, value: Any, pfn: Any,
             swp_offset: Any, swp_entry: Any, alternatives: Any) -> dict[str, Any]:
    """The keys every JSON record has, in RECORD_KEYS order, from a reading (decode's
    :class:`Reading` or pagemap's PmReading: both name their state items alike)."""
    return {
        "input": input,
        "value": value,
        "arch": profile.arch,
        "kernel": profile.kernel.text,
        "level": level,
        "state": r.state,
        "pfn": pfn,
        "swp_type": r.swp_type,
        "swp_offset": swp_offset,
        "swp_entry": swp_entry,
        "subtype": r.subtype,
        "markers": list(r.markers),
        "flags": list(r.flags),
        "uffd_wp": r.uffd_wp,
        "soft_dirty": r.soft_dirty,
        "exclusive": r.exclusive,
        "write": r.write,
        "dirty": r.dirty,
        "young": r.young,
        "problems": list(r.problems),
        "alternatives": alternatives,
    }


def record(decoder: "Decoder", r: Reading, *, input: Any, value: Any, pfn: Any,
           swp_offset: Any, swp_entry: Any, phys_addr: Any, alternatives: Any,
           differs: tuple = ()) -> dict[str, Any]:
    """The JSON record of one reading, given its value-dependent items (the contract's keys
    first; render.jsonl builds its per-reading templates from this)."""
    profile = decoder.profile
    d = contract(profile, decoder.level, r, input=input, value=value, pfn=pfn,
                 swp_offset=swp_offset, swp_entry=swp_entry, alternatives=alternatives)
    d.update({  # additions beyond the contract
        "phys_addr": phys_addr,
        "type_name": r.type_name,
        "fields": {name: (label if label is not None else raw) for name, raw, label in r.fields},
        "predicates": dict(r.predicates),
        "notes": list(r.notes),
        "config": profile.config_label,
    })
    if differs:
        # an alternative: the state keys and what differs; the value, input and the
        # per-entry detail are the primary record's
        for key in _NOT_IN_ALTERNATIVES:
            del d[key]
        d["differs"] = [dict(x) for x in differs]
    return d


_NOT_IN_ALTERNATIVES = ("input", "value", "arch", "level", "alternatives", "fields",
                        "predicates", "notes")


class Entry:
    """One raw value decoded under one profile (``uffdpte.decode`` returns these)."""

    __slots__ = ("value", "reading", "decoder", "input", "_alts", "differs", "_profile")

    def __init__(self, value: int, reading: Reading, decoder: "Decoder", token: str | None = None,
                 alts: tuple = (), differs: tuple[dict[str, str], ...] = ()) -> None:
        self.value = value
        self.reading = reading
        self.decoder = decoder
        self.input = token
        self._alts = alts
        self.differs = differs  # for an alternative: the profile dimensions that differ
        self._profile: "Profile | None" = None  # with provenance, when the caller has it

    # --- what the reading says ------------------------------------------------------------
    @property
    def profile(self) -> "Profile":
        """The profile, with where each choice came from when the caller gave one."""
        return self._profile if self._profile is not None else self.decoder.profile

    @property
    def state(self) -> str:
        return self.reading.state

    @property
    def subtype(self) -> str | None:
        return self.reading.subtype

    @property
    def level(self) -> str:
        return self.decoder.level

    @property
    def flags(self) -> tuple[str, ...]:
        return self.reading.flags

    @property
    def markers(self) -> tuple[str, ...]:
        return self.reading.markers

    @property
    def problems(self) -> tuple[str, ...]:
        return self.reading.problems

    @property
    def notes(self) -> tuple[str, ...]:
        return self.reading.notes

    @property
    def predicates(self) -> dict[str, bool]:
        return self.reading.predicates

    @property
    def swp_type(self) -> int | None:
        return self.reading.swp_type

    def __getattr__(self, name: str) -> Any:
        # uffd_wp, soft_dirty, exclusive, write, dirty, young, type_name, fields, form
        if name in Reading.__slots__:
            return getattr(self.reading, name)
        raise AttributeError(name)

    # --- what the value adds --------------------------------------------------------------
    @property
    def phys_addr(self) -> int | None:
        """The physical address of a present or PROT_NONE entry (pte_pfn << PAGE_SHIFT)."""
        return self.decoder.numbers(self.value, self.reading)[2]

    @property
    def pfn(self) -> int | None:
        """pte_pfn, or swp_offset_pfn for PFN-carrying swap entries."""
        return self.decoder.numbers(self.value, self.reading)[1]

    @property
    def swp_offset(self) -> int | None:
        return self.decoder.numbers(self.value, self.reading)[0]

    @property
    def swp_entry(self) -> int | None:
        """The arch-independent swp_entry_t value (type << 58 | offset)."""
        if self.reading.swp_type is None:
            return None
        return self.decoder.swp_entry(self.reading.swp_type, self.swp_offset)

    @property
    def alternatives(self) -> tuple["Entry", ...]:
        """Readings under profiles the user did not pin that differ from this one."""
        out = []
        for decoder, reading, differs, _, _ in shown_alternatives(
                self.decoder, self.reading, self._alts, self.value):
            out.append(Entry(self.value, reading, decoder, self.input, (), differs))
        return tuple(out)

    @property
    def wellformed(self) -> bool:
        return self.reading.wellformed

    # --- output -----------------------------------------------------------------------------
    def to_dict(self, *, alternatives: bool = True) -> dict[str, Any]:
        r = self.reading
        off, pfn, phys = self.decoder.numbers(self.value, r)
        swp_entry = None if r.swp_type is None else self.decoder.swp_entry(r.swp_type, off)
        alts = [a.to_dict(alternatives=False) for a in self.alternatives] if alternatives else []
        return record(self.decoder, self.reading,
                      input=self.input if self.input is not None else "0x%016x" % self.value,
                      value="0x%016x" % self.value, pfn=pfn, swp_offset=off,
                      swp_entry=None if swp_entry is None else "0x%016x" % swp_entry,
                      phys_addr=None if phys is None else "0x%x" % phys,
                      alternatives=alts, differs=self.differs)

    def __repr__(self) -> str:
        extra = ""
        if self.pfn is not None:
            extra = f" pfn={self.pfn:#x}"
        elif self.swp_type is not None:
            extra = f" type={self.swp_type} offset={self.swp_offset:#x}"
        sub = f"/{self.subtype}" if self.subtype else ""
        return f"<Entry 0x{self.value:016x} {self.state}{sub}{extra} ({self.profile.label()})>"
