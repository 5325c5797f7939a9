"""Inter-pixel relation mining from CAMs (IRNet, Ahn et al., CVPR 2019, Sec. 4.2) as a plain numpy function.

Shape legend used in the docstrings:

* ``K`` -- number of foreground classes present in the image; ``H, W`` -- image height and width.

IRNet does not trust the CAMs everywhere. It keeps two kinds of confident areas:

* confident foreground, where a class' CAM exceeds a high threshold (``fg_threshold``, paper: 0.30);
* confident background, where every CAM is below a low threshold (``bg_threshold``, paper: 0.05);

each refined by a dense CRF so that their borders follow image edges. Pixels in neither area are left
unlabelled (255) and give no supervision to the relation labels of IRNet's affinity / displacement branches.
"""
from typing import Optional

import numpy as np

from wsseg_mm.functional.crf import dense_crf_labels

__all__ = ['mine_inter_pixel_relations', 'IGNORE_LABEL']

# Label of the pixels that are neither confident foreground nor confident background.
IGNORE_LABEL = 255


def _crf_argmax(image: np.ndarray, cams: np.ndarray, keys: np.ndarray, background_score: float,
                crf_cfg: dict) -> np.ndarray:
    """Label each pixel with its best class, background scoring a constant, and CRF-refine the result.

    Args:
        image: (H, W, 3) uint8 RGB image.
        cams: (K, H, W) normalised CAMs.
        keys: (K + 1,) class index of each CRF label, background (0) first.
        background_score: the constant CAM value given to background; a class wins only where its CAM is
            strictly larger (ties go to background, the first label).
        crf_cfg: keyword arguments forwarded to :func:`dense_crf_labels`.

    Returns:
        (H, W) int64 class indices (values of ``keys``).
    """
    background = np.full((1,) + cams.shape[1:], background_score, dtype=cams.dtype)
    coarse = np.concatenate([background, cams], axis=0).argmax(axis=0)
    refined = dense_crf_labels(image, coarse, n_labels=len(keys), **crf_cfg)
    return keys[refined]


def mine_inter_pixel_relations(image: np.ndarray,
                               cams: np.ndarray,
                               labels: np.ndarray,
                               *,
                               fg_threshold: float,
                               bg_threshold: float,
                               crf_cfg: Optional[dict] = None) -> np.ndarray:
    """Confident foreground / background / unknown label map from CAMs (IRNet Sec. 4.2).

    Args:
        image: (H, W, 3) uint8 RGB image.
        cams: (K, H, W) CAMs of the K foreground classes present in the image, each normalised to a maximum
            of 1 (IRNet divides each CAM by its maximum).
        labels: (K,) class index of each CAM, in ``[1, 254]`` (0 is background, 255 is "unknown").
        fg_threshold: background score of the foreground pass (paper: 0.30): a pixel is confident
            foreground if some CAM exceeds it (after CRF refinement).
        bg_threshold: background score of the background pass (paper: 0.05): a pixel is confident
            background if no CAM exceeds it (after CRF refinement). Must not exceed ``fg_threshold``.
        crf_cfg: keyword arguments of :func:`dense_crf_labels` (``iterations``, ``gt_prob``, kernel
            parameters); ``None`` uses its defaults (the IRNet authors').

    Returns:
        (H, W) uint8 map: the class index where the foreground pass finds an object, 0 where both passes find
        background, 255 elsewhere (the uncertain band between the two). With K = 0 every pixel is 0.
    """
    image = np.asarray(image)
    cams = np.asarray(cams)
    labels = np.asarray(labels)
    if image.ndim != 3:
        raise ValueError(f'image must have shape (H, W, 3), got {image.shape}')
    if cams.ndim != 3 or cams.shape[1:] != image.shape[:2]:
        raise ValueError(f'cams {cams.shape} must have shape (K, H, W) matching image {image.shape}')
    if labels.shape != (cams.shape[0],):
        raise ValueError(f'labels {labels.shape} must have shape (K,) with K = {cams.shape[0]} (cams {cams.shape})')
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f'labels must be integers, got dtype {labels.dtype}')
    if labels.size and (labels.min() < 1 or labels.max() >= IGNORE_LABEL):
        raise ValueError(f'labels must lie in [1, {IGNORE_LABEL - 1}], got {labels.tolist()}')
    if bg_threshold > fg_threshold:
        raise ValueError(f'bg_threshold ({bg_threshold}) must not exceed fg_threshold ({fg_threshold})')
    if cams.shape[0] == 0:
        # No foreground class: the whole image is (confident) background.
        return np.zeros(image.shape[:2], dtype=np.uint8)

    crf_cfg = {} if crf_cfg is None else dict(crf_cfg)
    keys = np.concatenate([[0], labels.astype(np.int64)])
    fg_pass = _crf_argmax(image, cams, keys, fg_threshold, crf_cfg)
    bg_pass = _crf_argmax(image, cams, keys, bg_threshold, crf_cfg)

    relation = fg_pass.astype(np.uint8)
    relation[fg_pass == 0] = IGNORE_LABEL
    relation[(fg_pass == 0) & (bg_pass == 0)] = 0
    return relation
