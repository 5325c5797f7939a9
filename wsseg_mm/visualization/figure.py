"""Figures a person reads without the source open: a fixed grid of titled panels, a colour bar beside every score
map (CAM, attribution, boundary), a key beside every displacement field, one legend of the classes present (names
from the dataset metainfo, colours from its palette) and of the ignore value, small images enlarged (nearest).

The method figures (:mod:`.irnet`, :mod:`.bbam`, :mod:`.psi`, :mod:`.samples`) describe their panels with
:class:`Panel` and draw them with :func:`panel_figure`. Matplotlib's object API on the Agg canvas: no pyplot, so
importing this module never switches a user's backend.

Images are (H, W, 3) uint8 RGB numpy arrays; label maps (H, W) integers (255 = ignore); score maps (H, W) floats.
"""
import io
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from wsseg_mm.fileio.labels import atomic_write_bytes
from wsseg_mm.metainfo import VOC_PALETTE

from .overlay import flow_to_rgb

IGNORE_INDEX = 255
MIN_SIDE = 256  # a panel's shorter side is enlarged to at least this many pixels
DPI = 100
FONT_SIZE = 9
LEGEND_COLUMNS = 10

Colour = Tuple[int, int, int]


# ----------------------------------------------------------------------------------------------------- sizes
def display_scale(shape: Sequence[int], min_side: int = MIN_SIDE) -> int:
    """The integer factor that enlarges an image of ``shape`` (H, W, ...) until its shorter side reaches
    ``min_side`` (1 for images that are large enough): 64 px -> 4, 128 px (the toy) -> 2, 500 px -> 1."""
    side = min(int(shape[0]), int(shape[1]))
    if side <= 0:
        raise ValueError(f'an image of shape {tuple(shape)} has no pixels')
    return max(1, -(-min_side // side))


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W[, C]) -> (factor * H, factor * W[, C]) by repeating pixels (nearest neighbour); a new array."""
    if int(factor) != factor or factor < 1:
        raise ValueError(f'the enlargement factor must be a positive integer, got {factor}')
    return np.repeat(np.repeat(np.asarray(image), int(factor), axis=0), int(factor), axis=1)


def resize_nearest(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """(h, w[, C]) -> (H, W[, C]) by nearest neighbour (each output pixel takes the input pixel it falls in), so
    stride-4 maps line up with the image they came from."""
    image = np.asarray(image)
    rows = np.minimum((np.arange(shape[0]) + 0.5) * image.shape[0] / shape[0], image.shape[0] - 1).astype(np.int64)
    cols = np.minimum((np.arange(shape[1]) + 0.5) * image.shape[1] / shape[1], image.shape[1] - 1).astype(np.int64)
    return image[rows][:, cols]


# ---------------------------------------------------------------------------------------------- class colours
def label_palette(metainfo: Optional[dict] = None) -> np.ndarray:
    """(256, 3) uint8 colour of each label value: the dataset's ``metainfo['palette']`` for its classes, the VOC
    palette elsewhere (255 = ignore is cream)."""
    table = np.array(VOC_PALETTE, np.uint8)
    given = (metainfo or {}).get('palette')
    if given is not None and len(given):
        given = np.asarray(given, np.uint8).reshape(-1, 3)[:IGNORE_INDEX]
        table[:len(given)] = given
    return table


def paint_labels(labels: np.ndarray, palette: np.ndarray, image: Optional[np.ndarray] = None, alpha: float = 1.0,
                 ignore_alpha: Optional[float] = None) -> np.ndarray:
    """(H, W) labels -> (H, W, 3) uint8: each pixel in its value's palette colour (255 = ignore: the palette's
    cream), blended with ``alpha`` (``ignore_alpha`` for ignored pixels, default ``alpha``) over ``image`` when
    given. The inputs are not modified."""
    labels = np.asarray(labels)
    colour = palette[labels.astype(np.int64) % len(palette)].astype(np.float32)
    if image is None:
        return colour.astype(np.uint8)
    weight = np.full(labels.shape + (1, ), alpha, np.float32)
    if ignore_alpha is not None:
        weight[labels == IGNORE_INDEX] = ignore_alpha
    out = (1 - weight) * np.asarray(image, np.float32) + weight * colour
    return out.clip(0, 255).astype(np.uint8)


def present_values(*maps: Optional[np.ndarray]) -> List[int]:
    """Sorted label values that occur in any of the maps (None entries are skipped)."""
    values = set()
    for m in maps:
        if m is not None and np.size(m):
            values.update(int(v) for v in np.unique(np.asarray(m)))
    return sorted(values)


@dataclass
class LegendEntry:
    """One line of a figure's legend: a colour patch and its text."""
    name: str
    colour: Colour


def legend_entries(values: Iterable[int], names: Sequence[str], palette: np.ndarray,
                   ignore_index: int = IGNORE_INDEX, ignore_name: str = 'ignore') -> List[LegendEntry]:
    """The legend of the label values shown: one entry per value present, named ``names[value]`` (the dataset's
    classes, in label order) in its palette colour, then ``<ignore_name> (255)`` in the palette's ignore colour when
    ``ignore_index`` is among the values. A value without a name is called ``label <v>``."""
    values = sorted(set(int(v) for v in values))
    entries = [LegendEntry(names[v] if 0 <= v < len(names) else f'label {v}', tuple(int(c) for c in palette[v]))
               for v in values if v != ignore_index]
    if ignore_index in values:
        entries.append(LegendEntry(f'{ignore_name} ({ignore_index})', tuple(int(c) for c in palette[ignore_index])))
    return entries


# ------------------------------------------------------------------------------------------------- displacement
def flow_key(size: int = 65) -> Tuple[np.ndarray, np.ndarray]:
    """The colour wheel of :func:`~.overlay.flow_to_rgb`: (size, size, 3) RGB of the displacement from the centre
    to each pixel (length 1 at the disc's edge, so :func:`flow_to_rgb` with ``max_norm=1`` colours it exactly as a
    field whose longest vector has that length), and the (size, size) bool disc it is drawn in."""
    radius = (size - 1) / 2
    dy, dx = np.mgrid[0:size, 0:size].astype(np.float32) - radius
    wheel = flow_to_rgb(np.stack([dy, dx]) / radius, max_norm=1.0)
    return wheel, np.hypot(dy, dx) <= radius


def displacement_picture(displacement: np.ndarray, shape: Sequence[int], centre: bool = True
                         ) -> Tuple[np.ndarray, float]:
    """(2, h, w) displacement (dy, dx) -> its (H, W, 3) colour picture at ``shape`` (nearest) and the length that
    reaches full colour (the longest vector shown). ``centre``: subtract the mean displacement first, as IRNet's
    instance step does (a constant offset would colour the whole field alike)."""
    field = np.asarray(displacement, np.float32)
    if centre:
        field = field - field.mean(axis=(1, 2), keepdims=True)
    max_norm = max(float(np.hypot(field[0], field[1]).max()), 1e-6)
    return resize_nearest(flow_to_rgb(field, max_norm=max_norm), shape), max_norm


# ------------------------------------------------------------------------------------------------------ panels
@dataclass
class Box:
    """A box drawn on a panel: (x1, y1, x2, y2) in the panel's image pixels, its colour and a short text."""
    xyxy: Sequence[float]
    colour: Colour
    text: str = ''


@dataclass
class Panel:
    """One cell of a figure.

    Attributes:
        image: (H, W, 3) uint8 RGB shown as is (the background of ``scores``).
        title: the panel's title (one or two short lines).
        scores: optional (H, W) float map drawn in ``cmap`` over ``image`` with ``alpha`` (``alpha=1``: the map
            alone), with a colour bar labelled ``colorbar`` from ``vmin`` to ``vmax``.
        flow_max: set on a displacement picture (:func:`displacement_picture`): the figure draws the colour-wheel
            key below the grid, whose edge is this length (``flow_unit`` names its unit).
        boxes: boxes drawn over the panel.
        texts: (x, y, text, colour) labels written over the panel, in image pixels.
    """
    image: np.ndarray
    title: str = ''
    scores: Optional[np.ndarray] = None
    cmap: str = 'jet'
    vmin: float = 0.0
    vmax: float = 1.0
    alpha: float = 0.5
    colorbar: str = ''
    flow_max: Optional[float] = None
    flow_unit: str = 'px'
    boxes: List[Box] = field(default_factory=list)
    texts: List[Tuple[float, float, str, Colour]] = field(default_factory=list)


def blank_panel(shape: Sequence[int], title: str = '') -> Panel:
    """A white panel (an empty slot of the fixed layout that still says what would be there)."""
    return Panel(np.full((*shape[:2], 3), 255, np.uint8), title)


def _rgb(colour: Colour) -> Tuple[float, float, float]:
    return tuple(float(c) / 255 for c in colour)


def _text_colour(background: Colour) -> str:
    """Black on light colours, white on dark ones (ITU-R BT.601 luma)."""
    r, g, b = background
    return 'black' if 0.299 * r + 0.587 * g + 0.114 * b > 140 else 'white'


def _draw_flow_key(fig: Figure, rect: Sequence[float], flow_max: float, unit: str) -> None:
    """The colour wheel of the displacement panels at ``rect`` (figure fraction), with how to read it."""
    wheel, disc = flow_key()
    ax = fig.add_axes(rect)
    ax.imshow(np.where(disc[..., None], wheel, 255).astype(np.uint8), interpolation='bilinear')
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    centre = (len(wheel) - 1) / 2
    for (dx, dy), text in (((1, 0), '→'), ((0, 1), '↓'), ((-1, 0), '←'), ((0, -1), '↑')):
        ax.annotate(text, (centre + dx * centre * 0.6, centre + dy * centre * 0.6), fontsize=FONT_SIZE,
                    ha='center', va='center')
    ax.text(1.08, 0.5, f'displacement key: hue = direction\n(arrow: where a pixel points),\nsaturation = length;\n'
            f'white = 0, full colour = {flow_max:.2f}\n{unit}', transform=ax.transAxes, fontsize=FONT_SIZE,
            va='center', ha='left')


def _draw_panel(fig: Figure, ax, panel: Panel, scale: int) -> None:
    """Draw a panel whose pictures are enlarged ``scale`` times (nearest); boxes and texts stay in image pixels."""
    h, w = panel.image.shape[:2]
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    ax.imshow(enlarge(panel.image, scale), interpolation='nearest', extent=extent)
    if panel.scores is not None:
        mappable = ax.imshow(enlarge(np.asarray(panel.scores, np.float32), scale), cmap=panel.cmap, vmin=panel.vmin,
                             vmax=panel.vmax, alpha=panel.alpha, interpolation='nearest', extent=extent)
        bar_ax = ax.inset_axes([1.03, 0.0, 0.05, 1.0])
        bar = fig.colorbar(mappable, cax=bar_ax)
        bar.solids.set_alpha(1)
        bar.ax.tick_params(labelsize=FONT_SIZE - 1, length=2, pad=1)
        if panel.colorbar:
            bar.set_label(panel.colorbar, fontsize=FONT_SIZE - 1, labelpad=2)
    for box in panel.boxes:
        x1, y1, x2, y2 = (float(v) for v in box.xyxy)
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=_rgb(box.colour),
                               linewidth=1.5))
        if box.text:  # inside the box's top-left corner, so that boxes at the image's top keep their name
            ax.text(x1, y1, box.text, fontsize=FONT_SIZE - 1, color=_text_colour(box.colour), va='top', ha='left',
                    bbox=dict(facecolor=_rgb(box.colour), edgecolor='none', pad=1, alpha=0.85), clip_on=True)
    for x, y, text, colour in panel.texts:
        ax.text(x, y, text, fontsize=FONT_SIZE - 1, color=_text_colour(colour), ha='center', va='center',
                bbox=dict(facecolor=_rgb(colour), edgecolor='none', pad=1, alpha=0.85), clip_on=True)
    ax.set_title(panel.title, fontsize=FONT_SIZE, pad=3)
    ax.set_xticks([])
    ax.set_yticks([])


def panel_figure(rows: Sequence[Sequence[Optional[Panel]]], ncols: Optional[int] = None,
                 row_titles: Optional[Sequence[str]] = None, legend: Sequence[LegendEntry] = (),
                 legend_title: str = '', title: str = '', min_side: int = MIN_SIDE) -> Figure:
    """Draw rows of panels on a fixed grid of ``ncols`` columns (default: the longest row); a None panel, or a
    row shorter than ``ncols``, leaves its cells empty. Every panel is enlarged by :func:`display_scale` of the
    first panel's image (the cell size; each panel's pictures are enlarged by their own factor, nearest), and each
    column leaves room for a colour bar or a key on its right.

    Returns:
        the figure (Agg canvas); the grid's axes are ``fig.axes[:len(rows) * ncols]`` in row-major order.
    """
    if not rows or not any(rows):
        raise ValueError('panel_figure needs at least one panel')
    ncols = ncols or max(len(r) for r in rows)
    if any(len(r) > ncols for r in rows):
        raise ValueError(f'a row has more than {ncols} panels: {[len(r) for r in rows]}')
    first = next(p for r in rows for p in r if p is not None)
    h, w = first.image.shape[:2]
    scale = display_scale((h, w), min_side)
    cell_w, cell_h = w * scale / DPI, h * scale / DPI
    gap_w, gap_h = 0.75, 0.5  # inches: colour bar / key + ticks; two title lines
    left = 0.35 if row_titles else 0.1
    top = 0.0 + (0.3 if title else 0.0)
    legend_rows = -(-len(legend) // LEGEND_COLUMNS) if legend else 0
    flows = [p for r in rows for p in r if p is not None and p.flow_max is not None]
    key_h = 1.0 if flows else 0.0
    bottom = 0.15 + max(key_h, 0.22 * legend_rows + 0.25 if legend else 0.0)
    width = left + ncols * cell_w + ncols * gap_w
    height = top + len(rows) * (cell_h + gap_h) + bottom
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(rows), ncols, left=left / width, right=1 - gap_w / width, wspace=gap_w / cell_w,
                            top=1 - (top + gap_h) / height, bottom=bottom / height, hspace=gap_h / cell_h)
    for r, row in enumerate(rows):
        for c in range(ncols):
            ax = fig.add_subplot(grid[r, c])
            panel = row[c] if c < len(row) else None
            if panel is None:
                ax.axis('off')
                continue
            _draw_panel(fig, ax, panel, display_scale(panel.image.shape, min_side))
            if c == 0 and row_titles:
                ax.set_ylabel(row_titles[r], fontsize=FONT_SIZE)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 1, y=1 - 0.12 / height)
    if flows:
        _draw_flow_key(fig, (0.15 / width, 0.1 / height, key_h / width, key_h / height), flows[0].flow_max,
                       flows[0].flow_unit)
    if legend:
        handles = [Patch(facecolor=_rgb(e.colour), edgecolor='0.4', linewidth=0.5, label=e.name) for e in legend]
        fig.legend(handles=handles, loc='lower center', ncol=min(len(handles), LEGEND_COLUMNS), fontsize=FONT_SIZE,
                   frameon=False, title=legend_title or None, title_fontsize=FONT_SIZE, handlelength=1.2,
                   columnspacing=1.0, bbox_to_anchor=(0.5 + (0.1 if flows else 0.0), 0.1 / height))
    return fig


def grid_titles(fig: Figure, nrows: int, ncols: int) -> List[List[str]]:
    """The titles of a :func:`panel_figure`'s grid, row by row ('' for an empty cell): what a reader sees."""
    axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None][:nrows * ncols]
    return [[ax.get_title() for ax in axes[r * ncols:(r + 1) * ncols]] for r in range(nrows)]


def legend_texts(fig: Figure) -> List[str]:
    """The texts of a figure's legend entries, in order."""
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=DPI, facecolor='white')
    return buffer.getvalue()


def save_figure(fig: Figure, path: str) -> None:
    """Write the figure as a PNG file, atomically."""
    atomic_write_bytes(path, figure_png(fig))

