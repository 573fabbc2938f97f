"""uffdpte layout: the tables a profile selects, with their sources, in four renderings of
one document; and --diff, what moved between two kernels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from uffdpte import resolve
from uffdpte.classify import decoder_for

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, columns: str = "100") -> subprocess.CompletedProcess:
    # the width of plain output follows COLUMNS (a pipe has no terminal to ask)
    env = {**os.environ, "COLUMNS": columns}
    env.pop("NO_COLOR", None)
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "uffdpte", "layout", *args],
                          capture_output=True, timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL,
                          env=env)


def layout_json(*args: str) -> dict:
    r = run("--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_rows_are_the_decoders_rows_with_their_sources():
    for arch in ("x86_64", "arm64"):
        doc = layout_json("--arch", arch, "--kernel", "6.12")
        d = decoder_for(resolve(arch=arch, kernel="6.12"))
        shown = [f for f, form in d.forms.items()
                 if any(r.mask & ~(d.valid | d.present_invalid) for r in form.rows)]
        assert [f["form"] for f in doc["forms"]] == shown
        assert {"present", "protnone", "swap"} <= set(shown)
        for form in doc["forms"]:
            rows = d.forms[form["form"]].rows
            assert sorted((r["lo"], r["hi"], r["macro"]) for r in form["rows"]) == sorted(
                (r.lo, r.hi, r.macro) for r in rows)
            for r in form["rows"]:
                assert r["source"] and r["kernels"]
            his = [r["hi"] for r in form["rows"]]
            assert his == sorted(his, reverse=True)  # bit 63 first, as the map reads
        assert doc["swap_types"]["max_swapfiles"] == d.max_swapfiles
        assert {t["type"]: t["name"] for t in doc["swap_types"]["types"]} == {
            n: t.name for n, t in d.types.items()}
        assert [m["macro"] for m in doc["marker_bits"]] == [m.macro for m in d.marker_bits]


def test_x86_swap_rows_say_where_they_come_from():
    doc = layout_json("--arch", "x86_64", "--kernel", "6.12", "--state", "swap")
    assert [f["form"] for f in doc["forms"]] == ["swap"]
    rows = {r["name"]: r for r in doc["forms"][0]["rows"]}
    assert rows["OFFSET"]["bits"] == "58:9" and rows["OFFSET"]["inverted"] is True
    assert rows["OFFSET"]["short"] == "~OFFSET"
    assert rows["TYPE"]["bits"] == "63:59" and rows["TYPE"]["kernels"] == "4.19+"
    assert "l1tf" in rows["TYPE"]["source"].lower()
    assert rows["SWP_EXCLUSIVE"]["bits"] == "3" and rows["SWP_UFFD_WP"]["bits"] == "2"
    assert doc["forms"][0]["must_be_zero"] == "0x0000000000000181"  # P, PSE, PROTNONE
    types = {t["name"]: t["type"] for t in doc["swap_types"]["types"]}
    assert types["SWP_MIGRATION_WRITE"] == 26 and types["SWP_PTE_MARKER"] == 31


def test_state_filters_forms_types_and_markers():
    doc = layout_json("--arch", "arm64", "--kernel", "6.12", "--state", "migration")
    assert [f["form"] for f in doc["forms"]] == ["swap"]
    assert [t["name"] for t in doc["swap_types"]["types"]] == [
        "SWP_MIGRATION_READ", "SWP_MIGRATION_READ_EXCLUSIVE", "SWP_MIGRATION_WRITE"]
    assert doc["marker_bits"] is None
    doc = layout_json("--arch", "arm64", "--kernel", "6.12", "--state", "marker")
    assert [t["name"] for t in doc["swap_types"]["types"]] == ["SWP_PTE_MARKER"]
    assert [m["macro"] for m in doc["marker_bits"]] == ["PTE_MARKER_UFFD_WP",
                                                       "PTE_MARKER_POISONED"]
    doc = layout_json("--arch", "arm64", "--kernel", "6.12", "--state", "protnone")
    assert [f["form"] for f in doc["forms"]] == ["protnone"] and doc["swap_types"] is None
    assert doc["presence"]["pte_protnone"] == (
        "present but invalid, and VALID (bit 0) clear, USER (bit 6) clear, "
        "PRESENT_INVALID (bit 11) set, UXN (bit 54) set")


def test_bad_states_are_usage_errors_that_explain():
    r = run("--state", "none")
    assert r.returncode == 2 and b"pte_none" in r.stderr
    r = run("--state", "swapp")
    assert r.returncode == 2 and b"Did you mean 'swap'?" in r.stderr
    assert run("--json", "--markdown").returncode == 2
    assert run("--diff", "6.1", "6.12", "--kernel", "6.1").returncode == 2


def test_plain_text_in_a_pipe_has_the_map_and_sources_and_no_escapes():
    r = run("--arch", "x86_64", "--kernel", "6.12")
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "\x1b" not in out and "├" not in out and "─" not in out
    assert "== present ==" in out and "== protnone ==" in out and "== swap ==" in out
    assert " [--- TYPE ---] [---------------------------------- ~OFFSET ---" in out
    assert "_PAGE_SWP_EXCLUSIVE; 5.19+: David Hildenbrand" in out
    assert "MAX_SWAPFILES 23: swap devices 0-22" in out


def test_markdown_is_documentation_from_the_tables():
    r = run("--arch", "arm64", "--kernel", "6.12", "--markdown")
    assert r.returncode == 0
    md = r.stdout.decode()
    assert md.startswith("# Layout of pte entries: arm64 6.12 all 4k/48-bit PA\n")
    assert "## present" in md and "## swap" in md and "## swap types" in md
    assert "| bits | name | macro | role | meaning | kernels | source |" in md
    assert "| 10:6 | TYPE | `__SWP_TYPE_SHIFT` | type |" in md
    assert "| 26 | `SWP_MIGRATION_WRITE` | migration_write |" in md
    assert "```text\n 63 62 61" in md
    assert "\x1b" not in md


def test_terminal_view_of_the_layout():
    r = subprocess.run([sys.executable, "-m", "uffdpte", "layout", "--arch", "arm64",
                        "--kernel", "6.12", "--state", "swap", "--color", "always"],
                       capture_output=True, timeout=60, cwd=ROOT,
                       env={**os.environ, "COLUMNS": "100"})
    assert r.returncode == 0
    out = r.stdout.decode()
    assert "\x1b[" in out and "├─── TYPE ───┤" in out
    assert "Ryan Roberts" in out and "SWP_PTE_MARKER" in out


def diff_json(*args: str) -> dict:
    r = run("--json", "--diff", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_arm64_diff_6_1_to_6_12_shows_the_relayout():
    doc = diff_json("6.1", "6.12", "--arch", "arm64")
    s = {k: [(c["change"], c["what"]) for c in v] for k, v in doc["sections"].items()}
    assert ("changed", "__SWP_TYPE_SHIFT TYPE: bits 7:3 → 10:6") in s["swap entries"]
    assert ("changed", "__SWP_OFFSET_SHIFT OFFSET: bits 57:8 → 61:12") in s["swap entries"]
    assert ("added", "PTE_SWP_UFFD_WP SWP_UFFD_WP bit 3 (flag)") in s["swap entries"]
    assert ("removed", "PTE_PROT_NONE PROT_NONE bit 58 (flag)") in s["protnone entries"]
    assert ("added", "PTE_PRESENT_INVALID PRESENT_INVALID bit 11 (flag)") in s["protnone entries"]
    assert ("added", "PTE_UFFD_WP UFFD_WP bit 58 (flag)") in s["present entries"]
    pres = dict((w.split(":")[0], w) for _, w in s["presence and PROT_NONE"])
    assert "PROT_NONE (bit 58)" in pres["pte_present"] and "PRESENT_INVALID (bit 11)" in pres[
        "pte_present"]
    assert ("changed", "type 31: SWP_SWAPIN_ERROR → SWP_PTE_MARKER") in s["swap type numbering"]
    assert ("added", "PTE_MARKER_POISONED = BIT(1)") in s["PTE marker bits"]
    for section in doc["sections"].values():
        for c in section:
            if c["change"] != "changed" or "type" not in c["what"]:
                assert c["source"], c


def test_x86_diff_across_l1tf_and_plain_rendering():
    doc = diff_json("4.18", "4.19", "--arch", "x86_64")
    swap = [c["what"] for c in doc["sections"]["swap entries"]]
    assert "__swp_type TYPE: bits 13:9 → 63:59" in swap
    assert "__swp_offset OFFSET: bits 63:14 → 58:9; now stored inverted" in swap
    assert doc["sections"]["presence and PROT_NONE"][0]["what"] == (
        "PFN of PROT_NONE entries: stored as is → stored inverted (L1TF, pgtable-invert.h)")
    r = run("--diff", "6.1", "6.12", "--arch", "arm64")
    out = r.stdout.decode()
    assert r.returncode == 0 and "\x1b" not in out
    assert "  ~ __SWP_TYPE_SHIFT TYPE: bits 7:3 → 10:6\n      6.10+: Ryan Roberts" in out
    same = diff_json("6.12", "6.12", "--arch", "arm64")
    assert all(not v for v in same["sections"].values())


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_every_reference_kernel_lays_out(arch):
    from uffdpte.profile import REFERENCE_KERNELS
    for k in REFERENCE_KERNELS:
        assert layout_json("--arch", arch, "--kernel", k)["forms"]


def test_layout_json_keeps_where_profile_choices_came_from():
    """The cached decoders drop provenance; the documents take it from the resolved profile."""
    r = subprocess.run([sys.executable, "-m", "uffdpte", "layout", "--diff", "6.1", "6.13",
                        "--arch", "arm64", "--json"], capture_output=True, timeout=60)
    d = json.loads(r.stdout)
    assert d["from"]["sources"] == {"arch": "option", "config": "default", "kernel": "option"}
    assert any("6.13" in n for n in d["to"]["notes"])
    r = subprocess.run([sys.executable, "-m", "uffdpte", "layout", "--arch", "x86_64",
                        "--kernel", "6.12", "--json"], capture_output=True, timeout=60)
    assert json.loads(r.stdout)["profile"]["sources"]["kernel"] == "option"
