"""uffdpte decode: raw values in, one record out per value."""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_OK, EXIT_REJECTED, _err, make_profile, profile_options


@click.command("decode")
@click.argument("values", nargs=-1)
@profile_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per value.")
@click.option("--alternatives/--no-alternatives", default=True,
              help="List readings under profiles you did not pin (default on).")
def command(values, arch, kernel, config, page_size, pa_bits, levels, scheme, as_json,
           alternatives):
    """Decode raw PTE values: hex, with or without 0x, as arguments or on stdin (-).

    \b
    Examples:
      uffdpte decode 0x8000000071c00227
      uffdpte decode --arch arm64 --kernel 6.12 0x17c0
      dmesg | grep -o 'pte:[0-9a-f]*' | cut -d: -f2 | uffdpte decode --json -
    """
    from ..classify import classifier_for
    from ..streams import Output, line_batches
    from ..tokens import Token, line_tokens, tokens_from_args

    profile = make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme)
    clf = classifier_for(profile, "pte", alternatives)
    if as_json:
        from ..render.jsonl import line as render
    else:
        from ..render.plain import line as render
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
