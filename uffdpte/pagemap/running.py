"""What uffdpte knows about the kernel it runs on: its profile (for swap-type names) and
whether this process may see PFNs.

Special swap types are numbered down from 31 by config (include/linux/swap.h,
kernel-facts §1.3), so naming a pagemap swap type needs the running kernel's config.  It
is read from /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-RELEASE when either
exists; otherwise the preset ``all`` is assumed and the note says so.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass

from ..profile import SYMBOLS, Profile, ProfileError, resolve

#: The config symbols that change what a pagemap entry reads as: the special swap types'
#: numbering (MIGRATION, MEMORY_FAILURE, DEVICE_PRIVATE, PTE_MARKER 5.19-6.1 with
#: USERFAULTFD) and whether soft-dirty exists (MEM_SOFT_DIRTY).
CONFIG_SYMBOLS = ("MIGRATION", "MEMORY_FAILURE", "DEVICE_PRIVATE", "MEM_SOFT_DIRTY",
                  "USERFAULTFD", "PTE_MARKER")

#: include/uapi/linux/capability.h
CAP_SYS_ADMIN = 21


@dataclass(frozen=True)
class Running:
    profile: Profile
    config_source: str | None  # "/proc/config.gz", "/boot/config-R", or None (assumed)
    config_items: tuple[str, ...]

    @property
    def assumption(self) -> str:
        """One line: which profile names the swap types, and where its config came from."""
        p = self.profile
        if self.config_source:
            how = f"with {self.config_source} ({' '.join(self.config_items)})"
        else:
            how = (f"running kernel's config unknown (no /proc/config.gz or "
                   f"/boot/config-{os.uname().release}): preset '{p.preset}' assumed")
        return f"swap types named for {p.arch} {p.kernel.text}, {how}"


def _read_config(release: str) -> tuple[str | None, str | None]:
    for path in ("/proc/config.gz", f"/boot/config-{release}"):
        try:
            if path.endswith(".gz"):
                with gzip.open(path, "rt", errors="replace") as f:
                    return path, f.read()
            with open(path, errors="replace") as f:
                return path, f.read()
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
    return None, None


def running(config: str | None = None, release: str | None = None) -> Running:
    """The running kernel's profile; ``config`` (a --config value) overrides the file."""
    release = release or os.uname().release
    # parse_kernel reads any release that starts with x.y (local suffixes included); one it
    # rejects is a ProfileError here, never a silently assumed version
    base = resolve(kernel=release)
    kv, arch = base.kernel, base.arch
    # arm64 kernels run 4k, 16k or 64k pages: the profile takes this machine's
    geometry = {"page_size": str(os.sysconf("SC_PAGE_SIZE"))} if arch == "arm64" else {}

    def profile(cfg: str) -> Profile:
        return resolve(kernel=kv, arch=arch, config=cfg, **geometry)

    if config:
        return Running(profile(config), "--config", (config,))
    source, text = _read_config(release)
    if text is None:
        return Running(profile("all"), None, ())
    on = set(re.findall(r"^CONFIG_(\w+)=[ym]\s*$", text, re.M))
    items = []
    for name in CONFIG_SYMBOLS:
        sym = SYMBOLS.get(name)
        if sym is None or not sym.exists(arch, kv):
            continue
        items.append(f"{name}={'y' if name in on else 'n'}")
    try:
        prof = profile(",".join(["all"] + items))
    except ProfileError:
        return Running(profile("all"), None, ())
    return Running(prof, source, tuple(items))


def can_see_pfns() -> bool:
    """Whether a pagemap this process opens shows PFNs: CAP_SYS_ADMIN in the initial user
    namespace (pagemap_read: file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))."""
    try:
        with open("/proc/self/status") as f:
            eff = next((int(line.split()[1], 16) for line in f if line.startswith("CapEff:")), 0)
    except OSError:
        return False
    if not eff >> CAP_SYS_ADMIN & 1:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            fields = f.read().split()
    except OSError:
        return True  # no user namespaces: there is only the initial one
    # the initial namespace maps the whole 32-bit range onto itself
    return fields[:3] == ["0", "0", "4294967295"]
