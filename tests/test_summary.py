"""decode --summary: counts and the PFN range equal what per-value decoding says."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest

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
