"""uffdpte scan: kernel text in (dmesg, oops reports, mails, crash sessions), every entry
value it prints decoded in place."""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_OK, EXIT_REJECTED, _err, make_profile, profile_options
from ..streams import RawOutput


def _print_summaries(stats, as_json: bool, out: RawOutput) -> None:
    """One summary per (profile, level) the text used, with the message counts."""
    from ..summary import plain
    kinds = dict(sorted(stats.values.items()))
    for (_, level), summ in stats.summaries.items():
        d = summ.to_dict()
        d["messages"] = kinds
        if as_json:
            import json
            text = json.dumps(d, ensure_ascii=False)
        else:
            text = plain(d) + "\nmessages    " + (", ".join(f"{k} {n}" for k, n in
                                                        kinds.items()) or "-") + "\n"
        out.write(text.encode() + b"\n")
    if not stats.summaries and not as_json:
        out.write(b"no entry values found\n")


@click.command("scan")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
@profile_options
@click.option("--json", "as_json", is_flag=True,
              help="JSON Lines: one object per value (decode's keys plus source, line, "
                   "column, message, profile_source, crosscheck).")
@click.option("--only", is_flag=True, help="Print only the decodes (FILE:LINE:COL: ...), "
                                           "not the text.")
@click.option("--follow", "-f", is_flag=True,
              help="Input is still being written (dmesg -w): decode waiting values when "
                   "the input pauses.")
@click.option("--alternatives/--no-alternatives", default=True,
              help="List readings under profiles neither the text nor the options pin "
                   "(default on).")
@click.option("--summary", is_flag=True,
              help="Counts instead of the text: states, swap types, markers, flags and PFN "
                   "range per profile the text used, and values per message kind (one JSON "
                   "object per profile with --json).")
@click.option("--stats/--no-stats", "stats_opt", default=None,
              help="Values per message kind and skipped fragments on stderr at the end "
                   "(default: when stderr is a terminal).")
def command(files, arch, kernel, config, page_size, pa_bits, levels, scheme, as_json, only,
            follow, alternatives, summary, stats_opt):
    """Find and decode every page-table entry value in kernel text.

    Reads FILES (or stdin, '-'): dmesg output, oops and syzbot reports, mails (quoted,
    quoted-printable), journal and syslog files, crash sessions.  Each value is decoded
    with the profile its report names (the CPU: ... line, the arm64 pgtable header,
    the message's shape); options pin and override what the text says.

    \b
    Examples:
      dmesg | uffdpte scan
      uffdpte scan --only oops.txt
      dmesg -w | uffdpte scan --follow
      uffdpte scan --summary dump.txt
    """
    from ..scan import ANNOTATE, JSON, ONLY, SUMMARY, Pins, Scanner, Stats, scan_stream

    if summary and only:
        raise click.UsageError("--summary and --only exclude each other")
    if as_json and only:
        raise click.UsageError("--json and --only exclude each other (--json prints only "
                               "the values already)")
    # validate the options now: a combination no arch can honour is a usage error (the
    # arch itself may come from the text, so an unpinned one is tried both ways)
    tried: list[Exception] = []
    for a in ([arch] if arch else [None, "x86_64", "arm64"]):
        try:
            make_profile(a, kernel, config, page_size, pa_bits, levels, scheme)
            break
        except click.UsageError as e:
            tried.append(e)
    else:
        raise tried[0]
    pins = Pins(arch=arch.lower() if arch else None, kernel=kernel,
                config=",".join(config) if config else None,
                page_size=page_size.lower() if page_size else None,
                pa_bits=int(pa_bits) if pa_bits else None,
                levels=int(levels) if levels else None,
                scheme=scheme.lower() if scheme else None)
    mode = SUMMARY if summary else JSON if as_json else ONLY if only else ANNOTATE
    if not files:
        if sys.stdin is None or sys.stdin.isatty():
            raise click.UsageError("no input: give files, or pipe text to stdin "
                                   "(dmesg | uffdpte scan)")
        files = ("-",)
    if stats_opt is None:
        stats_opt = sys.stderr.isatty()

    out = RawOutput()
    stats = Stats()
    status = EXIT_OK
    for name in files:
        scanner = Scanner(name, pins, mode, alternatives, out.write, stats)
        if name == "-" and sys.stdin is None:
            status = EXIT_REJECTED
            _err("scan: -: stdin is closed")
        elif name == "-":
            scan_stream(sys.stdin.buffer, scanner, follow=follow, flush=out.flush)
        else:
            try:
                stream = open(name, "rb")
            except OSError as e:
                status = EXIT_REJECTED
                _err(f"scan: {name}: {e.strerror or e}")
                continue
            with stream:
                try:
                    scan_stream(stream, scanner, follow=follow, flush=out.flush)
                except OSError as e:  # EISDIR on read, EIO
                    status = EXIT_REJECTED
                    scanner.close()
                    _err(f"scan: {name}: {e.strerror or e}")
        out.flush()
    if summary:
        _print_summaries(stats, as_json, out)
    out.flush()
    if stats_opt:
        for note in stats.notes:
            _err(f"note: {note}")
        for line in stats.summary():
            _err(line)
    sys.exit(status)
