"""Instance maps from IRNet's displacement field (Ahn et al., CVPR 2019, Sec. 5, Eq. 10, 14-15).

Shape legend used in the docstrings:

* ``H, W`` -- image (feature map) height and width; ``M`` -- number of detected instance centroids.

Conventions:

* a displacement field is a (2, H, W) array: channel 0 is the vertical offset ``dy`` (rows), channel 1 the
  horizontal offset ``dx`` (columns), in pixels. The pixel ``x = (row, col)`` points at ``x + D(x)``;
* the mean displacement (over all pixels, per channel) is subtracted first. The displacement branch is
  supervised only through differences ``D(x_i) - D(x_j)`` of pixel pairs, so the field is defined up to a
  constant, which this removes;
* during the refinement (Eq. 10) ``D`` is read at the current landing point ``x + D_u(x)`` clipped into the image,
  bilinearly interpolated (as the authors' code does; ``interpolation='nearest'`` rounds instead). The final
  landing point is rounded to the nearest pixel (``np.rint``, halves to even) and clipped into the image; the
  accumulated displacements themselves are never clipped;
* instance label 0 means "no instance": a pixel whose refined displacement does not land on any centroid.

Inputs may be numpy arrays or torch tensors; outputs are numpy arrays.
"""
from typing import Sequence, Union

import cv2
import numpy as np
import torch
from skimage.measure import label as connected_components

__all__ = ['refine_displacement', 'find_centroids', 'instance_map']

ArrayLike = Union[np.ndarray, torch.Tensor]


def _centred_field(displacement: ArrayLike) -> np.ndarray:
    """Validate a (2, H, W) displacement field and return a mean-subtracted float64 copy.

    Args:
        displacement: (2, H, W) displacement field, channel 0 = dy, channel 1 = dx.

    Returns:
        (2, H, W) float64 field with zero mean per channel.
    """
    if isinstance(displacement, torch.Tensor):
        displacement = displacement.detach().cpu().numpy()
    field = np.asarray(displacement, dtype=np.float64)
    if field.ndim != 3 or field.shape[0] != 2 or field.shape[1] == 0 or field.shape[2] == 0:
        raise ValueError(f'displacement must have shape (2, H, W) with H, W > 0, got {field.shape}')
    # The subtraction allocates a new array, so the caller's field is never modified.
    return field - field.mean(axis=(1, 2), keepdims=True)


def _landing_point(offsets: np.ndarray):
    """(H, W) float rows and columns of ``x + offsets(x)`` for every pixel ``x``, clipped into the image."""
    height, width = offsets.shape[1:]
    rows, cols = np.indices((height, width))
    return np.clip(rows + offsets[0], 0, height - 1), np.clip(cols + offsets[1], 0, width - 1)


def _landing_index(offsets: np.ndarray) -> np.ndarray:
    """Flat index of the pixel each pixel lands on when moved by ``offsets``.

    Args:
        offsets: (2, H, W) displacement of each pixel.

    Returns:
        (H, W) int64 flat index ``row * W + col`` of ``rint(x + offsets(x))`` clipped into the image.
    """
    y, x = _landing_point(offsets)
    return np.rint(y).astype(np.int64) * offsets.shape[2] + np.rint(x).astype(np.int64)


def _bilinear_at(field: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(2, H, W) values of ``field`` bilinearly interpolated at ``x + offsets(x)`` clipped into the image."""
    height, width = field.shape[1:]
    y, x = _landing_point(offsets)
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    fy, fx = y - y0, x - x0
    return (field[:, y0, x0] * (1 - fy) * (1 - fx) + field[:, y0, x1] * (1 - fy) * fx +
            field[:, y1, x0] * fy * (1 - fx) + field[:, y1, x1] * fy * fx)


def _refine_centred(field: np.ndarray, iterations: int, interpolation: str = 'bilinear') -> np.ndarray:
    """Eq. 10 on an already mean-subtracted (2, H, W) float64 field; returns the (2, H, W) D_u."""
    if iterations < 0:
        raise ValueError(f'iterations must be >= 0, got {iterations}')
    if interpolation not in ('bilinear', 'nearest'):
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    flat_field = field.reshape(2, -1)
    refined = field.copy()
    for _ in range(iterations):
        # One gather per step: D at the (clipped) current landing point of every pixel.
        if interpolation == 'bilinear':
            refined += _bilinear_at(field, refined)
        else:
            refined += flat_field[:, _landing_index(refined)]
    return refined


def refine_displacement(displacement: ArrayLike, iterations: int = 100, interpolation: str = 'bilinear') -> np.ndarray:
    """Iteratively follow the displacement field towards the instance centroids (IRNet Eq. 10).

    After mean subtraction, ``D_0 = D`` and ``D_{u+1}(x) = D_u(x) + D(x + D_u(x))``: every pixel keeps
    moving by the displacement found where it currently lands, so pixels whose single-step prediction falls
    short of the centroid still reach it. ``D(x + D_u(x))`` is read at ``x + D_u(x)`` clipped into the image,
    bilinearly interpolated (``interpolation='nearest'``: at ``rint(x + D_u(x))``).

    Args:
        displacement: (2, H, W) field, channel 0 = dy (rows), channel 1 = dx (columns), in pixels.
        iterations: number of refinement steps u (IRNet: 100); 0 returns the mean-subtracted field.
        interpolation: ``'bilinear'`` (the authors' code) or ``'nearest'``.

    Returns:
        (2, H, W) float64 refined displacement ``D_u``.
    """
    return _refine_centred(_centred_field(displacement), iterations, interpolation)


def _centroid_components(field: np.ndarray, threshold: float) -> np.ndarray:
    """4-connected components of the small-displacement pixels of a mean-subtracted (2, H, W) field."""
    if threshold < 0:
        raise ValueError(f'threshold must be >= 0, got {threshold}')
    near_centroid = np.hypot(field[0], field[1]) < threshold
    # connectivity=1: 4-connectivity; background (False) pixels get 0, components 1..M in raster order.
    return connected_components(near_centroid, background=0, connectivity=1).astype(np.int64)


def find_centroids(displacement: ArrayLike, threshold: float = 2.5) -> np.ndarray:
    """Instance centroids: connected regions of pixels whose displacement is (almost) zero (IRNet Sec. 5).

    A pixel at an instance centroid should not move, so the centroids are the 4-connected components of
    ``{x : |D(x)| < threshold}`` on the mean-subtracted (unrefined) field.

    Args:
        displacement: (2, H, W) field, channel 0 = dy, channel 1 = dx, in pixels.
        threshold: largest displacement norm (pixels, exclusive) of a centroid pixel (IRNet: 2.5).

    Returns:
        (H, W) int64 map: 0 = not a centroid, 1..M = centroid component ids (raster-scan order).
    """
    return _centroid_components(_centred_field(displacement), threshold)


def instance_map(displacement: ArrayLike, iterations: int = 100, threshold: float = 2.5,
                 interpolation: str = 'bilinear') -> np.ndarray:
    """Class-agnostic instance map (IRNet Eq. 14-15).

    Each pixel is assigned the centroid component its refined displacement leads to:
    ``I(x) = k`` if ``rint(x + D_u(x))`` (clipped into the image) lies in component ``C_k`` of
    :func:`find_centroids`, and ``I(x) = 0`` if it lands on a pixel that belongs to no component (the field
    does not converge there, e.g. it oscillates), so such pixels are left unassigned rather than forced onto
    the nearest centroid.

    Args:
        displacement: (2, H, W) field, channel 0 = dy, channel 1 = dx, in pixels.
        iterations: refinement steps of :func:`refine_displacement` (IRNet: 100).
        threshold: centroid threshold of :func:`find_centroids` (IRNet: 2.5).
        interpolation: of the refinement, see :func:`refine_displacement`.

    Returns:
        (H, W) int64 instance labels in ``0..M``, numbered as the centroid components.
    """
    field = _centred_field(displacement)
    centroids = _centroid_components(field, threshold)
    refined = _refine_centred(field, iterations, interpolation)
    return centroids.reshape(-1)[_landing_index(refined)]
def same_class_masks_touch(masks: Sequence[np.ndarray], labels: Sequence[int], gap: int = 1) -> bool:
    """Whether two (H, W) bool masks of the same label come within ``gap`` pixels (chessboard distance) of each
    other; ``gap=1``: 8-adjacent."""
    kernel = np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)
    for i in range(len(masks)):
        others = [j for j in range(i + 1, len(masks)) if labels[j] == labels[i]]
        if others:
            grown = cv2.dilate(masks[i].astype(np.uint8), kernel).astype(bool)
            if any((grown & masks[j]).any() for j in others):
                return True
    return False

