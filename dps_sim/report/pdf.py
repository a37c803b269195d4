"""The PDF report, drawn with matplotlib's PdfPages on A4: text pages, one page per chart, tables.

Only matplotlib is needed (no browser, no LaTeX, no system packages). Text is real PDF text
(TrueType fonts embedded), so it can be searched and copied.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from .document import RenderedChart, ReportContent, Table
from .style import INK, OKABE_ITO

A4 = (8.27, 11.69)
"""A4 portrait in inches."""
A4_LANDSCAPE = (A4[1], A4[0])
MARGIN = 0.7
FOOT = 0.85
"""Space kept free at the bottom of a page (inches) for the footer."""
LINE_SPACING = 1.4
TABLE_SPACING = 1.35
"""Line spacing of paragraphs and table cells, as a multiple of the font size."""
CHAR_WIDTH = 0.6
"""Average character width as a fraction of the font size (DejaVu Sans), for wrapping."""


def chars_per_line(width_in: float, size: float) -> int:
    """How many characters of a font size fit in a width (approximately)."""
    return max(8, int(width_in * 72 / (CHAR_WIDTH * size)))


class Pager:
    """Lays text, images and tables down A4 pages, starting a new page when one is full."""

    def __init__(self, pdf: PdfPages, footer: str):
        self.pdf, self.footer = pdf, footer
        self.fig: Figure | None = None
        self.size = A4
        self.y = 0.0
        self.pages = 0

    @property
    def width(self) -> float:
        return self.size[0] - 2 * MARGIN

    @property
    def bottom(self) -> float:
        """Lowest position (inches from the top) before a new page starts."""
        return self.size[1] - FOOT

    def new_page(self, landscape: bool = False) -> None:
        """Finish the current page and start another."""
        self.flush()
        self.size = A4_LANDSCAPE if landscape else A4
        self.fig = Figure(figsize=self.size)
        self.pages += 1
        self.y = MARGIN

    def flush(self) -> None:
        """Add the footer (last, so text extraction reads the page first) and save the page."""
        if self.fig is not None:
            W, H = self.size
            self.fig.text(MARGIN / W, 0.4 / H, self.footer, fontsize=7.5, color="#666666", va="bottom")
            self.fig.text(1 - MARGIN / W, 0.4 / H, f"Page {self.pages}", fontsize=7.5, color="#666666",
                          ha="right", va="bottom")
            self.pdf.savefig(self.fig)
            self.fig = None

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` inches still fit on this one."""
        if self.fig is None or self.y + height > self.bottom:
            self.new_page(landscape=self.size == A4_LANDSCAPE)

    def _put(self, x: float, text: str, size: float, **kw: object) -> None:
        assert self.fig is not None
        kw.setdefault("color", INK)
        self.fig.text(x / self.size[0], 1 - self.y / self.size[1], text, fontsize=size, va="top", ha="left", **kw)

    def text(self, text: str, size: float = 10.5, weight: str = "normal", indent: float = 0.0,
             after: float = 0.08, colour: str = INK, bullet: str = "") -> None:
        """A wrapped paragraph (optionally a bullet item), one text object per page it spans."""
        step = size * LINE_SPACING / 72
        lines = _wrap(text, chars_per_line(self.width - indent - (0.2 if bullet else 0), size))
        first = True
        while lines:
            self.ensure(step)
            fit = max(1, int((self.bottom - self.y) // step))
            chunk, lines = lines[:fit], lines[fit:]
            if bullet and first:
                self._put(MARGIN + indent, bullet, size, color=colour)
            self._put(MARGIN + indent + (0.2 if bullet else 0), "\n".join(chunk), size, weight=weight,
                      color=colour, linespacing=LINE_SPACING)
            self.y += step * len(chunk)
            first = False
        self.y += after

    def heading(self, text: str, size: float = 14) -> None:
        """A section heading, kept with at least a few lines of what follows."""
        self.ensure(size * LINE_SPACING / 72 + 0.6)
        self.y += 0.1
        self.text(text, size, "bold", after=0.06, colour=OKABE_ITO["blue"])

    def image(self, chart: RenderedChart) -> None:
        """A chart on a page of its own (landscape when wide): the image (which holds the title) scaled to fit,
        then its caption."""
        img = _pixels(chart.png, chart.pixels)
        h_px, w_px = img.shape[:2]
        self.new_page(landscape=w_px > 1.15 * h_px)
        caption_lines = len(_wrap(chart.caption, chars_per_line(self.width, 10)))
        room = self.bottom - self.y - caption_lines * 10 * LINE_SPACING / 72 - 0.3
        w = self.width
        h = w * h_px / w_px
        if h > room:
            h, w = room, room * w_px / h_px
        assert self.fig is not None
        W, H = self.size
        ax = self.fig.add_axes(((MARGIN + (self.width - w) / 2) / W, 1 - (self.y + h) / H, w / W, h / H))
        ax.imshow(img, interpolation="none")
        ax.set_axis_off()
        self.y += h + 0.15
        self.text(chart.caption, 10)

    def table(self, table: Table, size: float = 7.8) -> None:
        """A table with wrapped cells and rules, continued on new pages as needed."""
        widths = _column_widths(table, self.width, size)
        step = size * TABLE_SPACING / 72
        height = sum(self._row_height(r, widths, size, step) for r in [table.header, *table.rows]) + 0.7
        if self.fig is None or (self.y + height > self.bottom and height < self.bottom - MARGIN):
            self.new_page(landscape=self.size == A4_LANDSCAPE)
        self.heading(table.title, 11.5)
        self._row(table.header, widths, size, step, bold=True)
        for row in table.rows:
            self._row(row, widths, size, step)
        if table.note:
            self.y += 0.05
            self.text(table.note, 8.5, colour="#555555", after=0.2)

    @staticmethod
    def _cells(cells: list[str], widths: list[float], size: float) -> list[list[str]]:
        return [_wrap(c, chars_per_line(w - 0.08, size)) for c, w in zip(cells, widths)]

    def _row_height(self, cells: list[str], widths: list[float], size: float, step: float) -> float:
        return max(len(w) for w in self._cells(cells, widths, size)) * step + 0.06

    def _row(self, cells: list[str], widths: list[float], size: float, step: float, bold: bool = False) -> None:
        wrapped = self._cells(cells, widths, size)
        height = max(len(w) for w in wrapped) * step + 0.06
        self.ensure(height)
        assert self.fig is not None
        W, H = self.size
        x = MARGIN
        for lines, w in zip(wrapped, widths):
            self.fig.text(x / W, 1 - (self.y + 0.03) / H, "\n".join(lines), fontsize=size, va="top",
                          weight="bold" if bold else "normal", color=INK, linespacing=TABLE_SPACING)
            x += w
        self.y += height
        self.fig.add_artist(_rule(MARGIN / W, (MARGIN + self.width) / W, 1 - self.y / H, 1.0 if bold else 0.5))


def _pixels(png: bytes, pixels: np.ndarray | None = None, max_width: int = 1500) -> np.ndarray:
    """A chart as uint8 RGB pixels (``pixels`` when the chart was drawn in this process, else its PNG
    decoded), downscaled to at most ``max_width`` (about 200 dpi on the page)."""
    if pixels is not None and pixels.shape[1] <= max_width:
        return pixels
    with Image.open(io.BytesIO(png)) if pixels is None else Image.fromarray(pixels) as im:
        im = im.convert("RGB")
        if im.width > max_width:
            im = im.resize((max_width, round(im.height * max_width / im.width)), Image.Resampling.LANCZOS)
        return np.asarray(im)


def _rule(x0: float, x1: float, y: float, lw: float):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], color="#999999" if lw < 1 else INK, lw=lw)


def _column_widths(table: Table, total: float, size: float = 7.8) -> list[float]:
    """Column widths in inches: each column gets room for its longest word, then the rest of the
    width is shared in proportion to how much more its longest cell (capped) would like."""
    cw = CHAR_WIDTH * size / 72
    need, want = [], []
    for j in range(len(table.header)):
        cells = [table.header[j]] + [r[j] for r in table.rows if j < len(r)]
        word = max((len(w) for c in cells for w in c.split()), default=4) + 2
        need.append(word * cw)
        want.append(max(word, min(max(len(c) for c in cells) + 2, 34 if j == 0 else 26)) * cw)
    if sum(want) <= total:
        return [total * w / sum(want) for w in want]
    spare = max(total - sum(need), 0.0)
    extra = [w - n for w, n in zip(want, need)]
    return [n + spare * e / sum(extra) if sum(extra) else n for n, e in zip(need, extra)]


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, never breaking a word or a number; a newline in the text
    always starts a new line (a table cell's value, then its interval)."""
    return [line for part in text.split("\n")
            for line in (textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False) or [""])]


def write_pdf(content: ReportContent, path: Path) -> int:
    """Write the PDF report; returns its number of pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": content.title, "Creator": "dps_sim", "CreationDate": None}) as pdf:
        pager = Pager(pdf, content.subtitle)
        pager.new_page()
        pager.text(content.title, 20, "bold", after=0.1)
        pager.text(content.subtitle, 9.5, colour="#555555", after=0.25)
        pager.heading("The question")
        pager.text(content.question)
        pager.heading("The scenario")
        for p in content.scenario:
            pager.text(p)
        pager.heading(content.policies_heading)
        for name, changes in content.policies:
            pager.text(f"{name}: {'; '.join(changes)}", bullet="•")
        pager.heading("Main findings")
        for sentence in content.findings:
            pager.text(sentence, bullet="•", after=0.12)
        pager.heading("How to read these results")
        for note in content.notes:
            pager.text(note, 9.5, bullet="•")
        if content.caveats:
            pager.heading("Caveats of this scenario (from its file)")
            for caveat in content.caveats:
                pager.text(caveat, 9.5, bullet="•")
        if content.limitations:
            pager.heading("Known limitations of the model")
            for item in content.limitations:
                pager.text(item, 9.5, bullet="•")
        for chart in content.charts:
            pager.image(chart)
        pager.new_page(landscape=True)
        pager.text("Results with 95% confidence intervals", 15, "bold", after=0.1)
        for table in content.tables:
            pager.table(table)
        _back_matter(pager, content)
        pager.flush()
        pages = pager.pages
    _atomic_write(path, buf.getvalue())
    return pages


def _back_matter(pager: Pager, content: ReportContent) -> None:
    """The glossary and where the numbers come from, on a page of their own after the tables."""
    pager.new_page()
    if content.glossary:
        pager.heading("Glossary", 12)
        for term, gloss in content.glossary:
            pager.text(f"{term}: {gloss}", 8.5, after=0.04)
    pager.heading("Where these numbers come from", 12)
    for k, v in content.provenance:
        pager.text(f"{k}: {v}", 8.5, after=0.02)


def _atomic_write(path: Path, data: bytes) -> None:
    from ..experiment.store import atomic_write_bytes

    atomic_write_bytes(path, data)
