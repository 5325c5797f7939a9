"""WS^2's pictures: per PA frame, the frame, the Grad-CAM maps of its tagged actor and action, M_init (the union
of their Otsu masks), the SLIC superpixels, M_refine = PA.v0 (the kept superpixels with their pairs), the later PA
versions of a Stage-2 chain and the ground truth, with titles (foreground share, pixel accuracy against the
ground truth) and one legend of the actor-action classes shown."""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .figure import (
    Panel,
    blank_panel,
    label_palette,
    legend_entries,
    paint_labels,
    panel_figure,
    present_values,
)

__all__ = ['WS2Row', 'superpixel_picture', 'mask_picture', 'pa_quality_text', 'ws2_figure']


@dataclass
class WS2Row:
    """One PA frame of the figure.

    Attributes:
        image: (H, W, 3) uint8 RGB; name: ``<video_id>/<frame>``.
        actor_map / action_map: (H, W) float maps in [0, 1] (the first tagged actor's / action's Grad-CAM) and their
        class names; init: (H, W) bool M_init; superpixels: (H, W) int; refined: (H, W) bool M_refine;
        versions: ``(name, (H, W) labels)`` of PA.v0 .. vN (PA.v0 = M_refine with its pairs);
        ground_truth: (H, W) labels or None.
    """
    image: np.ndarray
    name: str
    actor_map: np.ndarray
    action_map: np.ndarray
    actor_name: str
    action_name: str
    init: np.ndarray
    superpixels: np.ndarray
    refined: np.ndarray
    versions: List[Tuple[str, np.ndarray]] = field(default_factory=list)
    ground_truth: Optional[np.ndarray] = None


def superpixel_picture(image: np.ndarray, superpixels: np.ndarray, keep: Optional[np.ndarray] = None) -> np.ndarray:
    """(H, W, 3) uint8: the frame with the superpixels' borders in yellow and, given the (H, W) bool ``keep``, the
    pixels of kept superpixels tinted green. The inputs are not modified."""
    from skimage.segmentation import find_boundaries
    out = np.asarray(image, np.float32).copy()
    if keep is not None:
        out[keep] = 0.5 * out[keep] + 0.5 * np.array([0, 200, 0], np.float32)
    out[find_boundaries(np.asarray(superpixels) + 1, mode='inner')] = (255, 230, 0)  # + 1: no label is background
    return out.clip(0, 255).astype(np.uint8)


def mask_picture(image: np.ndarray, mask: np.ndarray, colour=(230, 30, 30)) -> np.ndarray:
    """(H, W, 3) uint8: the frame with the (H, W) bool ``mask`` tinted half-way to ``colour``; inputs not modified."""
    out = np.asarray(image, np.float32).copy()
    mask = np.asarray(mask, bool)
    out[mask] = 0.5 * out[mask] + 0.5 * np.asarray(colour, np.float32)
    return out.clip(0, 255).astype(np.uint8)


def pa_quality_text(labels: np.ndarray, gt: Optional[np.ndarray], ignore_index: int = 255) -> str:
    """'<fg>% fg[, <acc>% right]': the foreground share of a PA and, with the ground truth, the share of the scored
    pixels (gt not ignored) whose label equals it."""
    text = f'{100 * (np.asarray(labels) > 0).mean():.1f}% fg'
    if gt is not None:
        scored = gt != ignore_index
        if scored.any():
            text += f', {100 * (labels[scored] == gt[scored]).mean():.1f}% right'
    return text


def ws2_figure(rows: Sequence[WS2Row], classes: Sequence[str], metainfo: Optional[dict] = None,
               title: str = 'WS^2: Grad-CAM -> M_init -> superpixels -> M_refine (PA.v0) -> PA versions'):
    """The figure of :class:`WS2Row` rows (all with the same number of PA versions); the legend lists the
    actor-action classes present (names ``classes``, colours of ``metainfo['palette']``)."""
    if not rows:
        raise ValueError('ws2_figure needs at least one frame')
    counts = {len(r.versions) for r in rows}
    if len(counts) != 1:
        raise ValueError(f'every row needs the same PA versions, got {sorted(counts)}')
    palette = label_palette(metainfo)
    grid, shown = [], []
    for row in rows:
        gt = row.ground_truth
        panels = [Panel(row.image, row.name),
                  Panel(row.image, f'actor Grad-CAM\n{row.actor_name}', scores=row.actor_map, colorbar='S / max S'),
                  Panel(row.image, f'action Grad-CAM\n{row.action_name}', scores=row.action_map,
                        colorbar='S / max S'),
                  Panel(mask_picture(row.image, row.init), f'M_init (Otsu, union)\n{100 * row.init.mean():.1f}% of '
                        'the frame'),
                  Panel(superpixel_picture(row.image, row.superpixels, row.refined),
                        f'superpixels ({int(row.superpixels.max()) + 1})\nkept: green')]
        for name, labels in row.versions:
            panels.append(Panel(paint_labels(labels, palette, row.image, alpha=0.7),
                                f'{name}\n{pa_quality_text(labels, gt)}'))
        panels.append(Panel(paint_labels(gt, palette, row.image, alpha=0.7), 'ground truth') if gt is not None
                      else blank_panel(row.image.shape[:2], 'no ground truth'))
        grid.append(panels)
        shown += [gt] + [labels for _, labels in row.versions]
    legend = legend_entries([v for v in present_values(*shown) if v != 255], classes, palette)
    return panel_figure(grid, ncols=6 + counts.pop(), legend=legend, title=title)
