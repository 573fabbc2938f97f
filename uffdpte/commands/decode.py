"""uffdpte decode: raw values in, one record out per value.

Plain lines when stdout is not a terminal (the greppable interface), the rich view on a
terminal; :func:`uffdpte.cli.terminal_view` decides, for every command.
"""

from __future__ import annotations

import sys

import click

from ..cli import (EXIT_OK, EXIT_REJECTED, _err, color_option, make_profile, profile_options,
                   terminal_view)

#: lines decoded between writes: a junk value's record with every alternative can be tens of
#: kilobytes, and the output of one 64 KiB read must not grow without bound
FLUSH_LINES = 512


@click.command("decode")
@click.argument("values", nargs=-1)
@profile_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per value.")
@click.option("--alternatives/--no-alternatives", default=True,
              help="List readings under profiles you did not pin (default on).")
@color_option
@click.option("--brief", is_flag=True, help="One line per value, even on a terminal.")
@click.option("--level", type=click.Choice(["pte", "pmd", "pud", "p4d", "pgd"]), default="pte",
              show_default=True, help="Page-table level of the values (a 'pmd:' prefix on a "
              "value overrides it).")
@click.option("--summary", is_flag=True,
              help="Counts instead of one record per value: states, swap types, markers, "
                   "flags, PFN range (a table on a terminal, text in a pipe, one JSON object "
                   "per level with --json).")
@click.option("--swp-entry", is_flag=True,
              help="The values are swp_entry_t (type << 58 | offset, as 'Bad swap file entry' "
                   "prints them), not raw entries: decode the PTE they stand for.")
def command(values, arch, kernel, config, page_size, pa_bits, levels, scheme, as_json,
            alternatives, color, brief, level, summary, swp_entry):
    """Decode raw PTE values: hex, with or without 0x, as arguments or on stdin (-).

    On a terminal: the field map, fields, predicates, problems and alternatives of each
    value (a compact block each when there are several); in a pipe: one line per value.

    \b
    Examples:
      uffdpte decode 0x8000000071c00227
      uffdpte decode --arch arm64 --kernel 6.12 0x17c0
      dmesg | grep -o 'pte:[0-9a-f]*' | cut -d: -f2 | uffdpte decode --json -
      uffdpte decode --summary - < pagetable-dump.txt
    """
    from ..classify import classifier_for, decoder_for
    from ..render.plain import line as plain_line
    from ..streams import Output
    from ..tokens import _HEXDIGITS, Token, line_tokens, show, tokens_from_args, value_batches

    profile = make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme)
    default_level = level
    term, colour = (False, False) if as_json else terminal_view(color)
    # each argument tokenized once (a terminal needs the count before the first value)
    args = [None if v == "-" else list(tokens_from_args([v])) for v in values]
    if as_json:
        from ..render.jsonl import line as render
    elif term:
        # rich is imported here and only here: a pipe never pays for it
        from ..render.term import Renderer
        several = None in args or sum(map(len, args)) != 1  # type: ignore[arg-type]
        render = Renderer(colour=colour, compact=several, brief=brief).render
    else:
        render = plain_line
    for note in profile.notes:
        _err(f"note: {note}")

    stdin = sys.stdin  # None when fd 0 is closed
    if not values and (stdin is None or stdin.isatty()):
        raise click.UsageError("no values given (pass hex values, or '-' to read stdin)")
    out = Output()
    rejected = 0  # tokens refused, each named on stderr
    stdin_closed = False
    pte_decoder = decoder_for(profile, "pte") if swp_entry else None

    def reject(where: str, tok: Token, why: str) -> None:
        nonlocal rejected
        rejected += 1
        _err(f"{where}: {show(tok.text, tok.size)}: {why}")

    def emit(tok: Token, where: str) -> None:
        if tok.value is None:
            reject(where, tok, tok.error)
            return
        value = tok.value
        if swp_entry:  # swp_entry_t -> the raw PTE __swp_entry() would build
            value, t, off, unfit = pte_decoder.swp_entry_check(value)
            if unfit:
                reject(where, tok, f"not a swp_entry_t this profile's swap PTE can hold "
                       f"(type {t}, offset {off:#x}): {'; '.join(unfit)}")
                return
        lv = tok.level or default_level
        if summary:
            summaries_for(lv).add(value)
            return
        clf = classifier_for(profile, lv, alternatives)  # cached
        out.add(render(clf.decode(value, tok.text), alternatives=alternatives))

    summaries: dict = {}

    def summaries_for(lv: str):
        if lv not in summaries:
            from ..summary import Summary  # only --summary pays for it
            summaries[lv] = Summary(classifier_for(profile, lv, True))
        return summaries[lv]

    if summary:
        summaries_for(default_level)  # printed even when no value arrives
    argno = 0
    # the common line, one bare hex value, skips the tokenizer (same rule, tested equal);
    # plain output then skips the Entry object too
    fast_clf = classifier_for(profile, default_level, alternatives)
    fast = fast_clf.decode
    record, primary = fast_clf.record, fast_clf.primary
    if render is plain_line:
        from ..render.plain import record_line

        def fast_line(value: int, token: str) -> str:
            r, alts = record(value)
            return record_line(primary, r, alts, value, alternatives)
    elif as_json:
        from ..render.jsonl import record_line as json_line

        def fast_line(value: int, token: str) -> str:
            r, alts = record(value)
            return json_line(primary, r, alts, value, token, alternatives, plain_token=True)
    else:
        def fast_line(value: int, token: str) -> str:
            return render(fast(value, token), alternatives=alternatives)
    parts = out.parts
    for arg in args or [None]:
        if arg is None and stdin is None:
            stdin_closed = True
            _err("-: stdin is closed")
        elif arg is None:
            for first, item in value_batches(stdin.buffer):
                if type(item) is not bytes:  # a token too long to keep: already judged
                    emit(item, f"-:{first}")
                    out.flush()
                    continue
                if summary and not swp_entry and \
                        summaries_for(default_level).add_chunk(item):
                    continue  # a chunk of bare hex values, counted in bulk
                lines = item.split(b"\n")
                for at in range(0, len(lines), FLUSH_LINES):
                    for i, raw in enumerate(lines[at:at + FLUSH_LINES], first + at):
                        word = raw.strip()
                        if 0 < len(word) <= 16 and not (swp_entry or summary) and \
                                not word.translate(None, _HEXDIGITS):
                            parts.append(fast_line(int(word, 16), word.decode()))
                            continue
                        for tok in line_tokens(raw, i):
                            emit(tok, f"-:{i}")
                    out.flush()
        else:
            argno += 1
            for tok in arg:
                emit(tok, f"argument {argno}")
    if summary:
        from ..summary import show as summary_text
        summaries[default_level].rejected = rejected  # (rejected tokens have no level)
        for summ in summaries.values():
            out.add(summary_text(summ.to_dict(), as_json, term, colour))
    out.flush()
    sys.exit(EXIT_REJECTED if rejected or stdin_closed else EXIT_OK)
