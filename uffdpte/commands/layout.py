"""uffdpte layout: the layout tables of a profile, or what moved between two kernels.

The tables shown are the rows the decoder selected (``Decoder.forms``, ``.types``,
``.marker_bits``), turned into one document; the terminal view, the plain text, ``--json``
and ``--markdown`` are four renderings of that document, so generated documentation can
never disagree with what decode does.
"""

from __future__ import annotations

import difflib
import json
import shutil
from typing import TYPE_CHECKING, Any

import click

from ..cli import _err, color_option, make_profile, profile_options, terminal_view
from ..entry import STATES
from ..layouts.generic import MAX_SWAPFILES_SHIFT

if TYPE_CHECKING:
    from ..classify import Decoder
    from ..layouts.model import Bits
    from ..profile import Profile

#: States that are no layout of their own: why, for the error message.
NOT_A_LAYOUT = {
    "none": "an entry is none when pte_none() holds: no bits set",
    "invalid": "invalid is a verdict on a value, read in the layout of the state it "
               "resembles: decode the value to see why",
}


def _not_a_layout(decoder: "Decoder", state: str) -> str:
    """Why ``state`` has no layout; for none, the bits this profile's pte_none ignores."""
    pr = decoder.presence
    if state != "none" or not pr.none_ignores:
        return NOT_A_LAYOUT[state]
    return (f"{NOT_A_LAYOUT[state]} other than {_bit_names(decoder, pr.none_ignores)}, which "
            f"pte_none ignores ({pr.source})")


def shown_forms(decoder: "Decoder") -> list[str]:
    """The forms worth a layout at the decoder's level: those with rows beyond the presence
    bits (the PTE level has a table form that only names VALID; a PMD's has an address)."""
    presence = decoder.valid | decoder.present_invalid
    return [f for f, form in decoder.forms.items()
            if any(r.mask & ~presence for r in form.rows)]


def _state_names(decoder: "Decoder | None" = None) -> list[str]:
    forms = shown_forms(decoder) if decoder is not None else ["present", "protnone", "swap"]
    return forms + [s for s in STATES if s not in forms and s not in NOT_A_LAYOUT]


def complete_state(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of --state: the forms of the profile on the command line so far."""
    decoder = None
    try:
        from ..classify import decoder_for
        from ..profile import resolve
        decoder = decoder_for(resolve(arch=ctx.params.get("arch"),
                                      kernel=ctx.params.get("kernel")))
    except Exception:  # a half-typed command line: complete from the defaults
        pass
    return [s for s in _state_names(decoder) if s.startswith(incomplete)]


# --- the document -----------------------------------------------------------------------

def _row(r: "Bits") -> dict[str, Any]:
    d: dict[str, Any] = {
        "bits": r.bits_label(), "lo": r.lo, "hi": r.hi, "name": r.name, "macro": r.macro,
        "role": r.role, "short": r.short, "meaning": r.meaning, "kernels": r.era.label(),
        "source": r.era.source, "verified": r.era.verified, "gate": r.gate,
    }
    if r.inverted:
        d["inverted"] = True
    if r.role == "pfn":
        d["pa_lo"] = r.pa_lo
    if r.values:
        d["values"] = {str(k): name for k, name in r.values}
    #: the meaning with its named values, as every rendering prints it
    d["text"] = r.meaning + (" (" + ", ".join(f"{k}={v}" for k, v in r.values) + ")"
                             if r.values else "")
    return d


def _bit_name_map(decoder: "Decoder") -> dict[int, str]:
    """Bits' kernel names in the forms that tell entries apart: the presence rows first
    (bit 11 on arm64 6.10+ is PRESENT_INVALID there, nG in a valid entry), then the one-bit
    rows of the PROT_NONE, present and other forms."""
    from ..render.fieldmap import _presence_rows
    names = {b: r.name for b, r in _presence_rows(decoder).items()}
    for form in ("protnone", "present", *decoder.forms):
        for r in decoder.forms[form].rows:
            if r.lo == r.hi:
                names.setdefault(r.lo, r.name)
    return names


def _bit_names(decoder: "Decoder", mask: int, names: dict[int, str] | None = None) -> str:
    names = _bit_name_map(decoder) if names is None else names
    shown = [f"{names.get(b, 'bit')} (bit {b})" for b in range(64) if mask >> b & 1]
    return " | ".join(shown) or "none"


def presence_facts(decoder: "Decoder") -> dict[str, str]:
    """How the kernel tells the forms apart under this profile (pgtable.h), in words."""
    pr = decoder.presence
    names = _bit_name_map(decoder)
    want = [(b, pr.protnone_want >> b & 1) for b in range(64) if pr.protnone_mask >> b & 1]
    test = ", ".join(f"{_bit_names(decoder, 1 << b, names)} {'set' if on else 'clear'}"
                     for b, on in want)
    return {
        "pte_present": f"{_bit_names(decoder, pr.valid, names)} (valid) or "
                       f"{_bit_names(decoder, pr.present_invalid, names)} (present but invalid)",
        "pte_protnone": "present but invalid, and " + test + (
            "" if decoder.profile.has("numa_balancing")
            else " (but 0 without CONFIG_NUMA_BALANCING)"),
        "PFN of PROT_NONE entries": "stored inverted (L1TF, pgtable-invert.h)"
                                    if pr.invert_pfn else "stored as is",
        "pte_none ignores": (_bit_names(decoder, pr.none_ignores, names)
                             + " (_PAGE_KNL_ERRATUM_MASK: the Knights Landing erratum)"
                             if pr.none_ignores else "nothing: pte_none is !pte_val"),
    }


def _form_presence(decoder: "Decoder", form: str) -> str:
    pr = decoder.presence
    names = _bit_name_map(decoder)
    if form == "present":
        return f"pte_present, valid: {_bit_names(decoder, pr.valid, names)} set"
    if form == "protnone":
        return (f"pte_present but not valid: {_bit_names(decoder, pr.present_invalid, names)} "
                f"set, {_bit_names(decoder, pr.valid, names)} clear")
    if form == "swap":
        both = _bit_names(decoder, pr.valid | pr.present_invalid, names)
        return f"not pte_none, not pte_present: {both} clear"
    return f"{form} entries"


def _types(decoder: "Decoder", state: str | None) -> dict[str, Any]:
    types = [{"type": n, "name": t.name, "state": t.state, "subtype": t.subtype,
              "has_pfn": t.has_pfn, "gate": t.gate, "kernels": t.era.label(),
              "source": t.era.source}
             for n, t in sorted(decoder.types.items())
             if state in (None, "swap") or t.state == state]
    return {"max_swapfiles": decoder.max_swapfiles,
            "devices": f"0-{decoder.max_swapfiles - 1}", "types": types}


def _markers(decoder: "Decoder") -> list[dict[str, Any]]:
    return [{"bit": m.bit, "name": m.name, "macro": m.macro, "meaning": m.meaning,
             "kernels": m.era.label(), "source": m.era.source,
             "in_page_tables": m.in_page_tables} for m in decoder.marker_bits]


def _limits(decoder: "Decoder") -> dict[str, Any]:
    return {"MAX_PHYSMEM_BITS": decoder.physmem_bits, "SWP_PFN_BITS": decoder.swp_pfn_bits,
            "migration A/D in the offset": "yes" if decoder.migration_ad else "no"}


def layout_doc(decoder: "Decoder", state: str | None = None,
               profile: "Profile | None" = None) -> dict[str, Any]:
    """The profile's layout: per form its rows (bit 63 first, as the map reads), the swap
    types and PTE marker bits, and the limits the decoder checks against.  ``profile``: the
    profile as resolved, with where each choice came from (a cached decoder's has none)."""
    from ..render.fieldmap import must_be_zero
    if state is None:
        # a form with no rows at this level (table entries of a PTE) has nothing to show
        forms = shown_forms(decoder)
    elif state in decoder.forms and state in shown_forms(decoder):
        forms = [state]
    else:
        forms = ["swap"]
    p = profile or decoder.profile
    doc: dict[str, Any] = {
        "title": f"Layout of {decoder.level} entries: {p.label()}",
        "profile": p.to_dict(),
        "presence": {"source": decoder.presence.source, **presence_facts(decoder)},
        "forms": [{"form": f, "presence": _form_presence(decoder, f),
                   "must_be_zero": f"0x{must_be_zero(decoder, f):016x}",
                   "rows": [_row(r) for r in sorted(decoder.forms[f].rows,
                                                    key=lambda r: (-r.hi, -r.lo))]}
                  for f in forms],
        "limits": _limits(decoder),
        "swap_types": None,
        "marker_bits": None,
    }
    # how entries are told apart and the limits decode checks, as every rendering lists them
    doc["facts"] = ([(k, v) for k, v in doc["presence"].items() if k != "source"]
                    + [("source", doc["presence"]["source"])]
                    + [(k, str(v)) for k, v in doc["limits"].items()])
    if "swap" in forms:
        doc["swap_types"] = _types(decoder, state)
        if state in (None, "swap", "marker"):
            doc["marker_bits"] = _markers(decoder)
    return doc


# --- what moved between two kernels ---------------------------------------------------------

Line = tuple[str, str, str]  # sign (+ - ~), what, source


def _row_key(r: "Bits") -> tuple[str, str]:
    return (r.name, r.macro)


def _row_text(r: "Bits") -> str:
    extra = ", inverted" if r.inverted else ""
    return f"{r.macro} {r.name} bit{'s' if r.width > 1 else ''} {r.bits_label()} ({r.role}{extra})"


def _source(era) -> str:
    return f"{era.label()}: {era.source}"


def _form_diff(old: "Decoder", new: "Decoder", form: str) -> list[Line]:
    a = {_row_key(r): r for r in old.forms[form].rows} if form in old.forms else {}
    b = {_row_key(r): r for r in new.forms[form].rows} if form in new.forms else {}
    out: list[tuple[int, Line]] = []
    for k, r in a.items():
        if k not in b:
            out.append((r.hi, ("-", _row_text(r), _source(r.era))))
    for k, r in b.items():
        if k not in a:
            out.append((r.hi, ("+", _row_text(r), _source(r.era))))
            continue
        o = a[k]
        changes = []
        if (o.lo, o.hi) != (r.lo, r.hi):
            changes.append(f"bits {o.bits_label()} → {r.bits_label()}")
        if o.role != r.role:
            changes.append(f"role {o.role} → {r.role}")
        if o.inverted != r.inverted:
            changes.append("now stored inverted" if r.inverted else "no longer inverted")
        if o.values != r.values:
            ov, nv = dict(o.values), dict(r.values)
            changes.append("values " + ", ".join(
                f"{n}: {ov.get(n, '-')} → {nv.get(n, '-')}" for n in sorted(ov.keys() | nv.keys())
                if ov.get(n) != nv.get(n)))
        if changes:
            out.append((r.hi, ("~", f"{r.macro} {r.name}: " + "; ".join(changes),
                               _source(r.era))))
    return [line for _, line in sorted(out, key=lambda x: -x[0])]


def _facts_diff(old: dict[str, str], new: dict[str, str], source: str) -> list[Line]:
    return [("~", f"{k}: {old.get(k, '-')} → {new.get(k, '-')}", source)
            for k in new if old.get(k) != new.get(k)]


def diff_doc(old: "Decoder", new: "Decoder",
             profiles: "tuple[Profile, Profile] | None" = None) -> dict[str, Any]:
    """Rows added, removed and moved per form; PROT_NONE handling; swap type numbering;
    marker bits; limits -- each change with the source of the row that holds now.
    ``profiles``: the two as resolved, with their provenance (as for layout_doc)."""
    sections: list[tuple[str, list[Line]]] = []
    a, b = shown_forms(old), shown_forms(new)
    for f in a + [f for f in b if f not in a]:
        sections.append((f"{f} entries", _form_diff(old, new, f)))

    sections.append(("presence and PROT_NONE", _facts_diff(
        presence_facts(old), presence_facts(new), _source(new.presence.era))))

    types: list[Line] = []
    if old.max_swapfiles != new.max_swapfiles:
        types.append(("~", f"MAX_SWAPFILES {old.max_swapfiles} → {new.max_swapfiles}: swap "
                      f"devices 0-{new.max_swapfiles - 1}", ""))
    for n in range(min(old.max_swapfiles, new.max_swapfiles), 1 << MAX_SWAPFILES_SHIFT):
        a, b = old.types.get(n), new.types.get(n)
        an = a.name if a else "swap device"
        bn = b.name if b else "swap device"
        if an != bn:
            src = _source(b.era) if b else _source(a.era) if a else ""
            types.append(("~", f"type {n}: {an} → {bn}", src))
    sections.append(("swap type numbering", types))

    markers: list[Line] = []
    am = {m.bit: m for m in old.marker_bits}
    bm = {m.bit: m for m in new.marker_bits}
    for bit in sorted(am.keys() | bm.keys()):
        a, b = am.get(bit), bm.get(bit)
        if a and not b:
            markers.append(("-", f"{a.macro} = BIT({bit})", _source(a.era)))
        elif b and not a:
            markers.append(("+", f"{b.macro} = BIT({bit})", _source(b.era)))
        elif a and b and a.macro != b.macro:
            markers.append(("~", f"BIT({bit}): {a.macro} → {b.macro}", _source(b.era)))
    sections.append(("PTE marker bits", markers))

    la, lb = _limits(old), _limits(new)
    sections.append(("limits", [("~", f"{k}: {la[k]} → {lb[k]}", "") for k in lb
                                if la.get(k) != lb[k]]))
    return {"title": f"What moved: {old.profile.label()} → {new.profile.label()}",
            "from": (profiles or (old.profile, new.profile))[0].to_dict(),
            "to": (profiles or (old.profile, new.profile))[1].to_dict(), "sections": sections}


def diff_json(doc: dict[str, Any]) -> dict[str, Any]:
    kinds = {"+": "added", "-": "removed", "~": "changed"}
    return {"from": doc["from"], "to": doc["to"],
            "sections": {title: [{"change": kinds[s], "what": w, "source": src}
                                 for s, w, src in lines] for title, lines in doc["sections"]}}


# --- plain text and markdown ------------------------------------------------------------------

def plain_layout(doc: dict[str, Any], decoder: "Decoder", width: int) -> str:
    """For pipes: ASCII map, one line per row with its source below; no escape codes."""
    from ..render.fieldmap import ASCII, FieldMap
    out = [doc["title"], ""] + [f"  {k}: {v}" for k, v in doc["facts"]]
    for form in doc["forms"]:
        out += ["", f"== {form['form']} ==  {form['presence']}", "",
                FieldMap(decoder, form["form"]).text(width, ASCII), ""]
        for r in form["rows"]:
            out.append(f"{r['bits']:>6}  {r['name']:<16} {r['role']:<7} {r['text']}")
            out.append(f"{'':8}{r['macro']}; {r['kernels']}: {r['source']}")
    out += _plain_extras(doc)
    return "\n".join(out)


def _plain_extras(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    st = doc.get("swap_types")
    if st is not None:
        out += ["", f"== swap types ==  MAX_SWAPFILES {st['max_swapfiles']}: swap devices "
                f"{st['devices']}"]
        for t in st["types"]:
            out.append(f"{t['type']:>6}  {t['name']:<30} {t['subtype']}")
            out.append(f"{'':8}{t['kernels']}: {t['source']}")
    if doc.get("marker_bits") is not None:
        out += ["", "== PTE marker bits ==  in the offset of a SWP_PTE_MARKER entry"]
        for m in doc["marker_bits"]:
            out.append(f"{m['bit']:>6}  {m['macro']:<30} {m['meaning']}")
            out.append(f"{'':8}{m['kernels']}: {m['source']}")
    return out


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_layout(doc: dict[str, Any], decoder: "Decoder") -> str:
    """Documentation generated from the tables: per form, the map and a table of rows."""
    from ..render.fieldmap import ASCII, FieldMap
    out = [f"# {doc['title']}", ""] + [f"- {k}: {_md(v)}" for k, v in doc["facts"]] + [""]
    for form in doc["forms"]:
        out += [f"## {form['form']}", "", form["presence"] + ".", "", "```text",
                FieldMap(decoder, form["form"]).text(100, ASCII), "```", "",
                "| bits | name | macro | role | meaning | kernels | source |",
                "|-:|-|-|-|-|-|-|"]
        for r in form["rows"]:
            out.append(f"| {r['bits']} | {r['name']} | `{r['macro']}` | {r['role']} | "
                       f"{_md(r['text'])} | {r['kernels']} | {_md(r['source'])} |")
        out.append("")
    st = doc.get("swap_types")
    if st is not None:
        out += ["## swap types", "", f"MAX_SWAPFILES {st['max_swapfiles']}: swap devices "
                f"{st['devices']}.", "", "| type | name | state | kernels | source |",
                "|-:|-|-|-|-|"]
        out += [f"| {t['type']} | `{t['name']}` | {t['subtype']} | {t['kernels']} | "
                f"{_md(t['source'])} |" for t in st["types"]]
        out.append("")
    if doc.get("marker_bits") is not None:
        out += ["## PTE marker bits", "", "| bit | macro | meaning | kernels | source |",
                "|-:|-|-|-|-|"]
        out += [f"| {m['bit']} | `{m['macro']}` | {_md(m['meaning'])} | {m['kernels']} | "
                f"{_md(m['source'])} |" for m in doc["marker_bits"]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def plain_diff(doc: dict[str, Any]) -> str:
    out = [doc["title"]]
    for title, lines in doc["sections"]:
        out += ["", f"== {title} =="]
        if not lines:
            out.append("  no change")
        for sign, what, source in lines:
            out.append(f"  {sign} {what}")
            if source:
                out.append(f"      {source}")
    return "\n".join(out)


def markdown_diff(doc: dict[str, Any]) -> str:
    out = [f"# {doc['title']}"]
    for title, lines in doc["sections"]:
        out += ["", f"## {title}", ""]
        if not lines:
            out.append("No change.")
        for sign, what, source in lines:
            out.append(f"- **{sign}** {_md(what)}" + (f" — {_md(source)}" if source else ""))
    return "\n".join(out) + "\n"


# --- the command ------------------------------------------------------------------------------

@click.command("layout")
@profile_options
@click.option("--state", metavar="STATE", shell_complete=complete_state,
              help="Only this state's layout: present, protnone, swap, migration, device, "
                   "hwpoison, marker, ...")
@click.option("--diff", nargs=2, metavar="OLD NEW",
              help="What moved between two kernel versions (other profile options apply "
                   "to both).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (the same tables).")
@click.option("--markdown", is_flag=True, help="Markdown: documentation from the tables.")
@color_option
def command(arch, kernel, config, page_size, pa_bits, levels, scheme, state, diff, as_json,
            markdown, color):
    """Show a profile's layout tables (field map and rows with their kernel sources), or what
    moved between two kernels.

    \b
    Examples:
      uffdpte layout --arch x86_64 --kernel 6.12 --state swap
      uffdpte layout --diff 6.1 6.12 --arch arm64
      uffdpte layout --arch arm64 --markdown > docs/arm64-layout.md
    """
    from ..classify import decoder_for

    if as_json and markdown:
        raise click.UsageError("--json and --markdown are two exports: choose one")
    if diff and kernel:
        raise click.UsageError("--diff names both kernels: drop --kernel")
    if diff and state:
        raise click.UsageError("--diff compares every state: drop --state")

    term, colour = (False, False) if (as_json or markdown) else terminal_view(color)
    if diff:
        profiles = tuple(make_profile(arch, k, config, page_size, pa_bits, levels, scheme)
                         for k in diff)
        doc = diff_doc(decoder_for(profiles[0]), decoder_for(profiles[1]),
                       profiles)  # type: ignore[arg-type]
        if as_json:
            click.echo(json.dumps(diff_json(doc), indent=1, ensure_ascii=False))
        elif markdown:
            click.echo(markdown_diff(doc), nl=False)
        elif term:
            from ..render.term import diff_view, make_console
            make_console(colour=colour).print(diff_view(doc))
        else:
            click.echo(plain_diff(doc))
        return

    profile = make_profile(arch, kernel, config, page_size, pa_bits, levels, scheme)
    for note in profile.notes:
        _err(f"note: {note}")
    decoder = decoder_for(profile)
    if state is not None:
        state = state.lower()
        if state in NOT_A_LAYOUT:
            raise click.UsageError(f"--state {state}: {_not_a_layout(decoder, state)}")
        names = _state_names(decoder)
        if state not in names:
            close = difflib.get_close_matches(state, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"--state {state!r}: expected one of {', '.join(names)}."
                                   + hint)
    doc = layout_doc(decoder, state, profile)
    if as_json:
        click.echo(json.dumps(doc, indent=1, ensure_ascii=False))
    elif markdown:
        click.echo(markdown_layout(doc, decoder), nl=False)
    elif term:
        from ..render.fieldmap import FieldMap
        from ..render.term import layout_view, make_console
        console = make_console(colour=colour)
        maps = {f["form"]: FieldMap(decoder, f["form"]) for f in doc["forms"]}
        console.print(layout_view(doc, maps, console.width))
    else:
        click.echo(plain_layout(doc, decoder, shutil.get_terminal_size((100, 24)).columns))
