"""Kernel version strings as people paste them: mainline, stable and distro builds.

``6.12``, ``6.12.117``, ``6.1.0-13-amd64`` (Debian), ``5.15.0-91-generic`` (Ubuntu),
``4.18.0-513.el8.x86_64`` (RHEL), ``6.19-rc4``, ``mainline``.  A distro string keeps what
it tells beyond the version: the distro (its config and backports differ from mainline),
the flavour (Debian ``cloud-amd64`` drops MEMORY_FAILURE) and the architecture.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._record import record

Version = tuple[int, int, int]

#: The newest kernel whose layouts the tables know (Debian sid linux-source-7.2 7.2.13
#: cross-checks the mainline cells of ../shared/kernel-facts.md).
NEWEST: Version = (7, 2, 0)
NEWEST_TEXT = "7.2"


@record
class KernelVersion:
    major: int
    minor: int
    patch: int | None  # None: the stable level is not known (e.g. Debian "6.1.0-13")
    text: str  # as given by the user or found in text
    distro: str | None = None  # "debian", "ubuntu", "rhel", "fedora", "suse"
    distro_release: int | None = None  # RHEL major (el8 -> 8), Debian suffix +debNN -> NN
    build: tuple[int, ...] = ()  # distro build/ABI numbers ("-513.el8" -> (513,))
    flavour: str | None = None  # "amd64", "cloud-amd64", "generic", "64k", ...
    arch_hint: str | None = None  # "x86_64" / "arm64" when the string says so
    rc: int | None = None

    @property
    def key(self) -> Version:
        """Comparable (major, minor, patch); an unknown patch compares as .0."""
        return (self.major, self.minor, self.patch or 0)

    @property
    def series(self) -> tuple[int, int]:
        return (self.major, self.minor)

    @property
    def short(self) -> str:
        base = f"{self.major}.{self.minor}"
        if self.patch:
            base += f".{self.patch}"
        if self.rc is not None:
            base += f"-rc{self.rc}"
        return base

    def __str__(self) -> str:
        return self.text


class KernelVersionError(ValueError):
    pass


_ALIASES = {"mainline", "newest", "latest", "default"}

_CORE = (
    r"^v?(?P<maj>\d{1,2})\.(?P<min>\d{1,3})(?:\.(?P<patch>\d{1,4}))?"
    r"(?:-rc(?P<rc>\d{1,2}))?(?P<rest>.*)$"
)

_ARCH_WORDS = {
    "amd64": "x86_64", "x86_64": "x86_64", "x86-64": "x86_64",
    "arm64": "arm64", "aarch64": "arm64",
}

# Each rule: (pattern over the text after the version, distro, how to read the match).
# Debian: "-13-amd64", "-13-cloud-amd64", "-28-rt-arm64", "+deb13-amd64", "-1+deb12u1-arm64".
_DEBIAN = (
    r"^(?:-(?P<abi>\d+)|\+deb(?P<deb>\d+)(?:u\d+)?)?"
    r"(?:-(?P<flav>(?:cloud-|rt-)?(?:amd64|arm64)(?:-16k|-64k)?))$"
)
_UBUNTU = (
    r"^-(?P<abi>\d+)(?:\.\d+)?-(?P<flav>generic|lowlatency|aws|azure|gcp|gke|kvm|oracle|"
    r"raspi|ibm|nvidia|realtime|generic-64k|generic-lpae|virtual)$"
)
_REDHAT = (
    r"^-(?P<build>\d+(?:\.\d+)*)\.el(?P<el>\d+)(?:_\d+)*(?:\.(?P<arch>x86_64|aarch64))?$"
)
_FEDORA = (r"^-(?P<build>\d+)\.fc(?P<fc>\d+)(?:\.(?P<arch>x86_64|aarch64))?$")
_SUSE = (r"^-(?P<build>\d+(?:\.\d+)*)-(?P<flav>default|azure|rt|64kb)$")


@lru_cache(maxsize=None)
def _rx(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: a one-shot decode with no --kernel never pays for these."""
    return re.compile(pattern)


@lru_cache(maxsize=512)
def parse_kernel(text: str) -> KernelVersion:
    """Parse a kernel version or release string (``uname -r`` style)."""
    raw = text.strip()
    if raw.lower() in _ALIASES:
        return KernelVersion(*NEWEST[:2], None, NEWEST_TEXT)
    m = _rx(_CORE).match(raw)
    if not m:
        raise KernelVersionError(
            f"kernel version {text!r} not understood (examples: 6.12, 6.12.117, "
            "6.1.0-13-amd64, 5.15.0-91-generic, 4.18.0-513.el8.x86_64, mainline)"
        )
    major, minor = int(m["maj"]), int(m["min"])
    patch = int(m["patch"]) if m["patch"] is not None else None
    rc = int(m["rc"]) if m["rc"] is not None else None
    rest = m["rest"]
    fields: dict = {}
    if rest:
        if d := _rx(_DEBIAN).match(rest):
            flav = d["flav"]
            fields = dict(distro="debian", flavour=flav,
                          arch_hint=_ARCH_WORDS[flav.split("-")[-2] if flav.endswith(("16k", "64k"))
                                                else flav.split("-")[-1]],
                          build=(int(d["abi"]),) if d["abi"] else (),
                          distro_release=int(d["deb"]) if d["deb"] else None)
            # Debian's "X.Y.0-N" ABI names hide the stable level.
            if patch == 0 and d["abi"]:
                patch = None
        elif u := _rx(_UBUNTU).match(rest):
            fields = dict(distro="ubuntu", flavour=u["flav"], build=(int(u["abi"]),),
                          arch_hint="arm64" if u["flav"] in ("raspi", "generic-64k") else None)
            if patch == 0:
                patch = None
        elif r := _rx(_REDHAT).match(rest):
            fields = dict(distro="rhel", distro_release=int(r["el"]),
                          build=tuple(int(x) for x in r["build"].split(".")),
                          arch_hint=_ARCH_WORDS.get(r["arch"] or ""))
        elif f := _rx(_FEDORA).match(rest):
            fields = dict(distro="fedora", distro_release=int(f["fc"]),
                          build=(int(f["build"]),), arch_hint=_ARCH_WORDS.get(f["arch"] or ""))
        elif s := _rx(_SUSE).match(rest):
            fields = dict(distro="suse", flavour=s["flav"],
                          build=tuple(int(x) for x in s["build"].split(".")))
        else:
            # Unknown suffix ("-custom", "+", "-dirty"): keep the version, say nothing more.
            tail = rest.lower()
            for word, arch in _ARCH_WORDS.items():
                if word in tail:
                    fields["arch_hint"] = arch
                    break
    return KernelVersion(major, minor, patch, raw, rc=rc, **fields)


def version_text(v: Version) -> str:
    return f"{v[0]}.{v[1]}" + (f".{v[2]}" if v[2] else "")
