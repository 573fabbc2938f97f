"""The terminal view (rich): a decoded entry as a person reads it mid-debugging, and the
layout explorer.

This is the only module that imports rich, and it is imported only when output goes to a
terminal (or colour is forced): ``uffdpte decode VALUE | cat`` never pays for it.  Every
picture is drawn from the layout rows through :mod:`uffdpte.render.fieldmap`; here they
only get colours, boxes and tables.  User-visible strings are built as ``Text`` and never
parsed as rich markup: problem texts contain brackets (``bits[1:0]``).
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING, Any, Iterable

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .fieldmap import UNICODE, FieldMap, field_rows

if TYPE_CHECKING:
    from ..entry import Entry

#: Colours of the field map's style keys (fieldmap.STYLE_KEYS; a test keeps them equal).
#: Must-be-zero bits that are set are reversed as well as red, so they stand out with
#: NO_COLOR too.
STYLES: dict[str, str] = {
    "bitno": "dim",
    "one": "bold bright_white",
    "zero": "dim",
    "bad": "bold red reverse",
    "flag": "",
    "flag_set": "bold green",
    "pfn": "cyan",
    "type": "magenta",
    "offset": "yellow",
    "field": "blue",
    "ignored": "dim italic",
    "mbz": "red",
    "presence": "dim",
    "undefined": "dim",
    "plain": "",
}

#: The state badge: one colour per state, so a screen of entries sorts itself by eye.
STATE_STYLES: dict[str, str] = {
    "none": "bold black on white",
    "present": "bold black on green",
    "protnone": "bold black on yellow",
    "swap": "bold white on blue",
    "migration": "bold white on magenta",
    "device": "bold black on cyan",
    "hwpoison": "bold white on red",
    "swapin_error": "bold white on red",
    "marker": "bold black on bright_magenta",
    "invalid": "bold white on red",
}

#: The predicates a kernel developer checks first, in the order the kernel asks them;
#: whatever else the decode reports (is_migration_entry, ...) follows.
PREDICATE_ORDER = ("pte_none", "pte_present", "pte_protnone", "is_swap_pte", "pte_uffd_wp",
                   "pte_swp_uffd_wp", "pte_swp_exclusive", "pte_write", "pte_dirty",
                   "pte_young", "pte_soft_dirty", "pte_swp_soft_dirty", "pte_special")


def make_console(*, colour: bool, file: IO[str] | None = None, width: int | None = None,
                 record: bool = False, color_system: str | None = "auto") -> Console:
    """A console for the terminal view.  The caller already decided that this is a terminal
    view (``--color``, NO_COLOR, FORCE_COLOR, isatty): rich is told so rather than left to
    guess again from the environment."""
    console = Console(file=file, width=width, force_terminal=True, no_color=not colour,
                      color_system=color_system if colour else None, highlight=False,
                      emoji=False, markup=False, record=record, soft_wrap=False)
    if colour and console.color_system is None:  # TERM=dumb with --color always
        console = Console(file=file, width=width, force_terminal=True, no_color=False,
                          color_system="standard", highlight=False, emoji=False,
                          markup=False, record=record, soft_wrap=False)
    return console


# --- pieces of the decode view ----------------------------------------------------------------

def styled(text: str, style: str) -> Text:
    """A Text whose style covers this text only: Text(text, style=...) would also colour
    everything appended to it later."""
    t = Text()
    t.append(text, style=style)
    return t


def badge(state: str, subtype: str | None = None) -> Text:
    t = styled(f" {state.upper()} ", style=STATE_STYLES.get(state, "reverse"))
    if subtype and subtype != state:
        t.append(f" {subtype}", style="bold")
    return t


def profile_text(entry: "Entry") -> str:
    """Kernel, config and geometry: what the reading assumes."""
    d = entry.decoder
    p = d.profile
    geometry = (f"{p.page_label} pages, {p.pa_bits}-bit PA" if p.arch == "arm64"
                else f"{p.levels}-level, {d.physmem_bits}-bit PA")
    parts = [p.arch, p.kernel.text, f"config {p.config_label}", geometry]
    if p.scheme != "marker":
        parts.append(f"scheme {p.scheme}")
    if d.level != "pte":
        parts.append(f"{d.level} entry")
    return " · ".join(parts)


def header(entry: "Entry") -> Text:
    t = Text()
    t.append(f"0x{entry.value:016x}", style="bold")
    t.append("  ")
    t.append_text(badge(entry.state, entry.subtype))
    t.append("   ")
    t.append(profile_text(entry), style="dim")
    return t


def map_text(fmap: FieldMap, width: int) -> Text:
    out = Text()
    for i, line in enumerate(fmap.lines(width, UNICODE)):
        if i:
            out.append("\n")
        # one run per style, so the escape codes stay few and the snapshots readable
        run, run_style = "", ""
        for text, key in line:
            style = STYLES.get(key, "")
            if style != run_style and run:
                out.append(run, style=run_style)
                run = ""
            run, run_style = run + text, style
        out.append(run, style=run_style)
    out.rstrip()
    return out


def fields_table(entry: "Entry", fmap: FieldMap) -> Table:
    """Field, bits, raw value, and what the kernel reads there, with the row's meaning
    beneath: the decoded value keeps a line of its own at any width."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("field", no_wrap=True)
    table.add_column("bits", justify="right", no_wrap=True)
    table.add_column("raw", justify="right", no_wrap=True)
    table.add_column("decoded  (meaning)", ratio=1, overflow="fold")
    for r in field_rows(entry, fmap):
        style = STYLES["bad"] if r.style == "bad" else STYLES.get(r.style, "")
        if r.decoded == "set":  # a set flag: its meaning is what it decodes to
            decoded = Text(r.meaning)
        else:
            decoded = styled(r.decoded, style="bold red" if r.style == "bad" else "bold")
            decoded.append("\n" + r.meaning, style="dim")
        table.add_row(Text(r.name, style=style or "bold"), r.bits, r.raw, decoded)
    return table


def _predicates(entry: "Entry") -> list[tuple[str, bool]]:
    preds = dict(entry.predicates)
    ordered = [(k, preds.pop(k)) for k in PREDICATE_ORDER if k in preds]
    return ordered + list(preds.items())


def _columns(cells: list[int], width: int, most: int = 4, gap: int = 2) -> int:
    """How many columns (row-major) the cells fit in, at most ``most``."""
    for cols in range(min(most, len(cells)), 1, -1):
        widths = [max(cells[c::cols]) for c in range(cols)]
        if sum(widths) + gap * (cols - 1) <= width:
            return cols
    return 1


def predicates_grid(entry: "Entry", width: int) -> Table:
    items = _predicates(entry)
    cols = _columns([len(k) + (5 if v else 6) for k, v in items], width)
    grid = Table.grid(padding=(0, 2))
    for _ in range(cols):
        grid.add_column(no_wrap=True)
    for i in range(0, len(items), cols):
        row = []
        for name, val in items[i:i + cols]:
            t = Text(name + " ")
            t.append("true" if val else "false", style="bold green" if val else "dim")
            row.append(t)
        grid.add_row(*row)
    return grid


def differs_text(differs: Iterable[dict[str, str]]) -> str:
    """``kernel 6.6, config debian; 5-level``: the profiles an alternative holds under."""
    return "; ".join(", ".join(v if k == "levels" else f"{k.replace('_', ' ')} {v}"
                               for k, v in d.items()) for d in differs)


def summary(entry: "Entry") -> Text:
    """A reading in one line: state, type, PFN or offset, markers, flags."""
    r = entry.reading
    t = badge(r.state, r.subtype)
    if r.type_name and r.swp_type is not None:
        t.append(f"  {r.type_name}" if r.type_name.startswith("swap device")
                 else f"  type {r.swp_type} {r.type_name}")
    pfn = entry.pfn
    if pfn is not None:
        t.append(f"  pfn {pfn:#x}")
    elif entry.swp_offset is not None:
        off = entry.swp_offset
        t.append(f"  offset {off:#x} ({off})")
    if r.markers:
        t.append("  markers " + ",".join(r.markers))
    if r.flags:
        t.append("  flags " + ",".join(r.flags), style="dim")
    return t


def problems_panel(entry: "Entry") -> Panel:
    body = Text("\n").join(Text("• " + p) for p in entry.problems)
    return Panel(body, title="problems", title_align="left", border_style="red",
                 box=box.ROUNDED, expand=True)


def alternatives_panel(alts: tuple["Entry", ...]) -> Panel:
    lines: list[Text] = []
    # well-formed readings first: they are the ones a reader may have to believe instead
    for a in sorted(alts, key=lambda a: not a.wellformed):
        t = styled(differs_text(a.differs) + ": ", style="bold")
        t.append_text(summary(a))
        if a.problems:
            t.append("\n  " + a.problems[0], style="dim")
        lines.append(t)
    return Panel(Text("\n").join(lines), title="alternatives: profiles you did not pin read it "
                 "differently", title_align="left", border_style="yellow", box=box.ROUNDED,
                 expand=True)


def notes_text(entry: "Entry") -> Text:
    return Text("\n").join(Text("note: " + n, style="dim italic") for n in entry.notes)


def entry_view(entry: "Entry", *, width: int, alternatives: bool = True,
               compact: bool = False) -> RenderableType:
    """The full view of one value, or its compact block when several are shown."""
    parts: list[RenderableType] = [header(entry)]
    fmap = FieldMap.of(entry)
    if fmap is None:
        parts.append(Text("all bits clear: pte_none()", style="dim"))
    else:
        parts.append(map_text(fmap, width))
        if compact:
            parts.append(compact_fields(entry, fmap))
        else:
            parts.append(fields_table(entry, fmap))
    if compact:
        held = [k for k, v in _predicates(entry) if v]
        parts.append(Text("true: " + " ".join(held) if held else "no predicate holds",
                          style="green"))
    else:
        parts.append(predicates_grid(entry, width))
    if entry.problems:
        if compact:
            parts.append(Text("problems: " + "; ".join(entry.problems), style="red"))
        else:
            parts.append(problems_panel(entry))
    alts = entry.alternatives if alternatives else ()
    if alts:
        if compact:
            t = styled("alternatives:", style="yellow")
            for a in alts:
                if a.wellformed:
                    t.append(f" {differs_text(a.differs)}: ", style="yellow")
                    t.append_text(summary(a))
            if any(not a.wellformed for a in alts):
                t.append(" invalid or doubtful under " + "; ".join(
                    differs_text(a.differs) for a in alts if not a.wellformed), style="dim")
            parts.append(t)
        else:
            parts.append(alternatives_panel(alts))
    if entry.notes and not compact:
        parts.append(notes_text(entry))
    return Group(*parts)


def compact_fields(entry: "Entry", fmap: FieldMap) -> Text:
    """The fields' decoded values on one line (the table, folded)."""
    t = Text()
    flags: list[str] = []
    ignored: list[str] = []
    for r in field_rows(entry, fmap):
        if r.style in ("flag", "presence"):
            flags.append(r.name)
            continue
        if r.style == "ignored":
            ignored.append(r.name)
            continue
        if r.style == "field" and r.decoded == "0":
            continue  # an unnamed zero (pkey 0) says nothing in one line
        if t:
            t.append(" · ")
        t.append(r.name, style=STYLES["bad"] if r.style == "bad" else "bold")
        t.append(" " + (r.decoded or r.raw))
    if flags:
        t.append((" · " if t else "") + "set: " + ",".join(flags), style="green")
    if ignored:
        t.append((" · " if t else "") + "ignored: " + ",".join(ignored), style="dim")
    return t


def brief_line(entry: "Entry", line: str) -> Text:
    """``--brief``: the plain line, its state word as a coloured badge."""
    value, _, rest = line.partition(" ")
    state, _, tail = rest.partition(" ")
    t = Text()
    t.append(value + " ", style="bold")
    t.append(state, style=STATE_STYLES.get(entry.state, "reverse"))
    if tail:
        t.append(" " + tail)
    return t


class Renderer:
    """What ``uffdpte decode`` calls per value on a terminal: returns the rendered text
    (ANSI when colour is on), so decode keeps its own batched output and pipe handling."""

    def __init__(self, *, colour: bool, compact: bool = False, brief: bool = False,
                 file: IO[str] | None = None, width: int | None = None) -> None:
        self.console = make_console(colour=colour, file=file, width=width)
        self.compact = compact
        self.brief = brief
        self.first = True

    def render(self, entry: "Entry", *, alternatives: bool = True) -> str:
        if self.brief:
            from .plain import line
            renderable: RenderableType = brief_line(entry, line(entry, alternatives=alternatives))
        else:
            renderable = entry_view(entry, width=self.console.width, alternatives=alternatives,
                                    compact=self.compact)
        with self.console.capture() as cap:
            # a brief line stays one line whatever the width: it is meant for grep too
            self.console.print(renderable, soft_wrap=self.brief)
        text = cap.get().rstrip("\n")
        if not self.brief and not self.first:
            text = "\n" + text  # a blank line between blocks
        self.first = False
        return text


def render_to_string(renderable: RenderableType, *, width: int = 100, colour: bool = True,
                     color_system: str = "truecolor") -> str:
    """Render with a fixed width and colour system (tests, snapshots, README)."""
    console = make_console(colour=colour, file=io.StringIO(), width=width, record=True,
                           color_system=color_system)
    console.print(renderable)
    return console.export_text(styles=colour)


# --- the layout explorer ----------------------------------------------------------------------

def layout_view(doc: dict[str, Any], maps: dict[str, FieldMap], width: int) -> RenderableType:
    """``uffdpte layout`` on a terminal: per form, its map and its rows with their sources."""
    parts: list[RenderableType] = [Text(doc["title"], style="bold")]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(ratio=1)
    for k, v in doc["facts"]:
        grid.add_row(k, Text(v, style="dim" if k == "source" else ""))
    parts.append(grid)
    for form in doc["forms"]:
        parts.append(Text(""))
        title = styled(f" {form['form']} ", style=STATE_STYLES.get(form["form"], "reverse"))
        title.append("  " + form["presence"], style="dim")
        parts.append(title)
        parts.append(map_text(maps[form["form"]], width))
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
        table.add_column("bits", justify="right", no_wrap=True)
        table.add_column("name", no_wrap=True)
        table.add_column("role", no_wrap=True)
        table.add_column("meaning, kernels and source", ratio=1)
        for row in form["rows"]:
            t = Text(row["text"])
            t.append(f"\n{row['kernels']}: {row['source']}", style="dim")
            name = styled(row["name"], style="bold")
            name.append("\n" + row["macro"], style="dim")
            table.add_row(row["bits"], name, Text(row["role"], style=STYLES.get(row["role"], "")),
                          t)
        parts.append(table)
    if doc.get("swap_types") is not None:
        parts += [Text(""), _types_table(doc["swap_types"])]
    if doc.get("marker_bits") is not None:
        parts += [Text(""), _markers_table(doc["marker_bits"])]
    return Group(*parts)


def _types_table(st: dict[str, Any]) -> Table:
    table = Table(title=f"swap types (MAX_SWAPFILES {st['max_swapfiles']}; devices 0-"
                        f"{st['max_swapfiles'] - 1})", title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("type", justify="right", no_wrap=True)
    table.add_column("name and state", no_wrap=True)
    table.add_column("kernels and source", ratio=1, style="dim")
    for t in st["types"]:
        name = styled(t["name"], style="bold")
        name.append("\n" + t["subtype"], style=STATE_STYLES.get(t["state"], "").split(" on ")[-1])
        table.add_row(str(t["type"]), name, f"{t['kernels']}: {t['source']}")
    return table


def _markers_table(markers: list[dict[str, Any]]) -> Table:
    table = Table(title="PTE marker bits (swap type SWP_PTE_MARKER, in the offset)",
                  title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False, header_style="bold")
    table.add_column("bit", justify="right", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("meaning, kernels and source", ratio=1)
    for m in markers:
        t = Text(m["meaning"])
        t.append(f"\n{m['kernels']}: {m['source']}", style="dim")
        table.add_row(str(m["bit"]), m["macro"], t)
    return table


def diff_view(doc: dict[str, Any]) -> RenderableType:
    """``uffdpte layout --diff``: what moved between two kernels, sign-coloured."""
    colour = {"+": "green", "-": "red", "~": "yellow"}
    parts: list[RenderableType] = [Text(doc["title"], style="bold")]
    for section, lines in doc["sections"]:
        parts.append(Text(""))
        parts.append(Text(section, style="bold underline"))
        if not lines:
            parts.append(Text("  no change", style="dim"))
            continue
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", no_wrap=True, min_width=3)
        grid.add_column(ratio=1)
        for sign, what, source in lines:
            t = styled(what, style=colour.get(sign, ""))
            if source:
                t.append("\n" + source, style="dim")
            grid.add_row(Text(sign, style="bold " + colour.get(sign, "")), t)
        parts.append(grid)
    return Group(*parts)



# --- decode --summary -------------------------------------------------------------------------

def summary_table(d: dict[str, Any], colour: bool) -> str:
    """A whole-dump summary (uffdpte.summary) as a table on a terminal."""
    console = make_console(colour=colour, file=io.StringIO())
    title = (f"{d['values']} values ({d['rejected']} rejected) · {d['arch']} {d['kernel']} "
             f"{d['config']} · level {d['level']}")
    table = Table(title=title, box=box.SIMPLE_HEAD, show_header=True, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    total = d["values"] or 1

    def section(name: str, counts: dict[str, int], style: str = "") -> None:
        for i, (key, n) in enumerate(counts.items()):
            label = styled(f"{name + ' ' if i == 0 else '':<12}{key}", style) if style else \
                f"{name + ' ' if i == 0 else '':<12}{key}"
            table.add_row(label, str(n), f"{100 * n / total:.1f}%")

    section("state", d["states"], "bold")
    section("subtype", d["subtypes"])
    section("swap type", d["swap_types"])
    section("marker", d["markers"])
    section("flag", d["flags"])
    section("problem", d["problems"], "red")
    if d["pfn_min"] is not None:
        table.add_row(f"{'pfn range':<12}{d['pfn_min']:#x}-{d['pfn_max']:#x}", "", "")
    if d["ambiguous"]:
        table.add_row(styled(f"{'ambiguous':<12}read differently under profiles not pinned",
                             "yellow"), str(d["ambiguous"]),
                      f"{100 * d['ambiguous'] / total:.1f}%")
    with console.capture() as cap:
        console.print(table)
    return cap.get().rstrip("\n")
