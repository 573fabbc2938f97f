"""The ``uffdpte`` command: a thin layer from options to the library and a renderer.

Exit status: 0 every value decoded; 1 some input was rejected (each named on stderr, the
rest still decoded); 2 usage error (bad option, impossible profile); 130 interrupted;
141 stdout closed early (``| head``), as a filter killed by SIGPIPE reports.
"""

from __future__ import annotations

import sys
from typing import Callable

import click

from .kver import NEWEST_TEXT
from .profile import PAGE_SIZES, PRESETS, REFERENCE_KERNELS, SCHEMES, Profile, ProfileError, resolve

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_VERSION = "0.1.0"


def _err(msg: str) -> None:
    click.echo(f"uffdpte: {msg}", err=True)


def profile_options(f: Callable) -> Callable:
    """--arch/--kernel/--config/--page-size/--pa-bits/--levels/--scheme, shared by commands."""
    opts = [
        click.option("--arch", type=click.Choice(["x86_64", "arm64"], case_sensitive=False),
                     help="Architecture (default: the host's, else x86_64)."),
        click.option("--kernel", metavar="VERSION",
                     help=f"Kernel version or release string: 6.12, 6.1.0-13-amd64, "
                          f"5.15.0-91-generic, 4.18.0-513.el8.x86_64 (default: {NEWEST_TEXT})."),
        click.option("--config", multiple=True, metavar="PRESET|NAME=y|n",
                     help=f"Config preset ({', '.join(PRESETS)}) and/or items such as "
                          "DEVICE_PRIVATE=n; repeat or comma-separate (default: all)."),
        click.option("--page-size", type=click.Choice(list(PAGE_SIZES), case_sensitive=False),
                     help="arm64 page size (default 4k)."),
        click.option("--pa-bits", type=click.Choice(["48", "52"]),
                     help="arm64 physical-address width; 52 with 4k/16k means LPA2 (6.9+)."),
        click.option("--levels", type=click.Choice(["4", "5"]),
                     help="x86_64 paging levels (default 4): sets MAX_PHYSMEM_BITS."),
        click.option("--scheme", type=click.Choice(list(SCHEMES), case_sensitive=False),
                     help="uffd-wp encoding: mainline PTE markers, or a 2021 proposal."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme) -> Profile:
    try:
        return resolve(arch=arch, kernel=kernel, config=",".join(config) if config else None,
                       page_size=page_size, pa_bits=int(pa_bits) if pa_bits else None,
                       levels=int(levels) if levels else None, scheme=scheme)
    except ProfileError as e:
        raise click.UsageError(str(e)) from None


class Group(click.Group):
    """Runs commands as a Unix filter: quiet on EPIPE, 130 on Ctrl-C, no tracebacks."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        from .streams import EXIT_PIPE, PipeClosed, silence_broken_pipe
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(EXIT_USAGE if isinstance(e, click.UsageError) else e.exit_code)
        except click.exceptions.Abort:
            _err("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except KeyboardInterrupt:
            sys.exit(EXIT_INTERRUPTED)
        except (PipeClosed, BrokenPipeError):
            silence_broken_pipe()
            sys.exit(EXIT_PIPE)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_VERSION, "--version", prog_name="uffdpte",
                      message=f"%(prog)s %(version)s (tables know kernels up to {NEWEST_TEXT})")
def main() -> None:
    """Decode, encode and classify raw Linux page-table entries (x86_64, arm64)."""


# --- decode ----------------------------------------------------------------------------

@main.command()
@click.argument("values", nargs=-1)
@profile_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per value.")
@click.option("--alternatives/--no-alternatives", default=True,
              help="List readings under profiles you did not pin (default on).")
def decode(values, arch, kernel, config, page_size, pa_bits, levels, scheme, as_json,
           alternatives):
    """Decode raw PTE values: hex, with or without 0x, as arguments or on stdin (-).

    \b
    Examples:
      uffdpte decode 0x8000000071c00227
      uffdpte decode --arch arm64 --kernel 6.12 0x17c0
      dmesg | grep -o 'pte:[0-9a-f]*' | cut -d: -f2 | uffdpte decode --json -
    """
    from .classify import classifier_for
    from .streams import Output, line_batches
    from .tokens import Token, line_tokens, tokens_from_args

    profile = make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme)
    clf = classifier_for(profile, "pte", alternatives)
    if as_json:
        from .render.jsonl import line as render
    else:
        from .render.plain import line as render
    for note in profile.notes:
        _err(f"note: {note}")

    use_stdin = not values and not sys.stdin.isatty()
    if not values and not use_stdin:
        raise click.UsageError("no values given (pass hex values, or '-' to read stdin)")
    out = Output()
    status = EXIT_OK
    decode_one = clf.decode

    def emit(tok: Token, where: str) -> None:
        nonlocal status
        if tok.value is None:
            status = EXIT_REJECTED
            _err(f"{where}: {tok.text if len(tok.text) <= 40 else tok.text[:40] + '…'!r}: "
                 f"{tok.error}")
            return
        if tok.level not in (None, "pte"):
            status = EXIT_REJECTED
            _err(f"{where}: {tok.text!r}: {tok.level} entries are decoded with --level "
                 f"{tok.level} (not yet supported)")
            return
        out.add(render(decode_one(tok.value, tok.text), alternatives=alternatives))

    sources: list[str] = list(values) if values else ["-"]
    argno = 0
    for v in sources:
        if v == "-":
            for first, lines in line_batches(sys.stdin.buffer):
                for i, raw in enumerate(lines, first):
                    for tok in line_tokens(raw, i):
                        emit(tok, f"-:{i}")
                out.flush()
        else:
            argno += 1
            for tok in tokens_from_args([v]):
                emit(tok, f"argument {argno}")
    out.flush()
    sys.exit(status)


# --- profiles ---------------------------------------------------------------------------

@main.command()
@click.option("--arch", type=click.Choice(["x86_64", "arm64"]), help="Only this arch.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def profiles(arch, as_json):
    """List the layout eras the tables know: what changes at which release, and where from.

    \b
    Examples:
      uffdpte profiles --arch arm64
      uffdpte profiles --json | jq '.arches.x86_64[] | select(.verified == false)'
    """
    from .eras import changes, release_label
    from .profile import SYMBOLS

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
