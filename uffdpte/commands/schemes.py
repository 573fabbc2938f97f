"""uffdpte schemes: the 2021 uffd-wp encodings, per arch and profile, from the tables."""

from __future__ import annotations

import click



@click.command("schemes")
@click.option("--arch", type=click.Choice(["x86_64", "arm64"], case_sensitive=False),
              help="Only this arch (default: both).")
@click.option("--kernel", metavar="VERSION",
              help="Only this kernel (default: 6.1, 6.12, mainline).")
@click.option("--config", multiple=True, metavar="PRESET|NAME=y|n", help="Config preset or items.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per scheme and profile.")
def command(arch, kernel, config, as_json):
    """The uffd-wp encodings side by side: raw value, cost, predicates, collisions.

    \b
    Examples:
      uffdpte schemes
      uffdpte schemes --arch arm64 --kernel 6.1
      uffdpte schemes --json | jq 'select(.collides)'
    """
    from ..profile import ProfileError
    from ..schemes import profiles_for, report

    try:
        profiles = profiles_for(arch, kernel, ",".join(config) if config else None)
    except ProfileError as e:
        raise click.UsageError(str(e)) from None
    if as_json:
        import json
        for p in profiles:
            for r in report(p):
                click.echo(json.dumps(r.to_dict(), ensure_ascii=False))
        return
    for i, p in enumerate(profiles):
        if i:
            click.echo()
        click.echo(p.label())
        for r in report(p):
            raw = f"0x{r.raw:016x}" if r.raw is not None else "not representable"
            click.echo(f"  {r.scheme:<12} {raw}")
            if r.why_not:
                click.echo(f"{'':15}why: {r.why_not}")
            for c in r.cost:
                click.echo(f"{'':15}cost: {c}")
            if r.predicates:
                click.echo(f"{'':15}predicates: " + " ".join(
                    f"{k}={int(v)}" for k, v in r.predicates.items()))
            if r.base_reading:
                click.echo(f"{'':15}without the scheme: {r.base_reading}")
            if r.collision:
                click.echo(f"{'':15}collision: {'YES, ' if r.collides else ''}{r.collision}")
