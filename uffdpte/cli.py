"""The ``uffdpte`` command: a thin layer from options to the library and a renderer.

Exit status: 0 every value decoded; 1 some input was rejected (each named on stderr, the
rest still decoded); 2 usage error (bad option, impossible profile); 130 interrupted;
141 stdout closed early (``| head``), as a filter killed by SIGPIPE reports.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Callable

import click

from . import __version__
from .kver import NEWEST_TEXT
from .profile import PAGE_SIZES, PRESETS, SCHEMES, Profile, ProfileError, resolve

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

def _err(msg: str) -> None:
    if sys.stderr is not None:  # fd 2 closed: nowhere to say it
        click.echo(f"uffdpte: {msg}", err=True)


# --- shell completion (click's mechanism: _UFFDPTE_COMPLETE=bash_source|zsh_source|fish_source)

def complete_kernel(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The kernels people run (REFERENCE_KERNELS), "mainline", and every release where the
    tables change, for the arch on the command line so far (else both)."""
    from .eras import changes
    from .kver import version_text
    from .layouts import ARCHES
    from .layouts.model import NEVER
    from .profile import REFERENCE_KERNELS
    arch = ctx.params.get("arch")
    seen: dict[str, tuple] = {}
    for a in [arch] if arch in ARCHES else ARCHES:
        for c in changes(a):
            if c.version != NEVER:
                seen.setdefault(version_text(c.version), c.version)
    for k in REFERENCE_KERNELS:
        seen.setdefault(k, tuple(int(x) for x in (k.split(".") + ["0"])[:3]))
    names = sorted(seen, key=seen.__getitem__) + ["mainline"]
    return [k for k in names if k.startswith(incomplete)]


def complete_config(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Presets and NAME=y / NAME=n, completing the last of a comma-separated list."""
    from .profile import SYMBOLS
    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    words = list(PRESETS) + [f"{n}={v}" for n in SYMBOLS for v in ("y", "n")]
    return [prefix + w for w in words if w.lower().startswith(last.lower())]


def profile_options(f: Callable) -> Callable:
    """--arch/--kernel/--config/--page-size/--pa-bits/--levels/--scheme, shared by commands."""
    opts = [
        click.option("--arch", type=click.Choice(["x86_64", "arm64"], case_sensitive=False),
                     help="Architecture (default: the host's, else x86_64)."),
        click.option("--kernel", metavar="VERSION", shell_complete=complete_kernel,
                     help=f"Kernel version or release string: 6.12, 6.1.0-13-amd64, "
                          f"5.15.0-91-generic, 4.18.0-513.el8.x86_64 (default: {NEWEST_TEXT})."),
        click.option("--config", multiple=True, metavar="PRESET|NAME=y|n",
                     shell_complete=complete_config,
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


COLOR_CHOICES = ("auto", "always", "never")


def terminal_view(color: str, stream: IO[str] | None = None) -> tuple[bool, bool]:
    """(draw the terminal view?, with colour?) for ``--color`` and the environment.

    ``always`` and ``never`` win over the environment (the command line is the most
    specific choice, as no-color.org asks); in ``auto``, FORCE_COLOR makes any stdout a
    terminal, NO_COLOR keeps the view but drops colour, and a pipe gets plain lines."""
    stream = stream if stream is not None else sys.stdout
    try:
        isatty = stream.isatty()
    except (AttributeError, ValueError):
        isatty = False
    if color == "always":
        return True, True
    if color == "never":
        return isatty, False
    no_color = os.environ.get("NO_COLOR", "") != ""
    if os.environ.get("FORCE_COLOR", "") != "":
        return True, not no_color
    dumb = os.environ.get("TERM", "").lower() in ("dumb", "unknown")
    return isatty, isatty and not no_color and not dumb


def color_option(f):
    return click.option(
        "--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
        help="auto: the coloured view on a terminal, plain lines in a pipe (NO_COLOR, "
             "FORCE_COLOR honoured); always; never.")(f)


def make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme) -> Profile:
    try:
        return resolve(arch=arch, kernel=kernel, config=",".join(config) if config else None,
                       page_size=page_size, pa_bits=int(pa_bits) if pa_bits else None,
                       levels=int(levels) if levels else None, scheme=scheme)
    except ProfileError as e:
        raise click.UsageError(str(e)) from None


#: modules under uffdpte.commands, one per command (its docstring is its help); each is
#: imported only when that command runs, so a one-shot decode pays for nothing else.
COMMANDS = ("decode", "encode", "layout", "pagemap", "profiles", "scan", "schemes")


class Group(click.Group):
    """Runs commands as a Unix filter: quiet on EPIPE, 130 on Ctrl-C, no tracebacks.

    Commands are loaded lazily from uffdpte.commands.<name>."""

    def list_commands(self, ctx):  # type: ignore[override]
        return sorted(COMMANDS)

    def resolve_command(self, ctx, args):  # type: ignore[override]
        # "did you mean": click suggests close options itself, not close commands
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.5)
            ctx.fail(f"No such command {name!r}."
                     + (f" Did you mean {close[0]!r}?" if close else ""))
        return super().resolve_command(ctx, args)

    def get_command(self, ctx, name):  # type: ignore[override]
        if name not in COMMANDS:
            return None
        import importlib
        return importlib.import_module(f".commands.{name}", __package__).command

    def main(self, *args, **kwargs):  # type: ignore[override]
        from .streams import EXIT_PIPE, PipeClosed, silence_broken_pipe
        if sys.stdout is None:  # fd 1 closed: no output can be written
            _err("stdout is closed")
            sys.exit(EXIT_REJECTED)
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
@click.version_option(__version__, "--version", prog_name="uffdpte",
                      message=f"%(prog)s %(version)s (tables know kernels up to {NEWEST_TEXT})")
def main() -> None:
    """Decode, encode and classify raw Linux page-table entries (x86_64, arm64).

    \b
    Examples:
      uffdpte decode 0x8000000071c00227
      uffdpte layout --diff 6.1 6.12 --arch arm64
      eval "$(_UFFDPTE_COMPLETE=bash_source uffdpte)"   # shell completion (README)
    """


def run() -> None:
    """The ``uffdpte`` script and ``python -m uffdpte``: :func:`main`, then a fast exit.

    Everything is written and flushed before the exit; skipping the interpreter's teardown
    (freeing every table, decoder and module one by one) saves a one-shot decode about as
    much time as all of its decoding.  Callers that embed :func:`main` (tests, CliRunner)
    keep the normal exit."""
    code: int = 0
    try:
        main()
    except SystemExit as e:
        if isinstance(e.code, str):
            sys.stderr.write(e.code + "\n")
            code = 1
        else:
            code = e.code or 0
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        from .streams import EXIT_PIPE, silence_broken_pipe
        silence_broken_pipe()
        code = code or EXIT_PIPE
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)
