"""Properties over every profile: decode never raises; the shape memo never changes a result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from profiles_under_test import all_profiles
from uffdpte.classify import Classifier, Decoder, classifier_for, decoder_for
from uffdpte.entry import RECORD_KEYS, STATES
from uffdpte.render import jsonl, plain

U64 = st.integers(min_value=0, max_value=(1 << 64) - 1)
PROFILES = all_profiles()
profile_index = st.integers(min_value=0, max_value=len(PROFILES) - 1)

# Values near the interesting shapes: few bits set, few bits clear, and uniform ones.
interesting = st.one_of(
    U64,
    st.builds(lambda bits: sum(1 << b for b in bits), st.sets(st.integers(0, 63), max_size=4)),
    st.builds(lambda bits: ((1 << 64) - 1) ^ sum(1 << b for b in bits),
              st.sets(st.integers(0, 63), max_size=4)),
    st.builds(lambda t, o, s: (t << s) | (o << (s + 5)), st.integers(0, 31),
              st.integers(0, (1 << 40) - 1), st.sampled_from([2, 3, 6, 9])),
)


def test_there_are_many_profiles():
    assert len(PROFILES) > 500
    assert {p.arch for p in PROFILES} == {"x86_64", "arm64"}


LEVEL = st.sampled_from(["pte", "pte", "pmd", "pud", "p4d", "pgd"])


@settings(max_examples=1500, deadline=None)
@given(profile_index, interesting, LEVEL)
def test_decode_never_raises(i, value, level):
    d = decoder_for(PROFILES[i], level)
    e = d.decode(value)
    assert e.state in STATES
    rec = e.to_dict()
    assert tuple(rec)[:len(RECORD_KEYS)] == RECORD_KEYS
    plain.line(e)
    # a well-formed swap-format entry always reconstructs its raw type/offset fields
    if e.swp_type is not None and e.reading.form == "swap":
        assert d.swp_type_raw(value) == e.swp_type


MEMO_PROFILES = [p for p in PROFILES if p.scheme == "marker"][::17]


@st.composite
def swap_shaped(draw):
    """A profile and a swap-format value of any type with a wide offset: hits every
    special type (markers, migration A/D bits) with payload in the memo's low bits."""
    profile = draw(st.sampled_from(MEMO_PROFILES))
    d = decoder_for(profile)
    t = draw(st.integers(0, d.type_mask))
    off = draw(st.integers(0, (1 << 40) - 1)) | draw(st.sampled_from([0, 1, 2, 4, 7, 8]))
    return profile, d.swp_entry_to_pte(t, off) | draw(st.integers(0, 0xFF)) & ~d.valid


@settings(max_examples=300, deadline=None)
@given(swap_shaped(), U64)
def test_shape_memo_is_exact_for_swap_shapes(pv, noise):
    profile, v1 = pv
    test_shape_memo_is_exact.hypothesis.inner_test(profile, v1, noise)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MEMO_PROFILES), U64, U64)
def test_shape_memo_is_exact(profile, v1, noise):
    """Two values with the same memo key decode identically, alternatives included."""
    memo = Classifier(profile)
    lp = memo.lp
    low = v1 & lp
    if low in (0, lp):
        return  # the key pins these low bits: nothing to vary
    v2 = (v1 & ~lp) | (noise & lp)
    if (v2 & lp) in (0, lp):
        return
    memo.decode(v1)  # fills the memo with v1's shape
    via_memo = memo.decode(v2).to_dict()
    fresh = Classifier(profile).decode(v2).to_dict()
    assert via_memo == fresh


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(MEMO_PROFILES), interesting, LEVEL, st.sampled_from([None, "ff", "pmd:1"]))
def test_templated_json_is_exactly_json_dumps(profile, value, level, token):
    """The per-reading JSON templates write what json.dumps(to_dict()) writes, alternatives
    included, for memo hits and misses alike."""
    import json
    clf = classifier_for(profile, level, True)
    for v in (value, value ^ (clf.lp & 0x5555555555555555)):
        e = clf.decode(v, token)
        want = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode(e.to_dict())
        assert jsonl.line(e) == want


@settings(max_examples=300, deadline=None)
@given(profile_index, interesting)
def test_json_record_types(i, value):
    rec = classifier_for(PROFILES[i], "pte", False).decode(value).to_dict()
    assert rec["value"] == "0x%016x" % value
    for key in ("pfn", "swp_type", "swp_offset"):
        assert rec[key] is None or isinstance(rec[key], int)
    for key in ("uffd_wp", "soft_dirty", "exclusive", "write", "dirty", "young"):
        assert rec[key] is None or isinstance(rec[key], bool)
    assert isinstance(rec["problems"], list) and isinstance(rec["flags"], list)
    if rec["state"] == "invalid":
        assert rec["problems"], "an invalid entry always says why"
    jsonl.line(classifier_for(PROFILES[i], "pte", False).decode(value))


def test_decoders_compile_for_every_profile_and_level():
    for p in PROFILES:
        for level in ("pte", "pmd", "pud", "p4d", "pgd"):
            d = Decoder(p, level)
            assert d.max_swapfiles + len(d.types) == 32
            assert d.lp_mask, (p.label(), level)
            # every bit that selects a form is named by one of its rows (else encode loses it)
            for form, sel in (("present", d.presence.valid),
                              ("protnone", d.presence.present_invalid)):
                named = sum(r.mask for r in d.forms[form].rows)
                if d.forms[form].rows:
                    assert sel & ~named == 0, (p.label(), level, form, hex(sel & ~named))
