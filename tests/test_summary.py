"""decode --summary: counts and the PFN range equal what per-value decoding says."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uffdpte.classify import classifier_for
from uffdpte.profile import resolve
from uffdpte.summary import Summary


def sample(seed: int) -> list[int]:
    rnd = random.Random(seed)
    out = []
    for _ in range(5000):
        k = rnd.random()
        if k < 0.4:  # present, PFN 0..2^30
            out.append(0x8000000000000027 | rnd.randrange(1 << 30) << 12 | rnd.choice([0, 0x40]))
        elif k < 0.6:  # swap, L1TF layout
            out.append(rnd.randrange(4) << 59 | (~rnd.randrange(1 << 24) & (1 << 50) - 1) << 9)
        elif k < 0.7:  # write migration
            out.append(26 << 59 | (~rnd.randrange(1 << 30) & (1 << 50) - 1) << 9)
        elif k < 0.8:
            out.append(rnd.choice([0xFFFFFFFFFFFFFC00, 0xFFFFFFFFFFFFF600, 0x4, 0]))
        else:  # anything
            out.append(rnd.randrange(1 << 64))
    return out


@pytest.mark.parametrize("arch, seed", [("x86_64", 1), ("arm64", 2), ("x86_64", 3)])
def test_summary_matches_per_value_decoding(arch, seed):
    clf = classifier_for(resolve(arch=arch), "pte", True)
    values = sample(seed)
    s = Summary(clf)
    s.add_ints(values[:2000])
    for v in values[2000:]:
        s.add(v)
    d = s.to_dict()
    entries = [clf.decode(v) for v in values]
    assert d["values"] == len(values)
    assert d["states"] == dict(Counter(e.state for e in entries))
    assert d["flags"] == dict(Counter(f for e in entries for f in e.flags))
    assert d["markers"] == dict(Counter(m for e in entries for m in e.markers))
    pfns = [e.pfn for e in entries if e.pfn is not None]
    assert (d["pfn_min"], d["pfn_max"]) == (min(pfns), max(pfns))
    ambiguous = sum(1 for e in entries if any(not same for *_, same, _, _ in e._alts))
    assert d["ambiguous"] == ambiguous


def test_cli_summary_json_and_rejects():
    data = b"8000000071c00227\nzz\n07ffffffffdb9600\n\nfffffffffffffc00 0\n"
    r = subprocess.run([sys.executable, "-m", "uffdpte", "decode", "--arch", "x86_64",
                        "--summary", "--json", "-"], input=data, capture_output=True,
                       timeout=60)
    assert r.returncode == 1 and b"-:2: 'zz'" in r.stderr
    d = json.loads(r.stdout)
    assert (d["values"], d["rejected"]) == (4, 1)
    assert d["states"] == {"present": 1, "swap": 1, "marker": 1, "none": 1}
    assert d["pfn_min"] == d["pfn_max"] == 0x71C00


def _summaries(data: bytes, *opts: str) -> tuple[int, list[dict]]:
    r = subprocess.run([sys.executable, "-m", "uffdpte", "decode", "--arch", "x86_64",
                        "--summary", "--json", *opts, "-"], input=data, capture_output=True,
                       timeout=60)
    assert b"Traceback" not in r.stderr
    return r.returncode, [json.loads(x) for x in r.stdout.splitlines()]


def test_cli_summary_of_no_values_is_printed():
    status, ds = _summaries(b"")
    assert status == 0
    assert [(d["level"], d["values"], d["rejected"]) for d in ds] == [("pte", 0, 0)]


def test_cli_summary_counts_swp_entry_rejects():
    # 0x7c00000000000001: type 31 offset 1 (a marker); all-ones has type 63, over
    # MAX_SWAPFILES_SHIFT's 5 bits (include/linux/swap.h)
    status, ds = _summaries(b"7c00000000000001\nffffffffffffffff\n", "--swp-entry")
    assert status == 1
    assert [(d["values"], d["rejected"], d["states"]) for d in ds] == [(1, 1, {"marker": 1})]


def test_cli_summary_one_object_per_level_rejects_on_the_default_level():
    status, ds = _summaries(b"pmd:1\nzz\n")
    assert status == 1
    assert [(d["level"], d["values"], d["rejected"]) for d in ds] == [("pte", 0, 1),
                                                                      ("pmd", 1, 0)]


# --- the bulk paths count exactly what one value at a time counts ---------------------------

def _per_value(clf, values) -> dict:
    s = Summary(clf)
    for v in values:
        s.add(v)
    return s.to_dict()


def _fixed_width(clf, values, cuts) -> dict:
    """Lines of 16 hex digits, in chunks cut at line boundaries (as decode's reader does)."""
    s = Summary(clf)
    lines = ["%016x" % v for v in values]
    bounds = sorted({0, len(lines), *(c % (len(lines) + 1) for c in cuts)})
    for a, b in zip(bounds, bounds[1:]):
        chunk = "\n".join(lines[a:b]).encode() + (b"\n" if b % 2 else b"")
        assert s.add_chunk(chunk)
    return s.to_dict()


@pytest.mark.parametrize("arch, seed", [("x86_64", 4), ("arm64", 5)])
def test_fixed_width_chunks_count_like_per_value(arch, seed):
    clf = classifier_for(resolve(arch=arch), "pte", True)
    values = sample(seed)
    d = _fixed_width(clf, values, [1, 999, 1000, 4321])
    assert d == _per_value(clf, values)
    assert d["values"] == len(values) and d["pfn_min"] is not None


def test_fixed_width_recognised_only_when_every_line_is_16_digits():
    clf = classifier_for(resolve(arch="x86_64"), "pte", True)
    s = Summary(clf)
    assert s._add_fixed(b"8000000071c00227\n0000000000000000")
    assert s._add_fixed(b"8000000071c00227\n")
    assert not s._add_fixed(b"8000000071c00227\n71c00227")  # short line
    assert not s._add_fixed(b"8000000071c00227 0000000000000000")  # two on a line
    assert not s._add_fixed(b"")
    assert s.to_dict()["values"] == 3
    # the general path still takes what the fixed one refuses
    assert s.add_chunk(b"71c00227 0\n0x1") is False  # "0x" is not bare hex: token path
    assert s.add_chunk(b"71c00227 0\n1")
    assert s.to_dict()["values"] == 6


LEVEL_PROFILES = [(a, lv) for a in ("x86_64", "arm64") for lv in ("pte", "pmd", "pud", "pgd")]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(LEVEL_PROFILES),
       st.lists(st.one_of(st.integers(0, (1 << 64) - 1),
                          st.sampled_from([0, 1, 0x4, (1 << 64) - 1, 0xFFFFFFFFFFFFFC00,
                                           0x8000000071C00227, 0x17C0])), max_size=60),
       st.lists(st.integers(0, 100), max_size=4))
def test_bulk_paths_equal_one_value_at_a_time(where, values, cuts):
    arch, level = where
    clf = classifier_for(resolve(arch=arch), level, True)
    expect = _per_value(clf, values)
    assert _fixed_width(clf, values, cuts) == expect
    s = Summary(clf)
    s.add_ints(values)
    assert s.to_dict() == expect
    s = Summary(clf)
    s.lanes = None  # a profile whose low payload leaves no room for the lane flags
    s.add_ints(values)
    assert s.to_dict() == expect


def test_cli_summary_same_for_fixed_and_free_width_input():
    values = sample(6)[:3000]
    fixed = "".join("%016x\n" % v for v in values).encode()
    free = "".join("%x\n" % v for v in values).encode()
    outs = [subprocess.run([sys.executable, "-m", "uffdpte", "decode", "--arch", "x86_64",
                            "--summary", "--json", "-"], input=data, capture_output=True,
                           timeout=60) for data in (fixed, free)]
    assert [r.returncode for r in outs] == [0, 0]
    assert outs[0].stdout == outs[1].stdout
    assert json.loads(outs[0].stdout)["values"] == 3000


def test_folding_many_shapes_keeps_the_counts_exact(monkeypatch):
    """Random junk has a shape per value; past SHAPE_LIMIT shapes are folded into the
    totals (bounded memory) and the result must not change."""
    import uffdpte.summary as summary
    clf = classifier_for(resolve(arch="arm64"), "pte", True)
    values = sample(7)[:1500]
    expect = _per_value(clf, values)
    monkeypatch.setattr(summary, "SHAPE_LIMIT", 5)
    s = Summary(clf)
    for v in values[:300]:
        s.add(v)
    s.add_ints(values[300:700])
    assert s.add_chunk("\n".join("%016x" % v for v in values[700:]).encode())
    assert len(s.counts) < 1500  # folded on the way
    assert s.to_dict() == expect
    assert s.to_dict() == expect  # to_dict folds; asking twice changes nothing
