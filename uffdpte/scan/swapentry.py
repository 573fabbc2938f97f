"""The arch-independent ``swp_entry_t`` that mm/swapfile.c and the zap path print.

``entry.val`` is ``type << SWP_TYPE_SHIFT | offset`` (include/linux/swapops.h), not a raw
PTE: the arch places type and offset elsewhere in the PTE (``__swp_entry``).  To show what
the PTE would be, the scan splits the printed value with the shift of the profile's kernel
(the ``SWP_TYPE_SHIFTS`` rows of :mod:`uffdpte.layouts.generic`: 57 in 3.5-4.19, 58 from
4.20) and asks the decoder for ``__swp_entry(type, offset)``.  The flag bits a swap PTE may
carry (exclusive, soft-dirty, uffd-wp) are not part of ``swp_entry_t`` --
``pte_to_swp_entry()`` clears them first -- so they cannot be recovered and read as clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kver import KernelVersion
from ..layouts.generic import swp_entry_fields


@dataclass(frozen=True)
class SwpEntry:
    val: int
    type: int
    offset: int
    shift: int
    problems: tuple[str, ...]


def split(val: int, kv: KernelVersion) -> SwpEntry:
    """swp_type() and swp_offset() of a printed entry.val under this kernel (the arch's fit
    is the decoder's: :meth:`uffdpte.classify.Decoder.swp_entry_check`)."""
    t, off, shift, problems = swp_entry_fields(val, kv)
    return SwpEntry(val, t, off, shift, tuple(problems))
