"""PSI's Fig. 2 (Xu et al., ICCV 2021): how the supervision of a few training images grows step by step.

Fixed layout, one row per image and ``num_steps + 4`` columns: image | scribbles ``y_0`` | supervision ``y_t`` after
SLD step t = 1..T | prediction | ground truth. Label panels show labelled pixels in their class colour and
unlabelled ones (255) as the image under the ignore colour; each title gives the labelled fraction and, with a ground
truth, the share of labelled pixels that are right.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure

from .figure import (
    IGNORE_INDEX,
    Panel,
    blank_panel,
    label_palette,
    legend_entries,
    paint_labels,
    panel_figure,
    present_values,
)


@dataclass
class PSIRow:
    """One image of the figure.

    Attributes:
        image: (H, W, 3) uint8 RGB; name: the image's name.
        scribbles: (H, W) uint8 ``y_0`` (255 = unlabelled).
        steps: ``(y_t, note)`` for t = 1..T: (H, W) uint8 labels and a note for the title (e.g. "recomputed").
        prediction: (H, W) uint8 arg-max of the model; ground_truth: (H, W) uint8 full mask or None.
    """
    image: np.ndarray
    name: str
    scribbles: np.ndarray
    steps: List[Tuple[np.ndarray, str]] = field(default_factory=list)
    prediction: Optional[np.ndarray] = None
    ground_truth: Optional[np.ndarray] = None


def label_quality(labels: np.ndarray, gt: Optional[np.ndarray], ignore_index: int = IGNORE_INDEX) -> str:
    """'<labelled>% labelled[, <right>% right]': the share of labelled pixels and, with the full mask ``gt``, the
    share of the labelled pixels (where ``gt`` is not ignored) whose label equals it."""
    labelled = labels != ignore_index
    text = f'{100 * labelled.mean():.1f}% labelled'
    if gt is not None:
        scored = labelled & (gt != ignore_index)
        if scored.any():
            text += f', {100 * (labels[scored] == gt[scored]).mean():.1f}% right'
    return text


def psi_figure(rows: Sequence[PSIRow], classes: Sequence[str], num_steps: int, metainfo: Optional[dict] = None,
               title: str = "PSI's supervision step by step (Fig. 2)") -> Figure:
    """The figure of :data:`PSIRow` rows with ``num_steps`` SLD steps each; the legend lists the classes present
    (names ``classes``, colours of ``metainfo['palette']``) and "unlabelled (255)"."""
    if not rows:
        raise ValueError('psi_figure needs at least one image')
    palette = label_palette(metainfo)
    grid, shown = [], []
    for row in rows:
        if len(row.steps) != num_steps:
            raise ValueError(f'{row.name}: {len(row.steps)} SLD steps given, {num_steps} expected')
        gt = row.ground_truth

        def painted(labels):
            return paint_labels(labels, palette, row.image, alpha=1.0, ignore_alpha=0.45)

        panels = [Panel(row.image, f'{row.name}'),
                  Panel(painted(row.scribbles), f'scribbles y0\n{label_quality(row.scribbles, gt)}')]
        for step, (labels, note) in enumerate(row.steps, 1):
            note = f' ({note})' if note else ''
            panels.append(Panel(painted(labels), f'after SLD step {step}{note}\n{label_quality(labels, gt)}'))
        shape = row.image.shape[:2]
        panels.append(Panel(paint_labels(row.prediction, palette), 'prediction') if row.prediction is not None
                      else blank_panel(shape, 'prediction (none)'))
        panels.append(Panel(painted(gt), 'ground truth') if gt is not None else blank_panel(shape, 'no ground truth'))
        grid.append(panels)
        shown += [row.scribbles, row.prediction, gt] + [labels for labels, _ in row.steps]
    legend = legend_entries(present_values(*shown), classes, palette, ignore_name='unlabelled')
    return panel_figure(grid, ncols=num_steps + 4, legend=legend, title=title)
