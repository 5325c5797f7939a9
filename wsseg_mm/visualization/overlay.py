"""Pictures of labels: colour maps, overlays, heat maps and grids, as (H, W, 3) uint8 RGB numpy arrays.

Plain numpy / OpenCV so that tools, hooks and tests can all use them without a visualizer backend.
"""
from typing import Optional, Sequence

import cv2
import numpy as np

from wsseg_mm.metainfo import VOC_PALETTE

_PALETTE = np.asarray(VOC_PALETTE, np.uint8)


def colorize_label(label: np.ndarray, palette: Optional[Sequence[Sequence[int]]] = None) -> np.ndarray:
    """(H, W) integer labels -> (H, W, 3) RGB with the VOC palette (255 = ignore is cream)."""
    table = _PALETTE if palette is None else np.asarray(palette, np.uint8)
    return table[np.asarray(label, np.int64) % len(table)]


def overlay_label(image: np.ndarray, label: np.ndarray, alpha: float = 0.5, ignore_index: int = 255,
                  palette: Optional[Sequence[Sequence[int]]] = None) -> np.ndarray:
    """Blend a label map over an (H, W, 3) RGB image; background (0) and ignored pixels stay unblended."""
    colour = colorize_label(label, palette).astype(np.float32)
    out = image.astype(np.float32).copy()
    show = (label != 0) & (label != ignore_index)
    out[show] = (1 - alpha) * out[show] + alpha * colour[show]
    return out.clip(0, 255).astype(np.uint8)


def heatmap(score: np.ndarray, image: Optional[np.ndarray] = None, alpha: float = 0.5) -> np.ndarray:
    """(H, W) scores in [0, 1] -> JET heat map, optionally blended over an RGB image of the same size."""
    jet = cv2.applyColorMap((np.clip(score, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    if image is None:
        return jet
    return ((1 - alpha) * image.astype(np.float32) + alpha * jet).clip(0, 255).astype(np.uint8)


def draw_boxes(image: np.ndarray, boxes: np.ndarray, labels: Optional[np.ndarray] = None,
               names: Optional[Sequence[str]] = None, thickness: int = 1) -> np.ndarray:
    """Draw (N, 4) x1y1x2y2 boxes (coloured by label) with their class names on a copy of an RGB image."""
    out = np.ascontiguousarray(image.copy())
    labels = np.zeros(len(boxes), np.int64) if labels is None else np.asarray(labels)
    for box, label in zip(np.asarray(boxes).reshape(-1, 4), labels):
        colour = tuple(int(c) for c in _PALETTE[(int(label) + 1) % 255])
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        if names is not None:
            cv2.putText(out, str(names[int(label)]), (x1 + 1, max(y1 - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.3,
                        colour, 1, cv2.LINE_AA)
    return out


def make_grid(images: Sequence[np.ndarray], ncols: int = 4, pad: int = 4, value: int = 255) -> np.ndarray:
    """Tile RGB images (each resized to the first one's size) into one picture, row-major."""
    if not images:
        raise ValueError('make_grid needs at least one image')
    h, w = images[0].shape[:2]
    rows = (len(images) + ncols - 1) // ncols
    grid = np.full((rows * (h + pad) + pad, min(ncols, len(images)) * (w + pad) + pad, 3), value, np.uint8)
    for i, img in enumerate(images):
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.shape[:2] != (h, w):
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST)
        r, c = divmod(i, ncols)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img
    return grid


def flow_to_rgb(displacement: np.ndarray, max_norm: Optional[float] = None) -> np.ndarray:
    """(2, H, W) displacement (dy, dx) -> RGB: hue = direction, brightness = length (white = no motion)."""
    dy, dx = np.asarray(displacement, np.float32)
    norm = np.hypot(dy, dx)
    scale = max_norm or max(float(norm.max()), 1e-6)
    hsv = np.zeros((*norm.shape, 3), np.uint8)
    hsv[..., 0] = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * 179).astype(np.uint8)
    hsv[..., 1] = (np.clip(norm / scale, 0, 1) * 255).astype(np.uint8)
    hsv[..., 2] = 255
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def label_instances(instance_masks: Sequence[np.ndarray], shape) -> np.ndarray:
    """Paint instance masks with distinct palette colours (instance k gets colour k + 1) -> (H, W) labels."""
    label = np.zeros(shape, np.uint8)
    for k, mask in enumerate(instance_masks):
        label[mask] = k % 254 + 1
    return label
