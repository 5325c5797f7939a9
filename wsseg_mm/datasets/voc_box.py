"""PASCAL VOC boxes for box-supervised methods (mmdet scope): mmdet's VOCDataset with checked boxes."""
import os.path as osp
import warnings
from collections import Counter
from typing import List, Union

import mmcv
import numpy as np
from mmdet.datasets import VOCDataset
from mmdet.registry import DATASETS
from mmengine.fileio import get, get_local_path, list_from_file

from wsseg_mm.fileio.annotations import read_voc_objects

from .seg_base import NamesFileOnError

UNKNOWN_CLASSES = ('error', 'ignore')

# why an object is not trained on, as the warning words it; the first two are dropped, the rest become ignore regions
_OUTSIDE, _EMPTY, _INVERTED = 'outside the image', 'with zero width or height', 'with inverted corners'
_IGNORED_REASONS = (_INVERTED, 'of a class not selected in metainfo', 'of an unknown class')


@DATASETS.register_module()
class WeakVOCDataset(NamesFileOnError, VOCDataset):
    """mmdet's :class:`~mmdet.datasets.VOCDataset` that checks its boxes instead of trusting them.

    An object no box-supervised method should learn from, and no pseudo label should call background, is kept as an
    *ignore region*: an instance with ``ignore_flag=1``, which mmdet packs into ``ignored_instances`` (as VOC's
    ``difficult`` objects), so its box can be written as 255 downstream. Per object:

    * a class left out of a ``metainfo=dict(classes=...)`` selection of VOC's classes: an ignore region;
    * any other unknown class name: a ``ValueError`` naming the XML file and the class, unless
      ``unknown_classes='ignore'`` (then an ignore region);
    * inverted corners (``xmin > xmax`` or ``ymin > ymax``): an ignore region over the box with its corners swapped;
    * a box reaching outside the image is clipped to it; a box with no pixel left (outside the image, zero width or
      height) is dropped.

    Ignore regions of a class outside the dataset's have ``bbox_label`` -1 (no class claims them; ``get_cat_ids``
    leaves them out). Clipped boxes and every dropped or ignored object, by reason, are counted in one warning per
    dataset; so are the images left without objects under ``filter_cfg=dict(filter_empty_gt=True)`` (skipped; mmdet
    drops them silently). An image list naming no image, and a filter leaving none, are ``ValueError``s naming the
    list. A corrupt XML, a missing or non-numeric coordinate, and an image that fails to load name their file.

    With classes other than VOC's, ``dataset_type`` is cleared so that ``VOCMetric`` names them correctly.

    The counts stay readable as ``num_clipped_boxes``, ``num_dropped_boxes`` (no pixel left), ``num_ignored_boxes``
    (made ignore regions), ``box_issues`` (a ``Counter`` of reasons) and ``num_empty_images``.

    Args:
        unknown_classes (str): ``'error'`` (default) or ``'ignore'``: what an object whose class is neither one of the
            dataset's nor one of VOC's becomes.
        **kwargs: mmdet :class:`~mmdet.datasets.VOCDataset` arguments.
    """

    def __init__(self, unknown_classes: str = 'error', **kwargs) -> None:
        if unknown_classes not in UNKNOWN_CLASSES:
            raise ValueError(f'WeakVOCDataset: unknown_classes must be one of {UNKNOWN_CLASSES}, got '
                             f'{unknown_classes!r}')
        self.unknown_classes = unknown_classes
        self.num_clipped_boxes = 0
        self.num_dropped_boxes = 0
        self.num_ignored_boxes = 0
        self.box_issues = Counter()
        self.num_empty_images = 0
        super().__init__(**kwargs)
        if tuple(self._metainfo['classes']) != tuple(VOCDataset.METAINFO['classes']):
            # mmdet's VOCMetric prints VOC's own class names for a 'VOC2012' dataset_type whatever the classes
            # are; without it the metric names the classes of this dataset
            self._metainfo['dataset_type'] = None

    def parse_data_info(self, img_info: dict) -> Union[dict, List[dict]]:
        """One image's data info, as mmdet's ``XMLDataset.parse_data_info`` (0-based integer boxes, ``ignore_flag``
        for difficult objects and boxes under ``filter_cfg['bbox_min_size']``), with the checks of the class
        docstring."""
        img_path = osp.join(self.sub_data_root, img_info['file_name'])
        xml_path = img_info['xml_path']
        with get_local_path(xml_path, backend_args=self.backend_args) as local_path:
            ann = read_voc_objects(local_path)
        width, height = ann['width'], ann['height']
        if width is None:
            img_bytes = get(img_path, backend_args=self.backend_args)
            try:
                img = mmcv.imfrombytes(img_bytes, backend='cv2')
            except Exception:  # OpenCV raises on an empty buffer ('!buf.empty()'), returns None on a corrupt one
                img = None
            if img is None:
                raise OSError(f'{xml_path} has no <size>, and its image {img_path} cannot be decoded '
                              f'({len(img_bytes)} bytes): replace the image or add <size> to the XML')
            height, width = img.shape[:2]
        instances = [inst for i, obj in enumerate(ann['objects'])
                     if (inst := self._check_object(obj, i, xml_path, width, height)) is not None]
        return dict(img_path=img_path, img_id=img_info['img_id'], xml_path=xml_path, height=height, width=width,
                    instances=instances)

    def _check_object(self, obj: dict, index: int, xml_path: str, width: int, height: int):
        """The instance of one XML object (None: dropped), counting what was changed."""
        classes = self._metainfo['classes']
        name, reason = obj['name'], None
        if name not in classes:
            if name in type(self).METAINFO['classes']:
                reason = _IGNORED_REASONS[1]
            elif self.unknown_classes == 'ignore':
                reason = _IGNORED_REASONS[2]
            else:
                raise ValueError(f'{xml_path}: object {index} has class {name!r}, not one of the dataset\'s '
                                 f'({", ".join(classes)}): fix the annotation, or set unknown_classes=\'ignore\' in '
                                 'the dataset config to keep such objects as ignore regions')
        # as mmdet's XMLDataset: integer pixels, VOC's 1-based corners made 0-based
        box = np.array([int(v) - 1 for v in obj['bbox']], dtype=np.float64)
        if box[2] < box[0] or box[3] < box[1]:
            box = np.array([min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])])
            reason = reason or _INVERTED
        clipped = box.copy()
        clipped[0::2] = clipped[0::2].clip(0, width)
        clipped[1::2] = clipped[1::2].clip(0, height)
        if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
            self.num_dropped_boxes += 1
            self.box_issues[_EMPTY if box[2] == box[0] or box[3] == box[1] else _OUTSIDE] += 1
            return None
        if not np.array_equal(box, clipped):
            self.num_clipped_boxes += 1
        ignore = bool(obj['difficult'])
        min_size = self.bbox_min_size
        if min_size is not None and (box[2] - box[0] < min_size or box[3] - box[1] < min_size):
            ignore = True  # mmdet's rule, on the box before clipping
        if reason is not None:
            self.num_ignored_boxes += 1
            self.box_issues[reason if reason == _INVERTED else f'{reason} ({name!r})'] += 1
        return dict(bbox=clipped.tolist(), bbox_label=classes.index(name) if name in classes else -1,
                    ignore_flag=int(ignore or reason is not None))

    def load_data_list(self) -> List[dict]:
        # as mmdet's XMLDataset.load_data_list, blank lines of the image list skipped (mmdet reads them as images)
        self.cat2label = {cat: i for i, cat in enumerate(self._metainfo['classes'])}
        data_list = [
            self.parse_data_info(dict(img_id=img_id, file_name=osp.join(self.img_subdir, f'{img_id}.jpg'),
                                      xml_path=osp.join(self.sub_data_root, self.ann_subdir, f'{img_id}.xml')))
            for img_id in (line.strip() for line in list_from_file(self.ann_file, backend_args=self.backend_args))
            if img_id
        ]
        if not data_list:
            raise ValueError(f'{type(self).__name__}: the image list {self.ann_file} names no image: check the path '
                             'and the file')
        if self.num_clipped_boxes or self.box_issues:
            dropped = {k: v for k, v in self.box_issues.items() if k in (_OUTSIDE, _EMPTY)}
            ignored = {k: v for k, v in self.box_issues.items() if k not in dropped}
            parts = []
            if self.num_clipped_boxes:
                parts.append(f'clipped {self.num_clipped_boxes} boxes reaching outside their image')
            if dropped:
                parts.append(f'dropped {self.num_dropped_boxes} with no pixel inside it ('
                             + ', '.join(f'{v} {k}' for k, v in sorted(dropped.items())) + ')')
            if ignored:
                parts.append(f'kept {self.num_ignored_boxes} objects as ignore regions (ignore_flag=1, '
                             'ignored_instances): ' + ', '.join(f'{v} {k}' for k, v in sorted(ignored.items())))
            warnings.warn(f'{type(self).__name__}: ' + '; '.join(parts) + f' ({self.ann_file})')
        return data_list

    def filter_data(self) -> List[dict]:
        valid = super().filter_data()
        if not self.test_mode and self.filter_cfg and self.filter_cfg.get('filter_empty_gt', False):
            self.num_empty_images = sum(1 for info in self.data_list if not info['instances'])
            if self.num_empty_images:
                warnings.warn(f'{type(self).__name__}: skipped {self.num_empty_images} of {len(self.data_list)} '
                              f'images with no valid object ({self.ann_file})')
        if self.data_list and not valid:
            raise ValueError(f'{type(self).__name__}: filter_cfg={self.filter_cfg} leaves none of the '
                             f'{len(self.data_list)} images of {self.ann_file}')
        return valid

    def get_cat_ids(self, idx: int) -> List[int]:
        """Class labels of the objects of sample ``idx`` (class-aware samplers), ignore regions of a class outside
        the dataset's (label -1) left out."""
        return [label for label in super().get_cat_ids(idx) if label >= 0]
