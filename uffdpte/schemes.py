"""The 2021 uffd-wp encodings side by side: what each costs and what it collides with.

"This unmapped page is write-protected" needs one PTE value that no real entry uses:

- ``marker``      mainline (5.19): a dedicated swap type, SWP_PTE_MARKER, offset = marker bits
                  (Peter Xu, "mm: Introduce PTE_MARKER swap entry", 679d10331910; Alistair
                  Popple argued for a dedicated type);
- ``special-pte`` Peter Xu's v2-v5 series (2021): the PTE with only the swap uffd-wp bit set
                  (UFFD_WP_SWP_PTE_SPECIAL), generic fallback ``__pte(0)``;
- ``swp-type1``   Hugh Dickins' proposal: ``__swp_entry(1, 0)``, since slot 0 of a swap file
                  is its header.

Everything here is computed from the layout rows of the profile: the raw values, the cost,
and the collision check (decode the value under the same profile without the scheme and see
whether it is a well-formed entry of something else).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .classify import Decoder, decoder_for
from .encode import why_no_row, why_no_type
from .entry import Entry
from .layouts.generic import MAX_SWAPFILES_SHIFT, SWAP_OFFSET_LIMIT
from .layouts.model import SWAP
from .profile import SCHEMES, Profile, ProfileError
from .render.plain import summary

#: Sources: the commit and the LKML threads (lore links by the patches' Message-IDs).
HISTORY = {
    "marker": "mainline since 5.19: swp_entry(SWP_PTE_MARKER, PTE_MARKER_UFFD_WP) "
              "(Peter Xu, 'mm: Introduce PTE_MARKER swap entry', 679d10331910; v8 2022-04-04, "
              "https://lore.kernel.org/lkml/20220405014646.13522-1-peterx@redhat.com/; a "
              "dedicated swap type, as Alistair Popple argued)",
    "special-pte": "Peter Xu's uffd-wp shmem/hugetlbfs series v2-v5 (2021-04-27..07-15), "
                   "'mm/userfaultfd: Introduce special pte for unmapped file-backed mem': "
                   "UFFD_WP_SWP_PTE_SPECIAL, only the swap uffd-wp bit set; __pte(0) elsewhere "
                   "(v2 https://lore.kernel.org/lkml/20210427161317.50682-1-peterx@redhat.com/, "
                   "v5 https://lore.kernel.org/lkml/20210715201422.211004-1-peterx@redhat.com/)",
    "swp-type1": "Hugh Dickins' proposal (quoted in v2-v5): __swp_entry(1, 0), relying on slot 0 "
                 "of every swap file being its header (the 2020 discussion the patch links: "
                 "https://lore.kernel.org/lkml/20201126222359.8120-1-peterx@redhat.com/, "
                 "https://lore.kernel.org/lkml/20201130230603.46187-1-peterx@redhat.com/)",
}


@dataclass
class SchemeResult:
    scheme: str
    profile: Profile
    raw: int | None  # None: not representable
    representable: bool
    why_not: str | None = None
    cost: list[str] = field(default_factory=list)
    predicates: dict[str, bool] = field(default_factory=dict)
    #: how the same value reads under the profile without this scheme
    base_reading: str = ""
    collides: bool = False
    collision: str = ""
    fallback: int | None = None  # special-pte's generic __pte(0) where the bit is missing

    def to_dict(self) -> dict:
        return {
            "scheme": self.scheme, "arch": self.profile.arch, "kernel": self.profile.kernel.text,
            "config": self.profile.config_label,
            "raw": None if self.raw is None else "0x%016x" % self.raw,
            "representable": self.representable, "why_not": self.why_not, "cost": self.cost,
            "predicates": self.predicates, "base_reading": self.base_reading,
            "collides": self.collides, "collision": self.collision,
            "fallback": None if self.fallback is None else "0x%016x" % self.fallback,
            "history": HISTORY[self.scheme],
        }


def _reading(e: Entry) -> tuple[str, bool]:
    """(text, well-formed) of an entry decoded without the scheme: decode's line (without
    the value) and whether it is a real entry of something."""
    return summary(e, problems=True), e.wellformed and e.state != "none"


def _predicates(e: Entry) -> dict[str, bool]:
    """The predicates that tell the schemes apart, from the decode (pte_swp_uffd_wp is
    false where the profile has no swap uffd-wp bit)."""
    p = e.predicates
    return {
        "pte_none": p["pte_none"],
        "pte_present": p["pte_present"],
        "is_swap_pte": p["is_swap_pte"],
        "pte_swp_uffd_wp": p.get("pte_swp_uffd_wp", False),
        "pte_marker_uffd_wp": e.state == "marker" and "UFFD_WP" in e.markers,
    }


def report(profile: Profile) -> list[SchemeResult]:
    """Every scheme under ``profile`` (whose own scheme is ignored)."""
    base = decoder_for(profile.with_(scheme="marker") if profile.scheme != "marker" else profile)
    return [_one(s, base) for s in SCHEMES]


def _one(scheme: str, base: Decoder) -> SchemeResult:
    p = base.profile
    res = SchemeResult(scheme, p, None, False)
    if scheme == "marker":
        types = [n for n, t in base.types.items() if t.state == "marker"]
        if not types:
            res.why_not = (f"no marker swap type in {p.arch} {p.kernel.short}: "
                           + why_no_type(base, "marker", None))
            hypo = _hypothetical_marker_type(base)
            if hypo is not None:  # where the type would sit, and what owns that value today
                raw = base.swp_entry_to_pte(hypo, 1)
                text, ok = _reading(base.decode(raw))
                res.base_reading = (f"a marker type would be {hypo}: {raw:#x}, which this "
                                    f"profile reads as {text}")
                res.collides = ok
                res.collision = f"{raw:#x} is already {text}" if ok else ""
            return res
        uffd = [m for m in base.marker_bits if m.name == "UFFD_WP"][0]
        res.raw = base.swp_entry_to_pte(types[0], 1 << uffd.bit)
        others = [m.name for m in base.marker_bits if m.in_page_tables and m is not uffd]
        res.cost = [f"one of {1 << MAX_SWAPFILES_SHIFT} swap types: SWP_PTE_MARKER = "
                    f"{types[0]}, so MAX_SWAPFILES is "
                    f"{base.max_swapfiles}" + (f" (the type is shared with {', '.join(others)})"
                                               if others else ""),
                    "no PTE bit; no real swap offset lost"]
        e = base.decode(res.raw)
        res.base_reading = _reading(e)[0]  # the marker itself: no collision
        res.collision = "none: the type is reserved for markers (is_pte_marker_entry)"
    elif scheme == "special-pte":
        rows = [r for r in base.forms[SWAP].flags if r.name == "SWP_UFFD_WP"]
        if not rows:
            res.why_not = (f"{p.arch} {p.kernel.short} has no swap uffd-wp bit ("
                           + why_no_row(base, "SWP_UFFD_WP", SWAP)
                           + "); the generic fallback __pte(0) is pte_none")
            res.fallback = 0
            # the bit where this profile's config or a later kernel has it
            off = [r for r in base.gated_off if r.name == "SWP_UFFD_WP" and SWAP in r.forms]
            later = [r for r in base.layout.bits if r.name == "SWP_UFFD_WP" and SWAP in r.forms
                     and r.era.since is not None and p.kernel.key < r.era.since]
            bit = (off or later or [None])[0]
            if bit is not None:  # what that bit's value means in this layout
                text, _ = _reading(base.decode(bit.mask))
                res.base_reading = (f"{bit.mask:#x} (the {'' if off else 'later '}bit alone) "
                                    f"reads here as {text}")
            res.collides = True
            res.collision = ("the fallback __pte(0) is pte_none: indistinguishable from an empty "
                             "entry")
            return res
        r = rows[0]
        res.raw = r.mask
        t, off = base.swp_type_raw(res.raw), base.swp_offset(res.raw)
        res.cost = [f"no swap type; uses {r.macro} (bit {r.lo}), which swap entries already carry "
                    "for anonymous uffd-wp",
                    f"the all-zero swap fields (type {t}, offset {off:#x}) can no longer be a real "
                    "entry" + (": no swap device reaches that offset anyway"
                               if off >= SWAP_OFFSET_LIMIT else
                               ": slot 0 is the swap header anyway" if off == 0 else "")]
        e = base.decode(res.raw)
        res.base_reading, res.collides = _reading(e)
        res.collision = ("a well-formed entry reads the same: " + res.base_reading if res.collides
                         else "none: without the scheme it is not a well-formed entry")
    else:  # swp-type1
        if base.max_swapfiles < 2:
            res.why_not = "swap type 1 is not a swap device under this config"
            return res
        res.raw = base.swp_entry_to_pte(1, 0)
        res.cost = ["no swap type, no PTE bit",
                    "swap type 1 offset 0, which is never real: slot 0 of a swap file is its "
                    "header"]
        e = base.decode(res.raw)
        res.base_reading, res.collides = _reading(e)
        res.collision = ("a well-formed entry reads the same: " + res.base_reading if res.collides
                         else "none: without the scheme it is not a well-formed entry")
    res.representable = True
    res.predicates = _predicates(e)
    return res


def _hypothetical_marker_type(base: Decoder) -> int | None:
    """The number SWP_PTE_MARKER would get if the profile reserved it (swap.h order)."""
    from .layouts.generic import SWAP_TYPES
    kv, p = base.profile.kernel, base.profile
    specials = [t for t in SWAP_TYPES if t.era.contains(kv)
                and (t.gate is None or p.has(t.gate) or t.state == "marker")]
    if not any(t.state == "marker" for t in specials):
        return None  # before 5.19 there is no marker type to imagine
    first = (1 << MAX_SWAPFILES_SHIFT) - len(specials)
    return first + [t.state for t in specials].index("marker")


def profiles_for(arch: str | None, kernel: str | None, config: str | None) -> list[Profile]:
    from .profile import resolve
    arches = [arch] if arch else ["x86_64", "arm64"]
    kernels = [kernel] if kernel else ["6.1", "6.12", "mainline"]
    out = []
    for a in arches:
        for k in kernels:
            try:
                out.append(resolve(arch=a, kernel=k, config=config))
            except ProfileError:
                if arch and kernel:
                    raise
    return out
