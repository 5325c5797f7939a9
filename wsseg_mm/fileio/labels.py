"""Writers and readers of pseudo labels in the formats stock mmseg / mmdet datasets load.

* semantic: palette PNG, one per image, 255 = ignore (mmseg ``BaseSegDataset`` with ``seg_map_path``);
* instance: COCO JSON with RLE masks (mmdet ``CocoDataset``); an instance may carry an ``ignore_rle`` mask of
  pixels its label leaves undecided (BBAM), which stock mmdet ignores and wsseg_mm's mask head uses.

All writes are atomic and durable (temporary file, ``fsync``, rename, ``fsync`` of the folder) so an interrupted
run or a crash never leaves a truncated file behind, which is what makes pseudo-label runs resumable by "skip what
exists"; the files get the usual mode of new files (``0o666`` less the umask, as ``open`` gives). The readers name
the file they cannot read (a truncated or empty file, e.g. copied in by hand), and :func:`check_label_file` tells a
resumed run whether an existing output loads.
"""
import io
import json
import os
import os.path as osp
import tempfile
import zipfile
import zlib
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from wsseg_mm.metainfo import VOC_PALETTE


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (``/proc/self/status``)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, hence the /proc route first)
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the file itself is already on disk
    finally:
        os.close(fd)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, ``fsync`` and an atomic rename.

    After a crash ``path`` holds either its old content or ``data``, never a part of it. The file's mode is
    ``0o666`` less the umask (``0o644`` under the usual ``022``), as for any new file.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix=osp.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            if hasattr(os, 'fchmod'):  # mkstemp's 0o600 would hide the labels from other users
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def atomic_save_npz(path: str, compressed: bool = False, **arrays) -> None:
    """What ``np.savez`` (or ``savez_compressed``) writes of ``arrays``, atomically, and the same bytes for the same
    arrays: the archive's entries carry a fixed date (numpy stamps the time of writing), so a resumed or repeated
    run can be compared with another byte for byte."""
    buffer = io.BytesIO()
    compression = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, 'w', compression=compression, allowZip64=True) as archive:
        for key, value in arrays.items():
            entry = zipfile.ZipInfo(key + '.npy', date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = compression
            with archive.open(entry, 'w', force_zip64=True) as f:  # as numpy does (gh-10776)
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


# what numpy, zipfile, zlib, json and PIL raise on an empty, truncated or corrupt file
_UNREADABLE = (OSError, ValueError, EOFError, KeyError, SyntaxError, zipfile.BadZipFile, zlib.error)


def _unreadable(path: str, error: BaseException) -> OSError:
    return OSError(f'cannot read {path}: {type(error).__name__}: {error} (an empty, truncated or corrupt file, e.g. '
                   'left by a crash or a copy; delete it, or rerun the tool that wrote it: a resumed run redoes '
                   'files it cannot read)')


def load_npz(path: str, keys: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file (only ``keys`` when given), read in full. An empty, truncated or corrupt
    file raises an ``OSError`` naming it; a missing one ``FileNotFoundError``."""
    if not osp.exists(path):
        raise FileNotFoundError(f'no such file: {path}')
    try:
        with np.load(path) as data:
            return {k: data[k] for k in (data.files if keys is None else keys)}
    except _UNREADABLE as error:
        raise _unreadable(path, error) from None


def load_json(path: str):
    """The content of a JSON file; an empty, truncated or corrupt file raises an ``OSError`` naming it."""
    if not osp.exists(path):
        raise FileNotFoundError(f'no such file: {path}')
    try:
        with open(path, 'rb') as f:
            return json.loads(f.read().decode('utf-8'))
    except _UNREADABLE as error:
        raise _unreadable(path, error) from None


def check_readable(path: str) -> None:
    """Raise an ``OSError`` naming ``path`` unless it is a complete file of its kind: non-empty; an ``.npz`` /
    zip whose directory and members lie inside the file; a ``.png`` whose chunks and checksums verify; a ``.json``
    that parses. Cheap (the arrays of an ``.npz`` are not decompressed): what a resumed run checks of every
    output it would skip."""
    try:
        size = osp.getsize(path)
        if size == 0:
            raise EOFError('the file is empty')
        suffix = osp.splitext(path)[1].lower()
        if suffix in ('.npz', '.zip'):
            with zipfile.ZipFile(path) as archive:  # its directory is at the end: a truncated file has none
                for member in archive.infolist():
                    if member.header_offset + member.compress_size > size:
                        raise EOFError(f'member {member.filename} ends after the end of the file')
        elif suffix == '.png':
            with Image.open(path) as image:
                image.verify()
        elif suffix == '.json':
            load_json(path)
    except FileNotFoundError:
        raise
    except _UNREADABLE as error:
        raise (error if str(error).startswith(f'cannot read {path}') else _unreadable(path, error)) from None


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
    if not osp.exists(path):
        raise FileNotFoundError(f'no such label map: {path}')
    try:
        with Image.open(path) as image:
            return np.asarray(image)
    except _UNREADABLE as error:
        raise _unreadable(path, error) from None


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
    coco = load_json(path)
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
