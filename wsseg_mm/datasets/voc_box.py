"""PASCAL VOC boxes for box-supervised methods (mmdet scope): mmdet's VOCDataset with checked boxes."""
import warnings
from typing import List, Union

import numpy as np
from mmdet.datasets import VOCDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class WeakVOCDataset(VOCDataset):
    """mmdet's :class:`~mmdet.datasets.VOCDataset` that checks its boxes instead of trusting them.

    * a box reaching outside the image is clipped to it; a box with no area left inside is dropped; both are
      counted and reported in one warning per dataset;
    * with ``filter_cfg=dict(filter_empty_gt=True)`` the images left without objects are skipped and counted in
      one warning (mmdet drops them silently).

    * with classes other than VOC's, ``dataset_type`` is cleared so that ``VOCMetric`` names them correctly.

    The counts stay readable as ``num_clipped_boxes``, ``num_dropped_boxes`` and ``num_empty_images``.
    """

    def __init__(self, **kwargs) -> None:
        self.num_clipped_boxes = 0
        self.num_dropped_boxes = 0
        self.num_empty_images = 0
        super().__init__(**kwargs)
        if tuple(self._metainfo['classes']) != tuple(VOCDataset.METAINFO['classes']):
            # mmdet's VOCMetric prints VOC's own class names for a 'VOC2012' dataset_type whatever the classes
            # are; without it the metric names the classes of this dataset
            self._metainfo['dataset_type'] = None

    def parse_data_info(self, img_info: dict) -> Union[dict, List[dict]]:
        data_info = super().parse_data_info(img_info)
        width, height = data_info['width'], data_info['height']
        kept = []
        for instance in data_info['instances']:
            box = np.asarray(instance['bbox'], dtype=np.float64)
            clipped = box.copy()
            clipped[0::2] = clipped[0::2].clip(0, width)
            clipped[1::2] = clipped[1::2].clip(0, height)
            if not np.array_equal(box, clipped):
                self.num_clipped_boxes += 1
            if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
                self.num_dropped_boxes += 1
                continue
            instance['bbox'] = clipped.tolist()
            kept.append(instance)
        data_info['instances'] = kept
        return data_info

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.num_clipped_boxes:
            warnings.warn(f'{type(self).__name__}: clipped {self.num_clipped_boxes} boxes reaching outside their '
                          f'image, dropped {self.num_dropped_boxes} with no area inside ({self.ann_file})')
        return data_list

    def filter_data(self) -> List[dict]:
        valid = super().filter_data()
        if not self.test_mode and self.filter_cfg and self.filter_cfg.get('filter_empty_gt', False):
            self.num_empty_images = sum(1 for info in self.data_list if not info['instances'])
            if self.num_empty_images:
                warnings.warn(f'{type(self).__name__}: skipped {self.num_empty_images} of {len(self.data_list)} '
                              f'images with no valid object ({self.ann_file})')
        return valid
