"""Writers and readers of pseudo labels in the formats stock mmseg / mmdet datasets load.

* semantic: palette PNG, one per image, 255 = ignore (mmseg ``BaseSegDataset`` with ``seg_map_path``);
* instance: COCO JSON with RLE masks (mmdet ``CocoDataset``); an instance may carry an ``ignore_rle`` mask of
  pixels its label leaves undecided (BBAM), which stock mmdet ignores and wsseg_mm's mask head uses.

All writes are atomic (temporary file + rename) so an interrupted run never leaves a truncated file behind,
which is what makes pseudo-label runs resumable by "skip what exists".
"""
import io
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from wsseg_mm.metainfo import VOC_PALETTE


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix=osp.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save_npz(path: str, compressed: bool = False, **arrays) -> None:
    """``np.savez`` (or ``savez_compressed``) of ``arrays`` to ``path``, atomically."""
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def save_label_png(path: str, label: np.ndarray, palette: Sequence[Sequence[int]] = VOC_PALETTE) -> None:
    """Save an (H, W) uint8 label map as a palette PNG (atomically)."""
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ValueError(f'label must be (H, W) uint8, got {label.shape} {label.dtype}')
    import io
    image = Image.fromarray(label, mode='P')
    flat = [v for rgb in palette for v in rgb]
    image.putpalette(flat + [0] * (768 - len(flat)))
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    atomic_write_bytes(path, buffer.getvalue())


def load_label_png(path: str) -> np.ndarray:
    """(H, W) uint8 label indices of a (palette or grey) PNG; names the file on failure."""
    try:
        return np.asarray(Image.open(path))
    except (OSError, ValueError) as err:
        raise OSError(f'cannot read label map {path}: {err}') from None


def encode_mask(mask: np.ndarray) -> dict:
    """(H, W) bool mask -> COCO compressed RLE with ``counts`` as str (JSON-serialisable)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def decode_mask(rle: dict) -> np.ndarray:
    """COCO RLE (compressed str / bytes, or uncompressed list counts) -> (H, W) bool mask."""
    if isinstance(rle['counts'], list):
        rle = mask_utils.frPyObjects(rle, *rle['size'])
    elif isinstance(rle['counts'], str):
        rle = dict(rle, counts=rle['counts'].encode('ascii'))
    return mask_utils.decode(rle).astype(bool)


class CocoInstanceWriter:
    """Collects instance pseudo labels and writes a COCO instance JSON loadable by mmdet's ``CocoDataset``.

    Args:
        classes: foreground class names; category id ``k + 1`` is ``classes[k]``.
    """

    def __init__(self, classes: Sequence[str]) -> None:
        self.categories = [dict(id=i + 1, name=name) for i, name in enumerate(classes)]
        self.images: List[dict] = []
        self.annotations: List[dict] = []

    def add_image(self, file_name: str, height: int, width: int) -> int:
        """Register an image; returns its id."""
        image_id = len(self.images) + 1
        self.images.append(dict(id=image_id, file_name=file_name, height=int(height), width=int(width)))
        return image_id

    def add_instance(self, image_id: int, mask: np.ndarray, category_id: int, score: float = 1.0,
                     ignore: Optional[np.ndarray] = None) -> None:
        """Add an (H, W) bool instance mask; ``ignore`` (H, W) bool marks its undecided pixels."""
        if not 1 <= category_id <= len(self.categories):
            raise ValueError(f'category_id {category_id} outside 1..{len(self.categories)}')
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        ann = dict(id=len(self.annotations) + 1, image_id=image_id, category_id=int(category_id),
                   segmentation=encode_mask(mask), area=int(mask.sum()),
                   bbox=[float(x1), float(y1), float(x2 - x1), float(y2 - y1)], iscrowd=0, score=float(score))
        if ignore is not None and ignore.any():
            ann['ignore_rle'] = encode_mask(ignore)
        self.annotations.append(ann)

    def to_dict(self) -> Dict:
        return dict(images=self.images, annotations=self.annotations, categories=self.categories)

    def dump(self, path: str) -> None:
        """Write the JSON atomically."""
        atomic_write_bytes(path, json.dumps(self.to_dict()).encode())


def load_coco_instances(path: str) -> Dict[str, List[dict]]:
    """Read a COCO instance JSON into ``{file_name: [dict(mask, category_id, score, ignore), ...]}``."""
    with open(path) as f:
        coco = json.load(f)
    by_id = {img['id']: img['file_name'] for img in coco['images']}
    result: Dict[str, List[dict]] = {name: [] for name in by_id.values()}
    for ann in coco['annotations']:
        ignore = decode_mask(ann['ignore_rle']) if 'ignore_rle' in ann else None
        result[by_id[ann['image_id']]].append(dict(mask=decode_mask(ann['segmentation']),
                                                   category_id=ann['category_id'],
                                                   score=ann.get('score', 1.0), ignore=ignore))
    return result


def merge_coco(parts: Sequence[Dict]) -> Dict:
    """Concatenate COCO dicts that share categories (e.g. per-image fragments of a resumable run), renumbering
    image and annotation ids in the given order."""
    if not parts:
        raise ValueError('nothing to merge')
    images, annotations = [], []
    for part in parts:
        remap = {}
        for image in part['images']:
            remap[image['id']] = len(images) + 1
            images.append(dict(image, id=len(images) + 1))
        for ann in part['annotations']:
            annotations.append(dict(ann, id=len(annotations) + 1, image_id=remap[ann['image_id']]))
    return dict(images=images, annotations=annotations, categories=parts[0]['categories'])
