"""Encode: every worked value of ../shared/kernel-facts.md rebuilt through encode, refusals
with reasons, and round trips over every profile."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from profiles_under_test import all_profiles
from uffdpte.classify import decoder_for
from uffdpte.encode import EncodeError, Spec, encode, spec_of
from uffdpte.profile import resolve


def enc(spec: Spec, **opts) -> int:
    return encode(spec, decoder_for(resolve(**opts)))


X86 = dict(arch="x86_64")
ARM = dict(arch="arm64")


@pytest.mark.parametrize("spec, opts, raw, source", [
    # x86_64, kernel-facts §2.7 / §4
    (Spec("swap", swp_type=0, offset=0x1234), dict(X86, kernel="6.12"), 0x07FFFFFFFFDB9600, "§2.7"),
    (Spec("swap", swp_type=3, offset=1, soft_dirty=True, uffd_wp=True, exclusive=True),
     dict(X86, kernel="6.12"), 0x1FFFFFFFFFFFFC0E, "§2.7"),
    (Spec("marker", markers=("GUARD",)), dict(X86, kernel="7.2"), 0xFFFFFFFFFFFFF600, "§2.7"),
    (Spec("marker", markers=("POISONED",)), dict(X86, kernel="6.6"), 0xFFFFFFFFFFFFFA00, "§2.7"),
    (Spec("migration", "migration_write", pfn=0x12345), dict(X86, kernel="6.1"),
     0xCFFFFFFFFDB97400, "§2.7 6.1 all on"),
    (Spec("migration", "migration_write", pfn=0x12345), dict(X86, kernel="6.1", config="debian"),
     0xEFFFFFFFFDB97400, "§2.7 Debian 6.1"),
    (Spec("migration", "migration_write", pfn=0x12345), dict(X86, kernel="6.12"),
     0xD7FFFFFFFDB97400, "§2.7 6.12 all on"),
    (Spec("migration", "migration_write", pfn=0x12345), dict(X86, kernel="6.12", config="debian"),
     0xF7FFFFFFFDB97400, "§2.7 Debian 6.12"),
    (Spec("migration", "migration_write", pfn=0x12345), dict(X86, kernel="7.2"),
     0xDFFFFFFFFDB97400, "§2.7 mainline all on"),
    (Spec("migration", "migration_write", pfn=0x12345),
     dict(X86, kernel="7.2", config="DEVICE_PRIVATE=n"), 0xF7FFFFFFFDB97400, "§2.7 mainline"),
    (Spec("migration", "migration_write", pfn=0x12345, young=True, dirty=True),
     dict(X86, kernel="6.12", levels=4), 0xD7FFE7FFFDB97400, "§2.7 young+dirty 4-level"),
    (Spec("migration", "migration_write", pfn=0x12345, young=True, dirty=True),
     dict(X86, kernel="6.12", levels=5), 0xD7F9FFFFFDB97400, "§2.7 young+dirty 5-level"),
    (Spec("marker", markers=("UFFD_WP",)), dict(X86, kernel="6.1"), 0xF7FFFFFFFFFFFC00, "§4 6.1"),
    (Spec("marker", markers=("UFFD_WP",)), dict(X86, kernel="6.12"), 0xFFFFFFFFFFFFFC00, "§4 6.2+"),
    (Spec("present", pfn=0x71C00, flags=("RW", "USER", "ACCESSED", "SPECIAL", "NX")),
     dict(X86, kernel="6.12"), 0x8000000071C00227, "mission statement value"),
    # arm64, kernel-facts §3.8 / §4
    (Spec("swap", swp_type=0, offset=0x1234), dict(ARM, kernel="6.1"), 0x123400, "§3.8"),
    (Spec("swap", swp_type=0, offset=0x1234), dict(ARM, kernel="6.12"), 0x1234000, "§3.8"),
    (Spec("swap", swp_type=3, offset=1, exclusive=True), dict(ARM, kernel="6.1"), 0x11C, "§3.8"),
    (Spec("swap", swp_type=3, offset=1, exclusive=True), dict(ARM, kernel="6.12"), 0x10C4, "§3.8"),
    (Spec("swap", swp_type=3, offset=1, exclusive=True, uffd_wp=True), dict(ARM, kernel="6.12"),
     0x10CC, "§3.8"),
    (Spec("marker", markers=("POISONED",)), dict(ARM, kernel="7.2"), 0x27C0, "§3.8"),
    (Spec("marker", markers=("GUARD",)), dict(ARM, kernel="7.2"), 0x47C0, "§3.8"),
    (Spec("marker", markers=("UFFD_WP",)), dict(ARM, kernel="6.12"), 0x17C0, "§4 6.10+"),
    (Spec("present", pfn=0x81234, flags=("USER", "AF", "NG", "WRITE", "PXN", "UXN", "DIRTY"),
          fields={"ATTRINDX": "MT_NORMAL", "SHARED": 3}), dict(ARM, kernel="6.12"),
     0x00E8000081234F43, "§3.8 note A"),
    (Spec("present", pfn=0x81234, flags=("USER", "AF", "NG", "WRITE", "PXN", "UXN", "DIRTY")),
     dict(ARM, kernel="6.12", pa_bits=52), 0x00E8000081234C43, "§3.8 note A, LPA2 active"),
    # PAGE_NONE = (_PAGE_DEFAULT & ~PTE_VALID) | ...: the table bit (bit 1) stays set
    (Spec("protnone", pfn=0x81234, flags=("TABLE_BIT", "RDONLY", "AF", "NG", "PXN", "UXN"),
          fields={"SHARED": 3}), dict(ARM, kernel="6.1"), 0x0460000081234F82, "§3.8 PAGE_NONE"),
    (Spec("protnone", pfn=0x81234, flags=("TABLE_BIT", "RDONLY", "AF", "PXN", "UXN"),
          fields={"SHARED": 3}), dict(ARM, kernel="6.12"), 0x0060000081234F82, "§3.8 PAGE_NONE"),
    (Spec("protnone", pfn=0x81234, flags=("TABLE_BIT", "RDONLY", "AF", "PXN", "UXN", "DIRTY"),
          fields={"SHARED": 3}), dict(ARM, kernel="6.12"), 0x00E0000081234F82, "§3.8 note B"),
    (Spec("migration", "migration_write", pfn=0x81234, young=True, dirty=True),
     dict(ARM, kernel="6.1"), 0x00003000081234D0, "§3.8"),
    (Spec("migration", "migration_write", pfn=0x81234, young=True, dirty=True),
     dict(ARM, kernel="6.12"), 0x0003000081234680, "§3.8"),
    (Spec("migration", "migration_write", pfn=0x81234, young=True, dirty=True),
     dict(ARM, kernel="7.2"), 0x00030000812346C0, "§3.8 mainline"),
    # the 2021 schemes, §4
    (Spec("marker", markers=("UFFD_WP",)), dict(X86, kernel="7.2", scheme="special-pte"), 0x4, "§4"),
    (Spec("marker", markers=("UFFD_WP",)), dict(X86, kernel="7.2", scheme="swp-type1"),
     0x0FFFFFFFFFFFFE00, "§4 Hugh"),
    (Spec("marker", markers=("UFFD_WP",)), dict(ARM, kernel="6.1", scheme="swp-type1"), 0x8, "§4"),
    (Spec("marker", markers=("UFFD_WP",)), dict(ARM, kernel="6.12", scheme="swp-type1"), 0x40, "§4"),
    (Spec("marker", markers=("UFFD_WP",)), dict(ARM, kernel="5.10", scheme="swp-type1"), 0x4, "§4"),
])
def test_worked_values(spec, opts, raw, source):
    assert enc(spec, **opts) == raw, source


@pytest.mark.parametrize("spec, opts, reason", [
    (Spec("swap", swp_type=1, offset=1 << 50), dict(X86), "50-bit swap offset"),
    (Spec("swap", swp_type=1, offset=1 << 40), dict(X86), "2^32"),
    (Spec("present", pfn=1 << 34), dict(X86, levels=4), "MAX_PHYSMEM_BITS"),
    (Spec("migration", "migration_write", pfn=1 << 36), dict(ARM), "SWP_PFN_BITS (36"),
    (Spec("swap", swp_type=31, offset=1), dict(X86), "SWP_PTE_MARKER"),
    (Spec("swap", swp_type=3, offset=1, uffd_wp=True), dict(ARM, kernel="6.1"), "6.10+"),
    (Spec("swap", swp_type=3, offset=1, soft_dirty=True), dict(ARM), "only x86"),
    (Spec("marker", markers=("GUARD",)), dict(X86, kernel="6.12"), "not defined in 6.12"),
    (Spec("marker", markers=("UFFD_WP",)), dict(ARM, kernel="6.1"), "no pte_marker swap type"),
    (Spec("migration", "migration_write", pfn=1, young=True), dict(X86, kernel="5.10"), "6.1+"),
    (Spec("migration", "migration_write", pfn=1, young=True),
     dict(X86, config="all,X86_BUG_L1TF=y"), "arch_max_swapfile_size"),
    (Spec("device", "device_private_write", pfn=1), dict(X86, kernel="6.12", config="debian"),
     "DEVICE_PRIVATE"),
    (Spec("present", pfn=1, flags=("DBM",)), dict(X86), "not a present bit"),
    (Spec("migration", "migration_write", pfn=1, exclusive=True), dict(X86), "never sets"),
])
def test_refusals_say_why(spec, opts, reason):
    with pytest.raises(EncodeError, match=re.escape(reason)):
        enc(spec, **opts)


def test_refusal_names_the_gate_before_the_era():
    # USERFAULTFD=n on 6.12: the bit's era holds, its gate does not; the arch is not to blame
    with pytest.raises(EncodeError) as e:
        enc(Spec("swap", swp_type=1, offset=1, uffd_wp=True), **X86, kernel="6.12",
            config="USERFAULTFD=n")
    assert "_PAGE_SWP_UFFD_WP needs uffd-wp (HAVE_ARCH_USERFAULTFD_WP): CONFIG_USERFAULTFD is " \
           "off" in str(e.value)
    assert "5.7" not in str(e.value)
    # a swap type outside its era says which releases have it, and where from
    with pytest.raises(EncodeError, match=re.escape("SWP_SWAPIN_ERROR only in 5.19–<6.2")):
        enc(Spec("swapin_error", pfn=1), **X86, kernel="6.12")
    with pytest.raises(EncodeError, match="SWP_PTE_MARKER needs pte-marker .*CONFIG_USERFAULTFD "
                                          "is off"):
        enc(Spec("marker", markers=("UFFD_WP",)), **X86, kernel="6.1", config="USERFAULTFD=n")


PROFILES = all_profiles()


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, len(PROFILES) - 1), st.integers(0, (1 << 64) - 1), st.data())
def test_raw_round_trip(i, value, data):
    """encode(decode(raw)) == raw for every raw value that decodes without problems, at
    every level."""
    level = data.draw(st.sampled_from(["pte", "pte", "pmd", "pud", "p4d", "pgd"]))
    d = decoder_for(PROFILES[i], level)
    # Bias towards well-formed shapes: keep only the bits some row of one form defines.
    form = data.draw(st.sampled_from(["present", "protnone", "swap", "table", "raw"]))
    if form != "raw":
        value &= d.forms[form].known
        if form == "present":
            value |= d.presence.page or d.presence.valid
            if d.presence.table:
                mask, want = d.presence.table
                value = (value & ~mask) | d.presence.valid | (mask & ~want)
        elif form == "table":
            value |= d.presence.table_bits or d.presence.valid
        elif form == "protnone":
            value = (value | d.presence.present_invalid | d.presence.protnone_want) & ~d.presence.valid
        else:
            value &= ~(d.presence.valid | d.presence.present_invalid)
    e = d.decode(value)
    assume(e.wellformed)
    assert encode(spec_of(e), d) == value


@settings(max_examples=1000, deadline=None)
@given(st.integers(0, len(PROFILES) - 1), st.data())
def test_spec_round_trip(i, data):
    """decode(encode(spec)) == spec for every spec the profile represents."""
    d = decoder_for(PROFILES[i])
    kind = data.draw(st.sampled_from(["swap", "special", "marker"]))
    if kind == "swap":
        spec = Spec("swap", swp_type=data.draw(st.integers(0, d.max_swapfiles - 1)),
                    offset=data.draw(st.integers(1, (1 << 32) - 1)))
    elif kind == "marker":
        names = [m.name for m in d.marker_bits if m.in_page_tables]
        assume(names and any(t.state == "marker" for t in d.types.values()))
        spec = Spec("marker", markers=tuple(sorted(set(data.draw(
            st.lists(st.sampled_from(names), min_size=1, max_size=3))),
            key=names.index)))
    else:
        assume(d.types)
        t = data.draw(st.sampled_from(sorted(d.types)))
        kind_row = d.types[t]
        assume(kind_row.state not in ("marker",))
        spec = Spec(kind_row.state, kind_row.subtype,
                    pfn=data.draw(st.integers(0, (1 << d.swp_pfn_bits) - 1)))
        if kind_row.state == "migration" and d.migration_ad:
            spec.young, spec.dirty = data.draw(st.booleans()), data.draw(st.booleans())
    raw = encode(spec, d)
    e = d.decode(raw)
    assert e.state == spec.state and not e.problems
    if spec.state == "swap":
        assert (e.swp_type, e.swp_offset) == (spec.swp_type, spec.offset)
    elif spec.state == "marker":
        assert e.markers == spec.markers
    else:
        assert (e.subtype, e.pfn) == (spec.subtype, spec.pfn)
        if spec.young or spec.dirty:
            assert (e.young, e.dirty) == (spec.young, spec.dirty)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "uffdpte", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args, out", [
    (["encode", "swap", "--type", "3", "--offset", "0x1", "--uffd-wp", "--exclusive",
      "--soft-dirty", "--arch", "x86_64"], "0x1ffffffffffffc0e"),
    (["encode", "marker", "--uffd-wp", "--kernel", "6.12", "--arch", "arm64"], "0x00000000000017c0"),
    (["encode", "migration", "--write", "--pfn", "0x12345", "--young", "--dirty", "--config",
      "debian", "--kernel", "6.12", "--arch", "x86_64"], "0xf7ffe7fffdb97400"),
    (["encode", "swp-entry", "0x7c00000000000001", "--arch", "x86_64"], "0xfffffffffffffc00"),
    (["encode", "marker", "--uffd-wp", "--scheme", "special-pte", "--arch", "x86_64"],
     "0x0000000000000004"),
])
def test_cli(args, out):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == out


def test_cli_refusal_is_one_line_exit_2():
    r = run("encode", "swap", "--type", "3", "--offset", "1", "--soft-dirty", "--arch", "arm64")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "only x86" in r.stderr


def test_cli_json_is_decodes_record():
    import json
    r = run("encode", "hwpoison", "--pfn", "0x1000", "--arch", "x86_64", "--kernel", "6.12",
            "--json")
    rec = json.loads(r.stdout)
    assert (rec["state"], rec["pfn"], rec["swp_type"]) == ("hwpoison", 0x1000, 23)
