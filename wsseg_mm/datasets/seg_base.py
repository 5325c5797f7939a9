"""What the wsseg_mm datasets share: a sample that fails to load names its image file (every dataset), and the mmseg
datasets' own class sets and non-empty image lists."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmseg.datasets import BaseSegDataset

from wsseg_mm.metainfo import VOC_PALETTE


def image_file_problem(path: str) -> Optional[str]:
    """What is wrong with a local image file: ``'is empty (0 bytes)'``, ``'cannot be decoded (...)'``, or None when
    it decodes (or is not a local file: a remote backend's errors are its own)."""
    import cv2
    if not path or not osp.isfile(path):
        return None
    size = osp.getsize(path)
    if size == 0:
        return 'is empty (0 bytes)'
    try:
        decoded = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED) is not None
    except cv2.error:
        decoded = False
    return None if decoded else f'cannot be decoded ({size} bytes: truncated, corrupt or not an image)'


class NamesFileOnError:
    """Mixin for an mmengine ``BaseDataset``: an error while a sample goes through the pipeline names its image.

    A missing, empty or undecodable image file (OpenCV says only ``!buf.empty()``) becomes an ``OSError`` naming the
    file, what is wrong with it and the image list to fix; any other error keeps its type and gains a note naming
    the sample and its image (shown in the traceback).
    """

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except Exception as err:
            try:
                path = self.get_data_info(idx).get('img_path')
            except Exception:  # the index itself is bad: the original error says so
                raise err from None
            problem = image_file_problem(path)
            if problem is not None:
                raise OSError(f'{type(self).__name__}: image {path} {problem}; replace the file or remove its line '
                              f'from {self.ann_file or "the image list"}') from err
            err.add_note(f'{type(self).__name__}: while loading sample {idx}, image {path}')
            raise


class OwnClassesSegDataset(NamesFileOnError, BaseSegDataset):
    """A :class:`BaseSegDataset` whose ``metainfo['classes']`` may also name a class set of its own.

    mmseg treats a ``classes`` list as a selection of the dataset's default classes and refuses any other. Here a
    subset still selects and remaps as in mmseg, while a list with a name outside the defaults declares a new
    class set (labels in file order), as the toy benchmark does with the same VOC-layout datasets; its palette
    defaults to the VOC colour map.

    Blank lines of an image list (``ann_file``) are skipped; a list or image folder with no image is a
    ``ValueError`` naming it (mmengine would fail with ``need at least one array to concatenate``), and a sample
    failing to load names its image (:class:`NamesFileOnError`).
    """

    def __init__(self, metainfo: Optional[dict] = None, **kwargs) -> None:
        classes = (metainfo or {}).get('classes')
        if classes is not None and self.get_label_map(classes) is None and 'palette' not in metainfo:
            metainfo = dict(metainfo, palette=VOC_PALETTE[:len(classes)])
        super().__init__(metainfo=metainfo, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence] = None) -> Optional[dict]:
        old_classes = cls.METAINFO.get('classes')
        if new_classes is not None and old_classes is not None and not set(new_classes) <= set(old_classes):
            return None
        return super().get_label_map(new_classes)

    def load_data_list(self) -> List[dict]:
        # mmseg turns a blank line of the image list into an image named '' (its path ends in '/' + img_suffix)
        data_list = [info for info in super().load_data_list() if osp.basename(info['img_path']) != self.img_suffix]
        if not data_list:
            source = (f'image list {self.ann_file}' if self.ann_file else
                      f'image folder {self.data_prefix.get("img_path")} (suffix {self.img_suffix})')
            raise ValueError(f'{type(self).__name__}: the {source} names no image: check the path and the file')
        return data_list
