"""Every profile shape the tables can produce, for property tests: each era on both arches,
each preset, page sizes, PA widths, paging levels, schemes, and distro backport strings."""

from __future__ import annotations

from functools import lru_cache

from uffdpte.profile import Profile, ProfileError, resolve

KERNELS = ("3.10", "3.16", "4.4", "4.4.150", "4.8", "4.9.120", "4.14", "4.14.63", "4.19", "5.4",
           "5.10", "5.15", "5.19", "6.1", "6.6", "6.9", "6.12", "6.13", "6.15", "6.19", "7.2",
           "3.10.0-693.21.1.el7.x86_64", "4.18.0-513.el8.x86_64", "6.1.0-13-cloud-amd64")
CONFIGS = ("all", "debian", "all,MIGRATION=n,MEMORY_FAILURE=n,DEVICE_PRIVATE=n,USERFAULTFD=n",
           "all,NUMA_BALANCING=n", "all,X86_BUG_L1TF=y")


@lru_cache(maxsize=1)
def all_profiles() -> tuple[Profile, ...]:
    out: list[Profile] = []
    seen = set()
    for arch in ("x86_64", "arm64"):
        geoms = ([dict(levels=4), dict(levels=5)] if arch == "x86_64" else
                 [dict(page_size=p, pa_bits=b) for p in ("4k", "16k", "64k") for b in (48, 52)])
        for kernel in KERNELS:
            for config in CONFIGS:
                for geom in geoms:
                    for scheme in ("marker", "special-pte", "swp-type1"):
                        try:
                            p = resolve(arch=arch, kernel=kernel, config=config, scheme=scheme,
                                        **geom)
                        except ProfileError:
                            continue
                        key = (p.arch, p.kernel, p.config, p.page_size, p.pa_bits, p.levels,
                               p.scheme)
                        if key not in seen:
                            seen.add(key)
                            out.append(p)
    return tuple(out)
