"""uffdpte: decode, encode and classify raw Linux page-table entries (x86_64, arm64).

    >>> from uffdpte import decode
    >>> e = decode(0x8000000071c00227, arch="x86_64", kernel="6.12")
    >>> e.state, hex(e.pfn), e.flags
    ('present', '0x71c00', ('PRESENT', 'RW', 'USER', 'ACCESSED', 'SPECIAL', 'NX'))
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["decode", "resolve", "Profile", "ProfileError", "Entry", "Reading", "Decoder",
           "Classifier", "KernelVersion", "parse_kernel", "STATES", "RECORD_KEYS"]

#: names served from submodules on first use: importing the package (the command's entry
#: point does, before anything else) stays nearly free
_LAZY = {"Classifier": "classify", "Decoder": "classify", "classifier_for": "classify",
         "RECORD_KEYS": "entry", "STATES": "entry", "Entry": "entry", "Reading": "entry",
         "KernelVersion": "kver", "parse_kernel": "kver", "Profile": "profile",
         "ProfileError": "profile", "cached_resolve": "profile", "resolve": "profile"}

TYPE_CHECKING = False  # (not from typing: this module is imported first, and must be light)
if TYPE_CHECKING:
    from .classify import Classifier, Decoder, classifier_for  # noqa: F401
    from .entry import RECORD_KEYS, STATES, Entry, Reading  # noqa: F401
    from .kver import KernelVersion, parse_kernel  # noqa: F401
    from .profile import Profile, ProfileError, cached_resolve, resolve  # noqa: F401


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _profile(profile: "Profile | None", **opts) -> "Profile":
    from .profile import cached_resolve
    if profile is not None:
        return profile
    clean = {k: (str(v) if k in ("kernel", "page_size") and v is not None else v)
             for k, v in opts.items()}
    return cached_resolve(**clean)


def decode(value: int | str, *, profile: "Profile | None" = None, arch: str | None = None,
           kernel: str | None = None, config: str | None = None,
           page_size: str | None = None, pa_bits: int | None = None,
           levels: int | None = None, scheme: str | None = None, level: str = "pte",
           alternatives: bool = True) -> "Entry":
    """Decode one raw entry.  Options not given are "not pinned": the default profile is
    used and alternatives under other kernels/configs are listed on the result."""
    if isinstance(value, str):
        from .tokens import parse_token
        tok = parse_token(value.strip().encode("utf-8", "surrogateescape"))
        if tok.value is None:
            raise ValueError(f"{value!r}: {tok.error}")
        token, value = value, tok.value
    else:
        if not 0 <= value < 1 << 64:
            raise ValueError(f"{value:#x}: not a 64-bit value")
        token = None
    p = _profile(profile, arch=arch, kernel=kernel, config=config, page_size=page_size,
                 pa_bits=pa_bits, levels=levels, scheme=scheme)
    from .classify import classifier_for
    e = classifier_for(p, level, alternatives).decode(value, token)
    e._profile = p
    return e
