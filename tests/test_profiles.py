"""Profiles: version strings, presets, and the swap-type numbering they imply."""

from __future__ import annotations

import pytest

from uffdpte.classify import Decoder
from uffdpte.kver import parse_kernel
from uffdpte.profile import ProfileError, resolve


@pytest.mark.parametrize("text, series, patch, distro, arch, flavour", [
    ("6.12", (6, 12), None, None, None, None),
    ("6.12.117", (6, 12), 117, None, None, None),
    ("6.1.0-13-amd64", (6, 1), None, "debian", "x86_64", "amd64"),
    ("6.1.0-13-cloud-amd64", (6, 1), None, "debian", "x86_64", "cloud-amd64"),
    ("6.12.43+deb13-arm64", (6, 12), 43, "debian", "arm64", "arm64"),
    ("5.15.0-91-generic", (5, 15), None, "ubuntu", None, "generic"),
    ("4.18.0-513.el8.x86_64", (4, 18), 0, "rhel", "x86_64", None),
    ("3.10.0-693.21.1.el7.x86_64", (3, 10), 0, "rhel", "x86_64", None),
    ("6.19-rc4", (6, 19), None, None, None, None),
])
def test_kernel_strings(text, series, patch, distro, arch, flavour):
    kv = parse_kernel(text)
    assert (kv.series, kv.patch, kv.distro, kv.arch_hint, kv.flavour) == (
        series, patch, distro, arch, flavour)


def test_rhel_build_numbers():
    kv = parse_kernel("3.10.0-862.11.6.el7.x86_64")
    assert (kv.distro_release, kv.build) == (7, (862, 11, 6))


def _types(**opts) -> dict[int, str]:
    d = Decoder(resolve(**opts))
    return {n: t.name.removeprefix("SWP_") for n, t in d.types.items()}


# kernel-facts §1.3 and §7.1: (arch, kernel, config) -> special types from MAX_SWAPFILES up
@pytest.mark.parametrize("opts, expected", [
    (dict(arch="x86_64", kernel="6.1"),
     {22: "HWPOISON", 23: "MIGRATION_READ", 24: "MIGRATION_READ_EXCLUSIVE",
      25: "MIGRATION_WRITE", 26: "DEVICE_WRITE", 27: "DEVICE_READ",
      28: "DEVICE_EXCLUSIVE_WRITE", 29: "DEVICE_EXCLUSIVE_READ", 30: "PTE_MARKER",
      31: "SWAPIN_ERROR"}),
    (dict(arch="arm64", kernel="6.1"),  # no PTE_MARKER on arm64 6.1
     {23: "HWPOISON", 24: "MIGRATION_READ", 25: "MIGRATION_READ_EXCLUSIVE",
      26: "MIGRATION_WRITE", 27: "DEVICE_WRITE", 28: "DEVICE_READ",
      29: "DEVICE_EXCLUSIVE_WRITE", 30: "DEVICE_EXCLUSIVE_READ", 31: "SWAPIN_ERROR"}),
    (dict(arch="x86_64", kernel="6.1", config="debian"),
     {26: "HWPOISON", 27: "MIGRATION_READ", 28: "MIGRATION_READ_EXCLUSIVE",
      29: "MIGRATION_WRITE", 30: "PTE_MARKER", 31: "SWAPIN_ERROR"}),
    (dict(arch="x86_64", kernel="6.1.0-13-cloud-amd64"),  # cloud: no MEMORY_FAILURE either
     {27: "MIGRATION_READ", 28: "MIGRATION_READ_EXCLUSIVE", 29: "MIGRATION_WRITE",
      30: "PTE_MARKER", 31: "SWAPIN_ERROR"}),
    (dict(arch="arm64", kernel="6.1", config="debian"),
     {27: "HWPOISON", 28: "MIGRATION_READ", 29: "MIGRATION_READ_EXCLUSIVE",
      30: "MIGRATION_WRITE", 31: "SWAPIN_ERROR"}),
    (dict(arch="x86_64", kernel="6.12"),
     {23: "HWPOISON", 24: "MIGRATION_READ", 25: "MIGRATION_READ_EXCLUSIVE",
      26: "MIGRATION_WRITE", 27: "DEVICE_WRITE", 28: "DEVICE_READ",
      29: "DEVICE_EXCLUSIVE_WRITE", 30: "DEVICE_EXCLUSIVE_READ", 31: "PTE_MARKER"}),
    (dict(arch="arm64", kernel="6.12", config="debian"),
     {27: "HWPOISON", 28: "MIGRATION_READ", 29: "MIGRATION_READ_EXCLUSIVE",
      30: "MIGRATION_WRITE", 31: "PTE_MARKER"}),
    (dict(arch="x86_64", kernel="7.2"),
     {24: "HWPOISON", 25: "MIGRATION_READ", 26: "MIGRATION_READ_EXCLUSIVE",
      27: "MIGRATION_WRITE", 28: "DEVICE_WRITE", 29: "DEVICE_READ", 30: "DEVICE_EXCLUSIVE",
      31: "PTE_MARKER"}),
    (dict(arch="arm64", kernel="7.2.13", config="debian"),  # Debian 7.2 has DEVICE_PRIVATE
     {24: "HWPOISON", 25: "MIGRATION_READ", 26: "MIGRATION_READ_EXCLUSIVE",
      27: "MIGRATION_WRITE", 28: "DEVICE_WRITE", 29: "DEVICE_READ", 30: "DEVICE_EXCLUSIVE",
      31: "PTE_MARKER"}),
    (dict(arch="x86_64", kernel="5.10", config="debian"),  # §7.1: Debian 5.10
     {29: "HWPOISON", 30: "MIGRATION_READ", 31: "MIGRATION_WRITE"}),
    (dict(arch="x86_64", kernel="5.10"),
     {27: "HWPOISON", 28: "MIGRATION_READ", 29: "MIGRATION_WRITE", 30: "DEVICE_WRITE",
      31: "DEVICE_READ"}),
    (dict(arch="x86_64", kernel="5.15"),  # 5.14-5.18 (research: generic.md §6.3)
     {25: "HWPOISON", 26: "MIGRATION_READ", 27: "MIGRATION_WRITE", 28: "DEVICE_WRITE",
      29: "DEVICE_READ", 30: "DEVICE_EXCLUSIVE_WRITE", 31: "DEVICE_EXCLUSIVE_READ"}),
    (dict(arch="x86_64", kernel="6.1", config="all,PTE_MARKER=n"),
     {23: "HWPOISON", 24: "MIGRATION_READ", 25: "MIGRATION_READ_EXCLUSIVE",
      26: "MIGRATION_WRITE", 27: "DEVICE_WRITE", 28: "DEVICE_READ",
      29: "DEVICE_EXCLUSIVE_WRITE", 30: "DEVICE_EXCLUSIVE_READ", 31: "SWAPIN_ERROR"}),
])
def test_swap_type_numbering(opts, expected):
    assert _types(**opts) == expected


@pytest.mark.parametrize("opts, message", [
    (dict(arch="arm64", config="MEM_SOFT_DIRTY=y"), "impossible on arm64"),
    (dict(arch="arm64", kernel="6.1", config="PTE_MARKER=y"), "impossible on arm64"),
    (dict(arch="x86_64", kernel="6.12", config="PTE_MARKER=y"), "impossible in 6.12"),
    (dict(arch="arm64", kernel="6.1", pa_bits=52), "52-bit PA"),
    (dict(arch="x86_64", kernel="4.9", levels=5), "5-level"),
    (dict(arch="arm64", kernel="6.1.0-13-amd64"), "amd64"),
    (dict(config="FOO=y"), "not one uffdpte models"),
    (dict(config="all,debian"), "two config presets"),
    (dict(kernel="banana"), "not understood"),
    (dict(arch="arm64", kernel="3.18"), "older than the arm64 tables"),
    (dict(arch="arm64", kernel="6.1", scheme="special-pte"), "not representable"),
])
def test_impossible_profiles_are_refused(opts, message):
    with pytest.raises(ProfileError, match=message):
        resolve(**opts)


def test_newer_kernel_than_tables_is_noted():
    p = resolve(arch="x86_64", kernel="7.9")
    assert any("newer than the tables know" in n for n in p.notes)


def test_unpinned_dimensions_feed_alternatives():
    p = resolve(arch="x86_64", kernel="6.12", config="debian")
    dims = {k for _, d in p.neighbours() for k in d}
    assert dims == {"levels", "scheme"}  # kernel and config pinned
    q = resolve(arch="arm64")
    dims = {k for _, d in q.neighbours() for k in d}
    assert {"kernel", "config", "page_size", "scheme"} <= dims
