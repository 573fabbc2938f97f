"""uffdpte profiles: the eras, presets and reference kernels the tables know."""

from __future__ import annotations

import click

from ..kver import NEWEST_TEXT
from ..profile import PRESETS, REFERENCE_KERNELS


@click.command("profiles")
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), help="Only this arch.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def command(arch, as_json):
    """List the layout eras the tables know: what changes at which release, and where from.

    \b
    Examples:
      uffdpte profiles --arch arm64
      uffdpte profiles --json | jq '.arches.x86_64[] | select(.verified == false)'
    """
    from ..eras import changes, release_label
    from ..profile import SYMBOLS

    arches = [arch] if arch else ["x86_64", "arm64"]
    if as_json:
        import json
        doc = {
            "newest": NEWEST_TEXT,
            "presets": list(PRESETS),
            "reference_kernels": list(REFERENCE_KERNELS),
            "config_symbols": {n: s.meaning for n, s in SYMBOLS.items()},
            "arches": {a: [{"release": release_label(c.version), "change": c.what,
                            "source": c.source, "verified": c.verified,
                            "backports": list(c.backports)} for c in changes(a)]
                       for a in arches},
        }
        click.echo(json.dumps(doc, indent=1, ensure_ascii=False))
        return
    click.echo(f"Newest kernel the tables know: {NEWEST_TEXT}.  Config presets: "
               f"{', '.join(PRESETS)}.  Alternatives are read under: "
               f"{', '.join(REFERENCE_KERNELS)}.")
    for a in arches:
        click.echo(f"\n{a}: changes by release (? = release not verified)")
        last = None
        for c in changes(a):
            rel = release_label(c.version)
            head = f"  {rel:>9} " if rel != last else " " * 12
            last = rel
            click.echo(f"{head}{'?' if not c.verified else ' '} {c.what}")
            click.echo(" " * 16 + f"source: {c.source}")
            for b in c.backports:
                click.echo(" " * 16 + f"backport: {b}")
