"""PASCAL VOC 2012 (+ SBD train_aug) with image-level class labels, for CAM classifiers (mmseg scope)."""
import os.path as osp
import warnings
from typing import List

import numpy as np
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from PIL import Image

from wsseg_mm.fileio.annotations import read_voc_object_names
from wsseg_mm.metainfo import VOC_CLASSES, VOC_PALETTE

from .seg_base import OwnClassesSegDataset


@DATASETS.register_module()
class VOCImageLabelDataset(OwnClassesSegDataset):
    """VOC images with their image-level labels (the classes present), as used by IRNet's CAM stage.

    Each data info holds ``img_labels``: the sorted foreground class indices (1..C-1) of the image, which
    :class:`PackWeakSegInputs` packs into the data sample. Images with no valid object are skipped and counted
    in one warning.

    Args:
        label_source (str): ``'xml'`` reads the object names of ``Annotations/<name>.xml`` (fast; present for
            every VOC 2012 image, hence for all 10,582 train_aug images); ``'seg'`` takes the classes present
            in the segmentation PNG (the convention of the IRNet authors' ``cls_labels.npy``).
        ann_subdir (str): folder of the XML annotations, relative to ``data_root``.
        skip_difficult (bool): ignore objects marked difficult (label_source='xml').
        **kwargs: :class:`OwnClassesSegDataset` (mmseg ``BaseSegDataset``) arguments (``data_root``, ``ann_file``,
            ``data_prefix=dict(img_path=..., seg_map_path=...)``, ``pipeline``, ``metainfo``...).
    """
    METAINFO = dict(classes=VOC_CLASSES, palette=VOC_PALETTE[:len(VOC_CLASSES)])

    def __init__(self,
                 label_source: str = 'xml',
                 ann_subdir: str = 'Annotations',
                 skip_difficult: bool = False,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        if label_source not in ('xml', 'seg'):
            raise ValueError(f"label_source must be 'xml' or 'seg', got {label_source!r}")
        self.label_source = label_source
        self.ann_subdir = ann_subdir
        self.skip_difficult = skip_difficult
        self.num_skipped = 0
        # the pipeline holds mmseg transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def _labels_from_xml(self, name: str) -> List[int]:
        xml_path = osp.join(self.data_root or '', self.ann_subdir, name + '.xml')
        classes = self.metainfo['classes']
        labels = set()
        for cls in read_voc_object_names(xml_path, self.skip_difficult):
            if cls not in classes:
                raise ValueError(f'{xml_path}: unknown class {cls!r} (known: {", ".join(classes[1:])})')
            labels.add(classes.index(cls))
        return sorted(labels)

    def _labels_from_seg(self, seg_path: str) -> List[int]:
        try:
            seg = np.asarray(Image.open(seg_path))
        except (OSError, ValueError) as err:
            raise OSError(f'cannot read segmentation map {seg_path}: {err}') from None
        present = np.unique(seg)
        return [int(c) for c in present if 0 < c < len(self.metainfo['classes'])]

    def load_data_list(self) -> List[dict]:
        data_list = []
        listed = super().load_data_list()
        for info in listed:
            name = osp.splitext(osp.basename(info['img_path']))[0]
            if self.label_source == 'seg':
                if 'seg_map_path' not in info:
                    raise ValueError("label_source='seg' needs data_prefix['seg_map_path']")
                labels = self._labels_from_seg(info['seg_map_path'])
            else:
                labels = self._labels_from_xml(name)
            if not labels:
                self.num_skipped += 1
                continue
            info['img_labels'] = labels
            data_list.append(info)
        source = self.ann_file or self.data_prefix.get('img_path')
        if not data_list:
            raise ValueError(f'{type(self).__name__}: none of the {len(listed)} images of {source} has an object of '
                             f'the classes {", ".join(self.metainfo["classes"][1:])} ({self.label_source} labels)')
        if self.num_skipped:
            warnings.warn(f'{type(self).__name__}: skipped {self.num_skipped} of {len(listed)} images with no valid '
                          f'object ({source})')
        return data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """Foreground labels of sample ``idx`` (used by class-aware samplers)."""
        return list(self.get_data_info(idx)['img_labels'])
