"""Readers of precomputed mask proposals: MCG's published per-image ``.mat`` files and COCO-style RLE JSON.

Both return (N, H, W) bool masks ordered by score, descending (ties keep file order).
"""
import json
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from .labels import decode_mask
from .matlab import read_mat


def _masks_from_superpixels(superpixels: np.ndarray, labels: Sequence[np.ndarray], scores: np.ndarray,
                            max_proposals: Optional[int]) -> np.ndarray:
    """(N, H, W) bool unions of 1-based superpixel ids, sorted by score descending (stable), at most
    ``max_proposals``."""
    superpixels = np.asarray(superpixels).astype(np.int64)
    if superpixels.ndim != 2:
        raise ValueError(f'superpixels must be (H, W), got {superpixels.shape}')
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(labels):
        raise ValueError(f'got {len(labels)} proposals but {len(scores)} scores')
    order = np.argsort(-scores, kind='stable')
    if max_proposals is not None:
        order = order[:max(int(max_proposals), 0)]
    n_sp = int(superpixels.max()) if superpixels.size else 0
    masks = np.zeros((len(order), ) + superpixels.shape, dtype=bool)
    for out, index in enumerate(order):
        ids = np.asarray(labels[index]).reshape(-1).astype(np.int64)
        ids = ids[(ids >= 1) & (ids <= n_sp)]
        lut = np.zeros(n_sp + 1, dtype=bool)
        lut[ids] = True
        masks[out] = lut[superpixels]
    return masks


def load_mcg_proposals(path: str, max_proposals: Optional[int] = 1000) -> np.ndarray:
    """Masks of one image from MCG's published per-image ``.mat`` file.

    The file holds ``superpixels`` (H, W) int superpixel map with 1-based ids, ``labels`` (a cell array: each
    proposal a vector of superpixel ids) and ``scores`` (one per proposal). MATLAB v7.3 files (HDF5) are read
    with h5py, older ones with ``scipy.io.loadmat``.

    Args:
        path: the ``.mat`` file.
        max_proposals: keep at most this many highest-scoring proposals (None = all).

    Returns:
        (N, H, W) bool masks ordered by score descending (ties keep file order), N <= ``max_proposals``.
    """
    mat = read_mat(path, ('superpixels', 'labels', 'scores'))
    cells = np.asarray(mat['labels'])
    if cells.dtype == object:
        # A MATLAB cell array (N, 1) or (1, N); column-major order is MATLAB's linear index order.
        labels = [np.asarray(c) for c in cells.reshape(-1, order='F')]
    else:
        # A single proposal saved as a plain vector instead of a cell array.
        labels = [cells]
    superpixels, scores = mat['superpixels'], mat['scores']
    return _masks_from_superpixels(superpixels, labels, scores, max_proposals)


def _entry_matches(entry: dict, file_name: str, id_to_name: dict) -> bool:
    """Whether a proposal entry belongs to ``file_name`` (by ``file_name``, or by ``image_id`` mapped through
    the JSON's ``images`` table or equal to the file name / its stem)."""
    if 'file_name' in entry:
        return entry['file_name'] == file_name
    if 'image_id' in entry:
        image_id = entry['image_id']
        if image_id in id_to_name:
            return id_to_name[image_id] == file_name
        return str(image_id) in (file_name, osp.splitext(osp.basename(file_name))[0])
    return False


def load_rle_proposals(path: str, file_name: str, max_proposals: Optional[int] = None) -> np.ndarray:
    """Mask proposals of one image from a COCO-style RLE JSON.

    The JSON is a list of dicts (or ``{"annotations": [...], "images": [...]}``), each with ``segmentation``
    (COCO RLE, compressed or not), optional ``score`` (default 1.0) and either ``file_name`` or ``image_id``.
    An ``image_id`` selects the entry when the ``images`` table maps it to ``file_name``, or (without a
    table entry) when it equals ``file_name`` or its stem as a string.

    Args:
        path: the JSON file.
        file_name: the image whose proposals are returned.
        max_proposals: keep at most this many highest-scoring proposals (None = all).

    Returns:
        (N, H, W) bool masks ordered by score descending (ties keep file order); (0, 0, 0) when the image has
        no proposal in the file.
    """
    with open(path) as f:
        data = json.load(f)
    id_to_name = {}
    if isinstance(data, dict):
        id_to_name = {img['id']: img['file_name'] for img in data.get('images', []) if 'file_name' in img}
        entries = data.get('annotations', [])
    else:
        entries = data
    selected = [e for e in entries if _entry_matches(e, file_name, id_to_name)]
    if not selected:
        return np.zeros((0, 0, 0), dtype=bool)
    scores = np.array([float(e.get('score', 1.0)) for e in selected], dtype=np.float64)
    order = np.argsort(-scores, kind='stable')
    if max_proposals is not None:
        order = order[:max(int(max_proposals), 0)]
    masks = [decode_mask(selected[i]['segmentation']) for i in order]
    if not masks:
        return np.zeros((0, 0, 0), dtype=bool)
    if len({m.shape for m in masks}) != 1:
        raise ValueError(f'proposals of {file_name} in {path} have different sizes: {sorted({m.shape for m in masks})}')
    return np.stack(masks).astype(bool, copy=False)
