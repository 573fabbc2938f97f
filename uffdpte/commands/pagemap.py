"""uffdpte pagemap: what the running kernel says about a process's pages.

Exit status: 0 done; 1 a runtime error (no such process, permission denied, the process
exited mid-read, a range outside every mapping, --written without PAGEMAP_SCAN), each one
line on stderr with nothing half-printed; 2 usage error; 130 interrupted; 141 stdout
closed early.
"""

from __future__ import annotations

import os
import sys

import click

from ..cli import EXIT_OK, _err, color_option, complete_config, terminal_view

EXIT_RUNTIME = 1
#: records buffered before a write: errors found later discard what is not yet written
FLUSH_EVERY = 4096


@click.command("pagemap")
@click.argument("pid", metavar="PID|self", shell_complete=lambda ctx, param, inc: _pids(inc))
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option("--json", "as_json", is_flag=True,
              help="JSON Lines: one record per page (or per range with --ranges, per VMA "
                   "with --summary).")
@click.option("--ranges", "layout", flag_value="ranges",
              help="Group consecutive pages that read the same (default on a terminal).")
@click.option("--pages", "layout", flag_value="pages",
              help="One line per page (default in a pipe and with --json).")
@click.option("--summary", is_flag=True,
              help="Counts per VMA: present, swapped, uffd-wp, markers, zero page, huge "
                   "(the default without RANGE).")
@click.option("--scan/--no-scan", default=None,
              help="Show PAGEMAP_SCAN categories (6.7+) in text output / never call the "
                   "ioctl.  By default it is used quietly for written, zero-page and huge.")
@click.option("--written", is_flag=True,
              help="Only pages written since they were write-protected: PAGE_IS_WRITTEN "
                   "in VMAs with async uffd-wp (PAGE_IS_WPALLOWED).  Needs PAGEMAP_SCAN.")
@color_option
@click.option("--config", multiple=True, metavar="PRESET|NAME=y|n",
              shell_complete=complete_config,
              help="The running kernel's config, for naming special swap types (default: "
                   "/proc/config.gz or /boot/config-RELEASE, else preset 'all').")
def command(pid, range_, as_json, layout, summary, scan, written, color, config):
    """Read /proc/PID/pagemap (and PAGEMAP_SCAN) for a live process, decoded.

    RANGE is START-END (hex, END exclusive), START+SIZE (0xHEX, or bytes with K/M/G),
    one ADDRESS (one page), or a mapping name such as [heap] or [stack].  Without RANGE
    every mapping is summarised.  PFNs need CAP_SYS_ADMIN: without it they are null.
    Exit status: 0 done, 1 no such process / permission denied / exited mid-read /
    range outside every mapping, 2 usage error.

    \b
    Examples:
      uffdpte pagemap 1234
      uffdpte pagemap 1234 0x7f0000000000-0x7f0000100000 --json
      uffdpte pagemap self '[stack]' --ranges
      uffdpte pagemap 1234 --scan --written
    """
    from ..pagemap.maps import parse_range
    from ..pagemap.read import PagemapError, Session, parse_pid
    from ..profile import ProfileError
    from ..streams import Output

    try:
        target = parse_pid(pid)
        where = parse_range(range_, os.sysconf("SC_PAGE_SIZE")) if range_ else None
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if written and scan is False:
        raise click.UsageError("--written needs PAGEMAP_SCAN: drop --no-scan")
    if summary and layout:
        raise click.UsageError(f"--summary and --{layout} do not combine")
    if not summary and where is None and not written and not layout:
        summary = True  # "every mapping, summarised per VMA"
    term, colour = (False, False) if as_json else terminal_view(color)
    if layout is None:
        layout = "ranges" if term else "pages"

    # Notes wait for the output they explain: written just before each batch of it, and
    # dropped with the unwritten batch when an error ends the run (one line, nothing else).
    notes: list[str] = []

    class NotedOutput(Output):
        def flush(self) -> None:
            for t in notes:
                _err(f"note: {t}")
            notes.clear()
            super().flush()

    out = NotedOutput()
    try:
        with Session(target, use_scan=scan is not False, config=",".join(config) or None,
                     note=notes.append) as s:
            if s.scanner is None and scan is not False:
                if written:
                    raise PagemapError(f"--written needs PAGEMAP_SCAN, unavailable here: "
                                       f"{s.scan_reason}")
                s.note(f"PAGEMAP_SCAN unavailable: {s.scan_reason}; showing pagemap alone "
                       "(written, zero-page and huge are null)")
            if where is None:
                pieces = [(m, m.start, m.end) for m in s.vmas]
            elif isinstance(where, str):
                pieces = s.named(where)
            else:
                pieces = s.pieces(*where)
            _emit(s, pieces, out, as_json=as_json, layout=layout, summary=summary,
                  show_scan=bool(scan), written=written, term=term, colour=colour)
    except ProfileError as e:  # a --config the tables cannot honour
        raise click.UsageError(str(e)) from None
    except PagemapError as e:
        out.parts.clear()  # nothing half-printed: drop what is not yet written
        notes.clear()
        _err(str(e))
        sys.exit(EXIT_RUNTIME)
    out.flush()
    sys.exit(EXIT_OK)


def _pids(incomplete: str) -> list:
    """Shell completion: self and the running processes, with their names."""
    from click.shell_completion import CompletionItem
    out = [CompletionItem("self")] if "self".startswith(incomplete) else []
    for d in os.listdir("/proc"):
        if d.isdigit() and d.startswith(incomplete):
            try:
                with open(f"/proc/{d}/comm") as f:
                    out.append(CompletionItem(d, help=f.read().strip()))
            except OSError:
                continue
    return out


def _emit(s, pieces, out, *, as_json: bool, layout: str, summary: bool, show_scan: bool,
          written: bool, term: bool, colour: bool) -> None:
    from ..pagemap import render
    from ..pagemap.read import Counts, ranges
    from ..pagemap.reading import page_records, record

    ctx, shift, pid = s.ctx, s.page_shift, s.pid
    table = term and not as_json  # header and totals: for people, not for awk

    def add(text: str) -> None:
        out.add(text)
        if len(out.parts) >= FLUSH_EVERY:
            out.flush()

    def runs():
        matched = named = False
        for run in s.runs(pieces):
            r = run.reading
            if written and not r.written_since_wp:
                continue
            if r.swp_type is not None and not named:  # which profile named the swap types
                s.note(s.running.assumption)
                named = True
            matched = True
            yield run
        if written and not matched:
            s.note("no page written since write-protection here (PAGE_IS_WRITTEN counts only "
                   "in VMAs with async uffd-wp, PAGE_IS_WPALLOWED, and none matched)")

    if summary:
        if table:
            add(render.summary_header())
        total = Counts(s.scanner is not None)
        cur_vma, counts = None, None
        kernel = ctx.profile.kernel.text

        def done() -> None:
            if as_json:
                add(render.json_line(render.summary_record(cur_vma, counts.c, pid, kernel,
                                                           s.scanner is not None)))
            else:
                add(render.summary_row(cur_vma, counts.c))

        for run in runs():
            if run.vma is not cur_vma:
                if cur_vma is not None:
                    done()
                cur_vma, counts = run.vma, Counts(s.scanner is not None)
            counts.add(run.reading, run.pages)
            total.add(run.reading, run.pages)
        if cur_vma is not None:
            done()
        if table:
            add(render.summary_row(None, total.c))
        return

    if layout == "ranges":
        cur_vma = None
        for vma, addr, pages, r, first in ranges(runs(), shift):
            if as_json:
                add(render.json_line(record(ctx, r, first, addr, pages, vma, pid)))
                continue
            if vma is not cur_vma:
                add(render.vma_header(vma, colour))
                cur_vma = vma
            add(render.range_line(r, first, addr, pages, shift, scan=show_scan,
                                  colour=colour))
        return

    for run in runs():
        r, vma = run.reading, run.vma
        if as_json:
            for d in page_records(ctx, r, run.values, run.addr, vma, pid):
                add(render.json_line(d))
            continue
        for line in render.page_lines(r, run.values, run.addr, shift, vma, scan=show_scan):
            add(line)
