"""Grouped bar charts for bench/e2e/run.py's results (issue 18).

One PNG per chart: a panel per scenario, and in each panel a group of bars per
server (the tables' ``server`` column), one bar per library.  run.py builds the
panels from its medians; this module only draws them.  matplotlib is imported
when a chart is drawn, so the benchmark itself runs without it.  The output is
deterministic for a given matplotlib: fixed size and dpi, the bundled DejaVu
font, and no ``Software`` entry in the PNG metadata.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

#: Inches per panel, panels per row, and the resolution: fixed, so reruns give the same bytes.
PANEL_SIZE = (4.4, 3.2)
COLUMNS = 3
DPI = 100
#: matplotlib's tab10, given in order: a library keeps its colour in every panel and chart.
COLOURS = (
    '#1f77b4',
    '#ff7f0e',
    '#2ca02c',
    '#d62728',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#7f7f7f',
)


@dataclass
class Panel:
    """One scenario: ``groups`` is ``[(server, [(library, value), ...]), ...]``."""

    title: str
    ylabel: str
    groups: list[tuple[str, list[tuple[str, float]]]]


def rate_label(value: float) -> str:
    """A rate for a bar label: 109149 -> ``109k``, 9432 -> ``9.4k``, 812 -> ``812``."""
    if value >= 10_000:
        return '%.0fk' % (value / 1000)
    if value >= 1000:
        return '%.1fk' % (value / 1000)
    return '%.0f' % value


def cpu_label(value: float) -> str:
    """Microseconds for a bar label: one decimal below 100."""
    return '%.0f' % value if value >= 100 else '%.1f' % value


def draw(
    path: Path,
    title: str,
    note: str,
    panels: list[Panel],
    label: Callable[[float], str],
) -> None:
    """Write one PNG of grouped bars, a panel per scenario, ``note`` under them."""
    # Deferred: matplotlib is needed only to draw charts (the bench extra), not to run
    # the benchmark. Figure without pyplot: no backend or display is chosen or needed.
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = -(-len(panels) // COLUMNS)
    columns = min(COLUMNS, len(panels))
    note_lines = textwrap.wrap(note, 34 * columns)
    figure = Figure(
        figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows + 0.9 + 0.16 * len(note_lines)),
        dpi=DPI,
        layout='constrained',
    )
    figure.suptitle(title, fontsize=13, fontweight='bold')
    colours: dict[str, str] = {}
    for library in (lib for panel in panels for _, bars in panel.groups for lib, _ in bars):
        colours.setdefault(library, COLOURS[len(colours) % len(COLOURS)])
    cells = list(figure.subplots(rows, columns, squeeze=False).flat)
    for panel, ax in zip(panels, cells[: len(panels)], strict=True):
        width = 0.8 / max(len(bars) for _, bars in panel.groups)
        for x, (_, bars) in enumerate(panel.groups):
            left = x - width * (len(bars) - 1) / 2
            for i, (library, value) in enumerate(bars):
                drawn = ax.bar(left + i * width, value, width, color=colours[library])
                ax.bar_label(drawn, [label(value)], fontsize=7, padding=1)
        ax.set_xticks(range(len(panel.groups)), [server for server, _ in panel.groups])
        ax.set_xlabel('server')
        ax.set_ylabel(panel.ylabel)
        ax.set_title(panel.title, fontsize=10)
        ax.margins(y=0.15)
        ax.spines[['top', 'right']].set_visible(False)
    for ax in cells[len(panels) :]:  # the grid's unused cells
        ax.set_visible(False)
    figure.legend(
        handles=[Patch(color=colour, label=library) for library, colour in colours.items()],
        loc='outside right upper',
        title='library',
        frameon=False,
    )
    # supxlabel, not text(): the constrained layout keeps room for it under the panels.
    figure.supxlabel('\n'.join(note_lines), fontsize=8, color='#444444')
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, metadata={'Software': None})
