"""Profiles: arch x kernel x config x page size x PA width x paging levels x uffd-wp scheme.

A profile is resolved once per input source from options (and, in ``scan``, from what the
text says), remembering where each choice came from.  The dimensions the user did not pin
are what :meth:`Profile.neighbours` varies to find alternative readings.
"""

from __future__ import annotations

import os
from functools import lru_cache

from ._record import record
from .kver import NEWEST_TEXT, KernelVersion, KernelVersionError, parse_kernel
from .layouts import ARCHES, layout_for
from .layouts.generic import GENERIC_CAPABILITIES, MARKER_BITS, SWAP_TYPES
from .layouts.model import Era, gate_holds, v


class ProfileError(ValueError):
    """A profile option that cannot be honoured (a usage error)."""


# --- config symbols ---------------------------------------------------------------------

@record
class Symbol:
    name: str
    meaning: str
    arches: tuple[str, ...]
    era: Era
    #: a runtime condition rather than a Kconfig symbol: never turned on by a preset
    runtime: bool = False

    def exists(self, arch: str, kv: KernelVersion) -> bool:
        """The symbol can be set on this arch in this kernel."""
        return arch in self.arches and self.era.contains(kv)


SYMBOLS: dict[str, Symbol] = {s.name: s for s in (
    Symbol("MIGRATION", "page migration: SWP_MIGRATION_* types", ARCHES, Era()),
    Symbol("MEMORY_FAILURE", "hwpoison: SWP_HWPOISON type", ARCHES, Era()),
    Symbol("DEVICE_PRIVATE", "device-private memory: SWP_DEVICE_* types", ARCHES,
           Era(v("4.14"), None, "mm/Kconfig DEVICE_PRIVATE", verified=False)),
    Symbol("MEM_SOFT_DIRTY", "soft-dirty tracking (needs HAVE_ARCH_SOFT_DIRTY: x86 only)",
           ("x86_64",), Era(v("3.11"), None, "mm/Kconfig MEM_SOFT_DIRTY", verified=False)),
    Symbol("USERFAULTFD", "userfaultfd (write-protect where the arch has "
           "HAVE_ARCH_USERFAULTFD_WP: x86_64 5.7+, arm64 6.10+)", ARCHES,
           Era(v("4.3"), None, "fs/userfaultfd.c", verified=False)),
    Symbol("PTE_MARKER", "PTE markers before 6.2 (selected by PTE_MARKER_UFFD_WP, which needs "
           "HAVE_ARCH_USERFAULTFD_WP: x86_64 only then)", ("x86_64",),
           Era(v("5.19"), v("6.2"), "mm/Kconfig PTE_MARKER (5.19-6.1)", verified=False)),
    Symbol("NUMA_BALANCING", "NUMA balancing: pte_protnone is real", ARCHES, Era()),
    Symbol("X86_INTEL_MEMORY_PROTECTION_KEYS", "protection keys in PTE bits 59-62", ("x86_64",),
           Era(v("4.6"), None, "arch/x86/Kconfig", verified=False)),
    Symbol("X86_BUG_L1TF", "runtime: the CPU has L1TF with mitigation on, so "
           "arch_max_swapfile_size is too small for migration A/D bits (x86_cache_bits 44)",
           ("x86_64",), Era(), runtime=True),
)}

#: Debian's configs (the .config shipped with linux-image/linux-headers), kernel-facts §7.1.
#: Key: (arch, series); value: symbols set to n (everything else is on, as in "all").
DEBIAN_CONFIGS: dict[tuple[str, tuple[int, int]], frozenset[str]] = {
    ("x86_64", (5, 10)): frozenset({"DEVICE_PRIVATE"}),
    ("arm64", (5, 10)): frozenset({"DEVICE_PRIVATE"}),
    ("x86_64", (6, 1)): frozenset({"DEVICE_PRIVATE"}),
    ("arm64", (6, 1)): frozenset({"DEVICE_PRIVATE"}),
    ("x86_64", (6, 12)): frozenset({"DEVICE_PRIVATE"}),
    ("arm64", (6, 12)): frozenset({"DEVICE_PRIVATE"}),
    ("x86_64", (7, 2)): frozenset(),
    ("arm64", (7, 2)): frozenset(),
}
#: Debian cloud flavour 6.1 also drops MEMORY_FAILURE (kernel-facts §1.3); 6.12 cloud keeps it.
DEBIAN_FLAVOUR_OFF: dict[tuple[str, tuple[int, int]], frozenset[str]] = {
    ("cloud", (6, 1)): frozenset({"MEMORY_FAILURE"}),
}
PRESETS = ("all", "debian")

#: Kernels people run, for alternatives when --kernel is not pinned: the kernel.org
#: longterm series still maintained (www.kernel.org/category/releases.html) and the newest.
REFERENCE_KERNELS = ("5.10", "5.15", "6.1", "6.6", "6.12", NEWEST_TEXT)

SCHEMES = ("marker", "special-pte", "swp-type1")
PAGE_SIZES = {"4k": 4096, "16k": 16384, "64k": 65536}
PAGE_SHIFTS = {4096: 12, 16384: 14, 65536: 16}


def host_arch() -> str | None:
    m = os.uname().machine.lower()
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(m)


@record
class Profile:
    arch: str
    kernel: KernelVersion
    preset: str
    items: tuple[tuple[str, bool], ...]
    config: frozenset[str]  # enabled symbols, after presets and items
    page_size: int
    pa_bits: int
    levels: int
    scheme: str
    capabilities: frozenset[str]
    #: where each dimension came from: ("kernel", "option"), ("config", "kernel string") ...
    sources: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    pinned: frozenset[str] = frozenset()

    @property
    def page_shift(self) -> int:
        return PAGE_SHIFTS[self.page_size]

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def facts(self) -> frozenset[str]:
        """The upper-case requirements this profile meets: config symbols and geometry."""
        return frozenset(self.config) | geometry_facts(self.arch, self.page_size,
                                                       self.pa_bits, self.levels)

    @property
    def config_label(self) -> str:
        items = ",".join(f"{n}={'y' if on else 'n'}" for n, on in self.items)
        return self.preset + (f"+{items}" if items else "")

    @property
    def page_label(self) -> str:
        return f"{self.page_size // 1024}k"

    def source_of(self, dim: str) -> str:
        return dict(self.sources).get(dim, "default")

    def label(self) -> str:
        """One line: what a reader needs to know to trust a decode."""
        parts = [self.arch, self.kernel.text, self.config_label]
        if self.arch == "arm64":
            parts.append(f"{self.page_label}/{self.pa_bits}-bit PA")
        else:
            parts.append(f"{self.levels}-level")
        if self.scheme != "marker":
            parts.append(f"scheme={self.scheme}")
        return " ".join(parts)

    def to_dict(self) -> dict:
        d = {
            "arch": self.arch, "kernel": self.kernel.text, "config": self.config_label,
            "page_size": self.page_size, "pa_bits": self.pa_bits, "levels": self.levels,
            "scheme": self.scheme, "sources": dict(self.sources),
        }
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    def with_(self, **changes) -> "Profile":
        """Re-resolve with some options changed (keeps provenance of the rest)."""
        opts = dict(arch=self.arch, kernel=self.kernel.text, config=_config_text(self),
                    page_size=self.page_label, pa_bits=self.pa_bits, levels=self.levels,
                    scheme=self.scheme)
        opts.update(changes)
        p = resolve(**opts)
        return p._replace(pinned=self.pinned, sources=self.sources)

    def neighbours(self) -> list[tuple["Profile", dict[str, str]]]:
        """Profiles differing in the dimensions the user did not pin, for alternatives."""
        return list(_neighbours(self))


def _config_text(p: Profile) -> str:
    return ",".join([p.preset] + [f"{n}={'y' if on else 'n'}" for n, on in p.items])


@lru_cache(maxsize=256)
def _neighbours(p: Profile) -> tuple[tuple[Profile, dict[str, str]], ...]:
    out: list[tuple[Profile, dict[str, str]]] = []
    seen = {_identity(p)}

    def add(q: Profile, diff: dict[str, str]) -> None:
        ident = _identity(q)
        if ident not in seen:
            seen.add(ident)
            out.append((q, diff))

    configs = [None] if "config" in p.pinned else list(PRESETS)
    kernels = [p.kernel.text] if "kernel" in p.pinned else list(REFERENCE_KERNELS)
    if p.kernel.text not in kernels:
        kernels.insert(0, p.kernel.text)
    for k in kernels:
        for preset in configs:
            try:
                q = resolve(arch=p.arch, kernel=k,
                            config=_config_text(p) if preset is None else preset,
                            page_size=p.page_label,
                            pa_bits=p.pa_bits if p.arch == "arm64" else None,
                            levels=p.levels, scheme=p.scheme)
            except ProfileError:
                continue
            diff = {}
            if k != p.kernel.text:
                diff["kernel"] = q.kernel.text
            if preset is not None and q.config_label != p.config_label:
                diff["config"] = q.config_label
            if diff:
                add(q, diff)
    if p.arch == "arm64" and "page_size" not in p.pinned:
        for ps in PAGE_SIZES:
            if PAGE_SIZES[ps] != p.page_size:
                try:
                    add(p.with_(page_size=ps), {"page_size": ps})
                except ProfileError:
                    pass
    if p.arch == "x86_64" and "levels" not in p.pinned:
        add(p.with_(levels=9 - p.levels), {"levels": f"{9 - p.levels}-level"})
    if "scheme" not in p.pinned:
        for s in SCHEMES:
            if s != p.scheme:
                try:
                    add(p.with_(scheme=s), {"scheme": s})
                except ProfileError:
                    pass
    return tuple(out)


def _identity(p: Profile) -> tuple:
    return (p.arch, p.kernel.key, p.kernel.distro, p.config, p.page_size, p.pa_bits, p.levels,
            p.scheme, p.capabilities)


# --- resolution -------------------------------------------------------------------------

def _parse_config(text: str | None) -> tuple[str | None, list[tuple[str, bool]]]:
    preset: str | None = None
    items: list[tuple[str, bool]] = []
    if not text:
        return None, items
    for part in text.replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            name, _, val = part.partition("=")
            name = name.strip().upper().removeprefix("CONFIG_")
            val = val.strip().lower()
            if val not in ("y", "n", "yes", "no", "1", "0", "on", "off"):
                raise ProfileError(f"config item {part!r}: value must be y or n")
            if name not in SYMBOLS:
                raise ProfileError(f"config item {name!r} is not one uffdpte models "
                                   f"(known: {', '.join(SYMBOLS)})")
            items.append((name, val in ("y", "yes", "1", "on")))
        elif part.lower() in PRESETS:
            if preset is not None and preset != part.lower():
                raise ProfileError(f"two config presets given: {preset} and {part.lower()}")
            preset = part.lower()
        else:
            raise ProfileError(f"config {part!r}: expected a preset ({', '.join(PRESETS)}) "
                               "or NAME=y|n")
    return preset, items


def _debian_off(arch: str, kv: KernelVersion, notes: list[str]) -> frozenset[str]:
    verified = sorted(s for a, s in DEBIAN_CONFIGS if a == arch)
    series = kv.series
    if (arch, series) in DEBIAN_CONFIGS:
        off = DEBIAN_CONFIGS[(arch, series)]
    else:
        below = [s for s in verified if s <= series]
        use = below[-1] if below else verified[0]
        off = DEBIAN_CONFIGS[(arch, use)]
        notes.append(f"Debian config verified only for {', '.join('%d.%d' % s for s in verified)}; "
                     f"assumed {use[0]}.{use[1]}'s for {kv.short}")
    if kv.flavour and kv.flavour.startswith("cloud"):
        off = off | DEBIAN_FLAVOUR_OFF.get(("cloud", series), frozenset())
    return off


def resolve(arch: str | None = None, kernel: str | KernelVersion | None = None,
            config: str | None = None, page_size: str | int | None = None,
            pa_bits: int | str | None = None, levels: int | str | None = None,
            scheme: str | None = None, *, sources: dict[str, str] | None = None) -> Profile:
    """Build a profile from options; ``None`` means "not pinned: use the default".

    ``sources`` names where pinned values came from (default "option"); scan passes
    "text line 12" for what a report said.
    """
    src = dict(sources or {})
    notes: list[str] = []
    pinned = set()

    # kernel first: a distro string may name the arch and the config.
    if kernel is None:
        kv = parse_kernel(NEWEST_TEXT)
        src.setdefault("kernel", "default")
    else:
        try:
            kv = kernel if isinstance(kernel, KernelVersion) else parse_kernel(str(kernel))
        except KernelVersionError as e:
            raise ProfileError(str(e)) from None
        pinned.add("kernel")
        src.setdefault("kernel", "option")
    newest = parse_kernel(NEWEST_TEXT)
    if kv.series > newest.series:  # 7.2.13 is 7.2: the tables were checked against it
        notes.append(f"kernel {kv.text} is newer than the tables know ({NEWEST_TEXT}); "
                     f"{NEWEST_TEXT} layouts assumed")

    if arch is None:
        if kv.arch_hint:
            arch = kv.arch_hint
            src.setdefault("arch", "kernel string")
        else:
            arch = host_arch() or "x86_64"
            src.setdefault("arch", "host" if host_arch() else "default")
    else:
        arch = {"amd64": "x86_64", "x86-64": "x86_64", "aarch64": "arm64"}.get(arch.lower(),
                                                                             arch.lower())
        if arch not in ARCHES:
            raise ProfileError(f"unknown arch {arch!r} (known: {', '.join(ARCHES)})")
        pinned.add("arch")
        src.setdefault("arch", "option")
        if kv.arch_hint and kv.arch_hint != arch:
            raise ProfileError(f"kernel {kv.text} is an {kv.arch_hint} build, but the arch "
                               f"given is {arch}")

    preset, items = _parse_config(config)
    if config:
        pinned.add("config")
        src.setdefault("config", "option")
    if preset is None:
        if kv.distro == "debian":
            preset = "debian"
            src.setdefault("config", "kernel string")
        else:
            preset = "all"
            src.setdefault("config", "default")
    if kv.distro in ("ubuntu", "rhel", "fedora", "suse") and "config" not in pinned:
        notes.append(f"{kv.distro} kernel configs are not modelled; assumed '{preset}' "
                     "(pin --config to choose)")

    layout = layout_for(arch)
    if kv.key < layout.oldest:
        raise ProfileError(f"kernel {kv.text} is older than the {arch} tables "
                           f"({layout.oldest_why})")
    enabled = {n for n, s in SYMBOLS.items() if not s.runtime and s.exists(arch, kv)}
    if preset == "debian":
        enabled -= _debian_off(arch, kv, notes)
    for name, on in items:
        sym = SYMBOLS[name]
        if not sym.exists(arch, kv):
            if on:
                where = ("on " + arch if arch not in sym.arches
                         else f"in {kv.short} ({sym.era.label()})")
                raise ProfileError(f"{name}=y is impossible {where}: {sym.meaning}")
            continue
        (enabled.add if on else enabled.discard)(name)

    # geometry
    if arch == "arm64":
        if page_size is None:
            psize = 4096
        else:
            key = str(page_size).lower().removesuffix("b")
            if key.isdigit() and int(key) in PAGE_SHIFTS:
                psize = int(key)
            elif key in PAGE_SIZES:
                psize = PAGE_SIZES[key]
            else:
                raise ProfileError(f"page size {page_size!r}: expected 4k, 16k or 64k")
            pinned.add("page_size")
            src.setdefault("page_size", "option")
        pa = 48 if pa_bits is None else int(pa_bits)
        if pa_bits is not None:
            pinned.add("pa_bits")
            src.setdefault("pa_bits", "option")
        if pa not in (48, 52):
            raise ProfileError(f"--pa-bits {pa}: arm64 supports 48 or 52")
        lv = 4
    else:
        if page_size is not None and str(page_size).lower() not in ("4k", "4096"):
            raise ProfileError("x86_64 user PTEs map 4k pages (use --level for 2M/1G leaves)")
        psize = 4096
        if pa_bits is not None and int(pa_bits) != 52:
            raise ProfileError("--pa-bits applies to arm64; on x86_64 use --levels 4|5")
        pa = 52
        lv = 4 if levels is None else int(levels)
        if levels is not None:
            pinned.add("levels")
            src.setdefault("levels", "option")
        if lv not in (4, 5):
            raise ProfileError(f"--levels {lv}: x86_64 has 4- or 5-level paging")

    if scheme is None:
        scheme = "marker"
    else:
        scheme = scheme.lower()
        if scheme not in SCHEMES:
            raise ProfileError(f"scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")
        pinned.add("scheme")
        src.setdefault("scheme", "option")

    caps = _capabilities(arch, kv, frozenset(enabled), psize, pa, lv)
    if arch == "arm64" and pa == 52 and not caps & {"lpa2", "pa52_64k"}:
        raise ProfileError(f"52-bit PA is not possible on arm64 {kv.short} with "
                           f"{psize // 1024}k pages (64k: 4.16+; 4k/16k need LPA2, 6.9+)")
    if not any(era.contains(kv) and lvl in (None, lv) for era, lvl, _ in layout.physmem):
        raise ProfileError(f"{lv}-level paging does not exist in {kv.short} (5-level: 4.14+)")
    if scheme == "special-pte" and "uffd_wp" not in caps:
        raise ProfileError(
            f"scheme special-pte is not representable on {arch} {kv.short}: it needs a swap "
            "uffd-wp bit (_PAGE_SWP_UFFD_WP, x86_64 5.7+; PTE_SWP_UFFD_WP, arm64 6.10+), and "
            "the generic fallback __pte(0) is pte_none")
    for name, on in items:
        if on and not _feeds_capability(name, arch, kv, caps):
            notes.append(f"{name}=y has no effect on {arch} {kv.short}")
    if preset == "debian" and arch == "arm64" and kv.key >= v("6.12") and pa == 48:
        notes.append("Debian builds arm64 6.12+ with 52-bit PA (LPA2), active only on CPUs with "
                     "FEAT_LPA2; 48-bit PA assumed (--pa-bits 52 for LPA2)")
    notes.extend(_uncertain_notes(arch, kv))
    return Profile(arch=arch, kernel=kv, preset=preset, items=tuple(items),
                   config=frozenset(enabled), page_size=psize, pa_bits=pa, levels=lv,
                   scheme=scheme, capabilities=caps, sources=tuple(sorted(src.items())),
                   notes=tuple(notes), pinned=frozenset(pinned))


@lru_cache(maxsize=64)
def _uncertain_notes(arch: str, kv: KernelVersion) -> tuple[str, ...]:
    return tuple(_uncertain(layout_for(arch), kv))


def _uncertain(layout, kv: KernelVersion) -> list[str]:
    """Where this kernel sits on an estimated release boundary or an unknown stable level."""
    named = [(b.macro, b.era) for b in layout.bits] + \
        [(f"presence rules ({', '.join(sorted(p.levels))})", p.era) for p in layout.presence] + \
        [(c.name, c.era) for c in layout.capabilities + GENERIC_CAPABILITIES] + \
        [(t.name, t.era) for t in SWAP_TYPES] + [(m.macro, m.era) for m in MARKER_BITS]
    backports: dict[str, None] = {}
    boundary: dict[str, None] = {}
    for name, era in named:
        why = era.backport_unknown(kv)
        if why is not None:
            backports[why] = None
        elif era.boundary_estimated(kv):
            boundary[name] = None
    out = list(backports)
    if boundary:
        out.append(f"release boundaries at {kv.major}.{kv.minor} are estimated, not verified, "
                   f"for: {', '.join(boundary)}")
    return out


def geometry_facts(arch: str, page_size: int, pa: int | None, levels: int | None) -> set[str]:
    """The upper-case facts Capability.requires may name besides config symbols."""
    facts = {f"PAGE_{page_size // 1024}K"}
    if pa == 52 and arch == "arm64":
        facts.add("PA_BITS_52")
    if levels == 5:
        facts.add("LEVELS_5")
    return facts


@lru_cache(maxsize=256)
def _capabilities(arch: str, kv: KernelVersion, enabled: frozenset[str], page_size: int,
                  pa: int, levels: int) -> frozenset[str]:
    facts = enabled | geometry_facts(arch, page_size, pa, levels)
    caps: set[str] = set()

    def has(name: str) -> bool:  # capabilities are lower case, config symbols upper
        return name in caps if name.islower() else name in facts

    for cap in layout_for(arch).capabilities + GENERIC_CAPABILITIES:
        if cap.name not in caps and cap.era.contains(kv) and all(gate_holds(r, has) for r in cap.requires):
            caps.add(cap.name)
    return frozenset(caps)


def _feeds_capability(symbol: str, arch: str, kv: KernelVersion, caps: frozenset[str]) -> bool:
    rows = [c for c in layout_for(arch).capabilities + GENERIC_CAPABILITIES
            if symbol in c.requires]
    return not rows or any(c.name in caps for c in rows)


@lru_cache(maxsize=512)
def cached_resolve(arch: str | None = None, kernel: str | None = None, config: str | None = None,
                   page_size: str | None = None, pa_bits: int | None = None,
                   levels: int | None = None, scheme: str | None = None) -> Profile:
    return resolve(arch, kernel, config, page_size, pa_bits, levels, scheme)


__all__ = ["Profile", "ProfileError", "resolve", "cached_resolve", "SYMBOLS", "PRESETS",
           "SCHEMES", "REFERENCE_KERNELS"]
