"""The 2021 uffd-wp encodings: raw values per arch and kernel (kernel-facts §4), the costs
and the collision check, computed from the layout tables."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from uffdpte.profile import resolve
from uffdpte.schemes import report


def schemes(arch: str, kernel: str, config: str | None = None) -> dict:
    return {r.scheme: r for r in report(resolve(arch=arch, kernel=kernel, config=config))}


# (arch, kernel) -> (marker, special-pte, swp-type1); None = not representable.  §4:
# x86_64 marker 6.1 type 30 = 0xF7FFFFFFFFFFFC00, 6.2+ type 31 = 0xFFFFFFFFFFFFFC00; special PTE
# = _PAGE_SWP_UFFD_WP alone = 0x4; __swp_entry(1, 0) = 0x0FFFFFFFFFFFFE00.  arm64: no markers
# in 6.1, 6.10+ type 31 = 0x17C0; special PTE = PTE_SWP_UFFD_WP (6.10+, bit 3) = 0x8;
# __swp_entry(1, 0) = 0x8 (5.19-6.9), 0x40 (6.10+), 0x4 (before 5.19).
@pytest.mark.parametrize("arch, kernel, marker, special, type1", [
    ("x86_64", "6.1", 0xF7FFFFFFFFFFFC00, 0x4, 0x0FFFFFFFFFFFFE00),
    ("x86_64", "6.12", 0xFFFFFFFFFFFFFC00, 0x4, 0x0FFFFFFFFFFFFE00),
    ("x86_64", "mainline", 0xFFFFFFFFFFFFFC00, 0x4, 0x0FFFFFFFFFFFFE00),
    ("arm64", "6.1", None, None, 0x8),
    ("arm64", "6.12", 0x17C0, 0x8, 0x40),
    ("arm64", "mainline", 0x17C0, 0x8, 0x40),
    ("arm64", "5.10", None, None, 0x4),
    ("x86_64", "4.14", None, None, 0x200),  # pre-L1TF: type 9-13, so type 1 offset 0 = 1 << 9
])
def test_raw_values(arch, kernel, marker, special, type1):
    s = schemes(arch, kernel)
    assert (s["marker"].raw, s["special-pte"].raw, s["swp-type1"].raw) == (marker, special, type1)
    for r in s.values():
        assert r.representable == (r.raw is not None)
        assert r.representable or r.why_not


def test_special_pte_needs_the_swap_uffd_wp_bit():
    r = schemes("arm64", "6.1")["special-pte"]
    assert "PTE_SWP_UFFD_WP arrives in 6.10+" in r.why_not
    assert r.fallback == 0 and r.collides  # __pte(0) is pte_none
    # hand-verified: the 6.10 bit (bit 3) is a swap type bit in the 5.19-6.9 layout
    assert "0x8 (the later bit alone) reads here as swap type=1 offset=0x0" in r.base_reading


def test_why_not_names_the_missing_config_before_the_era():
    # USERFAULTFD=n on 6.12: the swap uffd-wp bit exists in this era but its gate is off;
    # the reason is the config (Capability uffd_wp), not a release or the arch
    r = schemes("x86_64", "6.12", "USERFAULTFD=n")["special-pte"]
    assert not r.representable
    assert "_PAGE_SWP_UFFD_WP needs uffd-wp (HAVE_ARCH_USERFAULTFD_WP)" in r.why_not
    assert "CONFIG_USERFAULTFD is off" in r.why_not and "arrives" not in r.why_not
    assert "0x4 (the bit alone) reads here as invalid" in r.base_reading
    # x86 6.1 with USERFAULTFD=n: markers need PTE_MARKER_UFFD_WP, so no marker type
    r = schemes("x86_64", "6.1", "USERFAULTFD=n")["marker"]
    assert not r.representable and "CONFIG_USERFAULTFD is off" in r.why_not
    assert "from 6.2+ it needs nothing" in r.why_not


def test_arm64_6_1_marker_would_collide():
    # §4: a type-30 marker (if PTE_MARKER could be enabled) is 0x1F0, which real arm64 6.1
    # (all on) reads as DEVICE_EXCLUSIVE_READ, PFN 1
    r = schemes("arm64", "6.1")["marker"]
    assert not r.representable and r.collides
    assert "0x1f0 is already device/device_exclusive_read" in r.collision


def test_mainline_encodings_do_not_collide():
    for arch in ("x86_64", "arm64"):
        for r in schemes(arch, "mainline").values():
            assert not r.collides, (arch, r.scheme, r.collision)


def test_collision_is_computed_not_assumed():
    # x86 0x4 without the scheme: type 0 offset 2^50-1, no swap device reaches it; the
    # reading is decode's line, flags included
    r = schemes("x86_64", "6.12")["special-pte"]
    assert "offset=0x3ffffffffffff flags=SWP_UFFD_WP" in r.base_reading
    assert "2^32" in r.base_reading
    # swp-type1 without the scheme: swap type 1 offset 0, the header slot
    r = schemes("arm64", "6.12")["swp-type1"]
    assert "swap type=1 offset=0x0" in r.base_reading and "header" in r.base_reading


def test_predicates():
    s = schemes("x86_64", "6.12")
    assert s["marker"].predicates == {"pte_none": False, "pte_present": False,
                                      "is_swap_pte": True, "pte_swp_uffd_wp": False,
                                      "pte_marker_uffd_wp": True}
    assert s["special-pte"].predicates["pte_swp_uffd_wp"] is True
    assert s["swp-type1"].predicates["pte_swp_uffd_wp"] is False


def test_costs_name_the_swap_type():
    assert "SWP_PTE_MARKER = 31, so MAX_SWAPFILES is 23" in schemes("x86_64", "6.12")["marker"].cost[0]
    assert "SWP_PTE_MARKER = 30, so MAX_SWAPFILES is 22" in schemes("x86_64", "6.1")["marker"].cost[0]


def test_decode_recognises_each_scheme_value():
    from uffdpte import decode
    e = decode(0x4, arch="x86_64", scheme="special-pte", kernel="6.12", config="all", levels=4)
    assert (e.state, e.subtype, e.markers) == ("marker", "special_pte", ("UFFD_WP",))
    e = decode(0x0FFFFFFFFFFFFE00, arch="x86_64", scheme="swp-type1")
    assert (e.state, e.subtype) == ("marker", "swp_type1")
    plain = decode(0x0FFFFFFFFFFFFE00, arch="x86_64")
    assert plain.state == "swap" and plain.problems
    assert any(a.subtype == "swp_type1" for a in plain.alternatives)


def test_cli_json():
    r = subprocess.run([sys.executable, "-m", "uffdpte", "schemes", "--arch", "arm64",
                        "--kernel", "6.12", "--json"], capture_output=True, text=True, timeout=60)
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["scheme"], x["raw"]) for x in recs] == [
        ("marker", "0x00000000000017c0"), ("special-pte", "0x0000000000000008"),
        ("swp-type1", "0x0000000000000040")]
