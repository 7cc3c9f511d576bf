"""The load pane under the header: where the active sessions' time goes now, by wait class,
against the CPUs; and, where the terminal is tall enough, the last minute's samples as
stacked bars (each class its colour, the CPU count a dotted line across)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pgcrisis.model.waits import SHOWN_CLASSES
from pgcrisis.top.load import HISTORY, LoadPoint, LoadView

#: each class's colour (on CPU green, I/O blue, locks red, as load charts usually are)
CLASS_STYLE = {"CPU": "#3fb950", "IO": "#4c8dff", "Lock": "#f85149", "LWLock": "#e3a008",
               "IPC": "#bc8cff", "Client": "#94a3b8", "Other": "#d4d4d8"}
#: how the pane names each class
CLASS_LABEL = {"CPU": "CPU", "IO": "I/O", "Lock": "Lock", "LWLock": "LWLock", "IPC": "IPC",
               "Client": "Client", "Other": "other"}
#: the history's height in rows (eight levels each), and the terminal height it needs
BAR_ROWS, TALL = 2, 30
_EIGHTHS = " ▁▂▃▄▅▆▇█"
#: a class this small (average sessions) is left out of the line
_SHOWN_FROM = 0.05


def _ratio_style(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return "bold red" if ratio >= 1.5 else "bold yellow" if ratio >= 1.0 else "green"


def figures_line(load: LoadView | None) -> Text:
    """The current moment: active sessions by class, against the cores."""
    out = Text()
    out.append("load ", style="bold")
    if load is None:
        out.append("not sampled at this moment", style="italic")
        return out
    if not load.samples:
        out.append("no sample yet", style="italic")
        return out
    out.append(f"{load.active:.1f} active over {load.seconds:.0f} s")
    shown = [(c, n) for c, n in load.classes if n >= _SHOWN_FROM]
    if shown:
        out.append(": ")
        for i, (c, n) in enumerate(shown):
            out.append(("  " if i else "") + CLASS_LABEL[c] + " ")
            out.append(f"{n:.1f}", style=f"bold {CLASS_STYLE[c]}")
    out.append("  │  ")
    if load.cpus is None:
        out.append(f"CPUs not known ({load.cpus_how})", style="yellow")
        return out
    out.append(f"{load.cpus} CPUs: on CPU ")
    out.append(f"{load.cpu_ratio:.1f}× the cores", style=_ratio_style(load.cpu_ratio))
    return out


def _column(p: LoadPoint, top: float, rows: int) -> list[tuple[str, str]]:
    """One sample as ``rows`` cells, bottom first: (character, style). The bar stacks the
    classes in :data:`SHOWN_CLASSES` order; a cell shows the class at its top."""
    levels = rows * 8
    bounds, total = [], 0.0
    for n in p.sessions:
        total += n
        bounds.append(total * levels / top)
    height = round(total * levels / top)
    line = round(p.cpus * levels / top) if p.cpus else None
    cells = []
    for r in range(rows):
        fill = max(0, min(8, height - 8 * r))
        on_line = line is not None and 8 * r <= line - 1 < 8 * r + 8
        if fill:
            level = 8 * r + fill - 1
            k = next((i for i, b in enumerate(bounds) if b > level), len(bounds) - 1)
            colour = CLASS_STYLE[SHOWN_CLASSES[k]]
            if on_line and line is not None and height >= line:
                # a bar past the CPU count: the line is drawn through it, not hidden by it
                cells.append(("┈", f"bold #ffffff on {colour}"))
            else:
                cells.append((_EIGHTHS[fill], colour))
        elif on_line:
            cells.append(("┈", "bold"))
        else:
            cells.append((" ", ""))
    return cells


def history_lines(load: LoadView, width: int, rows: int = BAR_ROWS) -> list[Text]:
    """The last minute's samples, one column each (the newest at the right), ``rows`` tall,
    scaled to the highest of the bars and the CPU count."""
    points = load.history[-max(1, width - 22):]
    top = max([p.total for p in points] + [float(load.cpus or 0), 0.1])
    columns = [_column(p, top, rows) for p in points]
    labels = [f"peak {max(p.total for p in points):.1f}" if points else "",
              f"last {HISTORY.seconds} s"]
    if load.cpus:
        labels[0] += f"  ┈ {load.cpus} CPUs"
    out = []
    for r in reversed(range(rows)):
        line = Text()
        for cells in columns:
            char, style = cells[r]
            line.append(char, style=style)
        label = labels[rows - 1 - r] if rows - 1 - r < len(labels) else ""
        line.append(f"  {label}", style="dim")
        out.append(line)
    return out


def load_text(load: LoadView | None, *, width: int, tall: bool) -> Text:
    """The pane: the figures line, then the history where the terminal is ``tall``."""
    out = figures_line(load)
    if tall and load is not None and load.history:
        for line in history_lines(load, width):
            out.append("\n")
            out.append_text(line)
    return out


class LoadPanel(Static):
    """The load pane, redrawn with every new moment and when the terminal is resized."""

    def show(self, load: LoadView | None, *, width: int, tall: bool) -> None:
        self.update(load_text(load, width=width, tall=tall))
