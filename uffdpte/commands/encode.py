"""uffdpte encode: a state and its fields in, the raw entry out."""

from __future__ import annotations

import sys

import click
from click.core import ParameterSource

from ..cli import EXIT_USAGE, _err, make_profile, profile_options
from ..entry import STATES as _DECODED

#: the states decode reports, less its verdicts (invalid; pagemap's swapped), plus a raw
#: swp_entry_t value
STATES = tuple(s.replace("_", "-") for s in _DECODED if s not in ("invalid", "swapped")) + (
    "swp-entry",)
_SUB = "--read/--read-exclusive/--write"  # one option "sub": its flags, as click lists them
_SWP = {"--uffd-wp", "--soft-dirty", "--flags"}
#: the options each state reads; any other option given is refused, never ignored
APPLIES: dict[str, set[str]] = {
    "none": {"--flags"},
    "present": {"--pfn", "--flags", "--field", "--subtype"},
    "protnone": {"--pfn", "--flags", "--field"},
    "swap": {"--type", "--offset", "--exclusive"} | _SWP,
    "migration": {"--pfn", _SUB, "--subtype", "--young", "--dirty"} | _SWP,
    "device": {"--pfn", _SUB, "--subtype"} | _SWP,
    "hwpoison": {"--pfn"},
    "swapin-error": {"--pfn"},
    "marker": {"--uffd-wp", "--poisoned", "--guard", "--marker"},
    "swp-entry": set(),
}


def _number(text: str | None, what: str) -> int | None:
    """Option numbers: 0x-prefixed hex or decimal (a swap type is small, a PFN is hex)."""
    if text is None:
        return None
    try:
        n = int(text, 0)
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected 0x-prefixed hex or decimal", param_hint=what)
    if n < 0 or n >> 64:
        raise click.BadParameter(f"{text!r}: out of range", param_hint=what)
    return n


@click.command("encode")
@click.argument("state", type=click.Choice(STATES, case_sensitive=False))
@click.argument("value", required=False)
@profile_options
@click.option("--pfn", help="Page frame number (present, protnone, migration, device, hwpoison).")
@click.option("--type", "swp_type", help="Swap type (swap state).")
@click.option("--offset", help="Swap offset (swap state).")
@click.option("--flags", default="",
              help="Comma-separated kernel flag names (RW,NX,... / AF,UXN,...).")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE",
              help="A multi-bit field: ATTRINDX=MT_NORMAL, SHARED=3, PKEY=2.")
@click.option("--read", "sub", flag_value="read", help="Migration/device: read entry.")
@click.option("--read-exclusive", "sub", flag_value="read_exclusive",
              help="Migration: read-exclusive entry (5.19+).")
@click.option("--write", "sub", flag_value="write", help="Migration/device: writable entry.")
@click.option("--subtype", help="Any subtype by name: device_exclusive, migration_write, ...")
@click.option("--uffd-wp", is_flag=True, help="uffd-wp: the swap flag, or the UFFD_WP marker.")
@click.option("--soft-dirty", is_flag=True, help="The swap soft-dirty flag.")
@click.option("--exclusive", is_flag=True, help="The swap anon-exclusive flag.")
@click.option("--young", is_flag=True, help="Migration: cached young bit (6.1+).")
@click.option("--dirty", is_flag=True, help="Migration: cached dirty bit (6.1+).")
@click.option("--poisoned", is_flag=True, help="Marker: PTE_MARKER_POISONED (6.6+).")
@click.option("--guard", is_flag=True, help="Marker: PTE_MARKER_GUARD (6.13+).")
@click.option("--marker", "marker_names", multiple=True, help="Marker bit by name.")
@click.option("--allow-invalid", is_flag=True,
              help="Build bits the kernel never writes (decode will flag them).")
@click.option("--json", "as_json", is_flag=True, help="Print decode's JSON record for the result.")
def command(state, value, arch, kernel, config, page_size, pa_bits, levels, scheme, pfn,
            swp_type, offset, flags, fields, sub, subtype, uffd_wp, soft_dirty, exclusive, young,
            dirty, poisoned, guard, marker_names, allow_invalid, as_json):
    """Build an entry state as raw bits: the exact inverse of decode.

    Numbers in options are 0x-prefixed hex or decimal.

    \b
    Examples:
      uffdpte encode swap --type 3 --offset 0x1 --uffd-wp --exclusive --soft-dirty
      uffdpte encode migration --write --pfn 0x12345 --young --dirty --config debian
      uffdpte encode marker --uffd-wp --kernel 6.12 --arch arm64
      uffdpte encode swp-entry 0x7c00000000000001
    """
    from ..classify import classifier_for, decoder_for
    from ..encode import EncodeError, Spec, encode

    ctx = click.get_current_context()
    opts: dict[str, list[str]] = {}  # parameter name -> its option strings
    for prm in ctx.command.params:
        if isinstance(prm, click.Option):
            opts.setdefault(prm.name, []).extend(prm.opts)
    given = {"/".join(o) for name, o in opts.items()
             if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)}
    stray = sorted(given & set().union(*APPLIES.values()) - APPLIES[state.lower()])
    if stray:
        hint = (" (present-entry bits are set by name: --flags UFFD_WP,SOFT_DIRTY,ACCESSED,..."
                ")" if state.lower() in ("present", "protnone") else "")
        _err(f"cannot encode: {', '.join(stray)} does not apply to {state.lower()}{hint}")
        sys.exit(EXIT_USAGE)

    profile = make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme)
    for note in profile.notes:
        _err(f"note: {note}")
    d = decoder_for(profile)
    state = state.lower().replace("-", "_")
    if state == "swp_entry":
        val = _number(value if value is None or value.lower().startswith("0x") else "0x" + value,
                      "VALUE")
        if val is None:
            raise click.UsageError("swp-entry needs the swp_entry_t value (hex)")
        raw, t, off, unfit = d.swp_entry_check(val)
        if unfit:
            _err(f"cannot encode: {val:#x} (type {t}, offset {off:#x}) under "
                 f"{profile.label()}: {'; '.join(unfit)}")
            sys.exit(EXIT_USAGE)
    else:
        if value is not None:
            raise click.UsageError(f"unexpected argument {value!r} for {state}")
        markers = list(marker_names)
        if state == "marker":
            markers += [m for m, on in (("UFFD_WP", uffd_wp), ("POISONED", poisoned),
                                        ("GUARD", guard)) if on]
        full_sub = subtype
        if sub and not subtype:
            full_sub = {"migration": f"migration_{sub}",
                        "device": f"device_private_{sub}"}.get(state)
            if full_sub is None:
                raise click.UsageError(f"--{sub.replace('_', '-')} does not apply to {state}")
        field_values: dict = {}
        for item in fields:
            name, _, val = item.partition("=")
            if not val:
                raise click.UsageError(f"--field {item!r}: expected NAME=VALUE")
            try:
                field_values[name] = int(val, 0)
            except ValueError:
                field_values[name] = val
        spec = Spec(state=state, subtype=full_sub, pfn=_number(pfn, "--pfn"),
                    swp_type=_number(swp_type, "--type"), offset=_number(offset, "--offset"),
                    flags=tuple(f.strip() for f in flags.split(",") if f.strip()),
                    fields=field_values, markers=tuple(markers),
                    uffd_wp=uffd_wp and state != "marker", soft_dirty=soft_dirty,
                    exclusive=exclusive, young=young, dirty=dirty)
        try:
            raw = encode(spec, d, allow_invalid=allow_invalid)
        except EncodeError as e:
            _err(f"cannot encode: {e}")
            sys.exit(EXIT_USAGE)
    if as_json:
        from ..render.jsonl import line
        click.echo(line(classifier_for(profile, "pte", True).decode(raw)))
    else:
        click.echo(f"0x{raw:016x}")
