"""PASCAL VOC 2012 with ScribbleSup scribbles (mmseg scope)."""
import os.path as osp
from typing import List

from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS

from wsseg_mm.metainfo import VOC_CLASSES, VOC_PALETTE

from .seg_base import OwnClassesSegDataset


@DATASETS.register_module()
class VOCScribbleDataset(OwnClassesSegDataset):
    """VOC images with ScribbleSup scribble files (``pascal_2012/<name>.xml``) and, optionally, full masks.

    Each data info holds ``scribble_path`` (rasterised by :class:`LoadScribbleAnnotation`) and, when
    ``data_prefix['seg_map_path']`` is given, ``seg_map_path`` for evaluation against full ground truth.

    Args:
        scribble_suffix (str): suffix of the scribble files.
        **kwargs: :class:`OwnClassesSegDataset` (mmseg ``BaseSegDataset``) arguments; ``data_prefix`` takes
            ``img_path``, ``scribble_path`` and optionally ``seg_map_path``.
    """
    METAINFO = dict(classes=VOC_CLASSES, palette=VOC_PALETTE[:len(VOC_CLASSES)])
    # scribbles label a few percent of the pixels: train with avg_non_ignore=True (WeakLabelChecksHook warns)
    PARTIAL_LABELS = True

    def __init__(self, scribble_suffix: str = '.xml', img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        self.scribble_suffix = scribble_suffix
        # the pipeline holds mmseg transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        scribble_dir = self.data_prefix.get('scribble_path')
        if scribble_dir is None:
            raise ValueError("VOCScribbleDataset needs data_prefix['scribble_path']")
        data_list = super().load_data_list()
        for info in data_list:
            name = osp.splitext(osp.basename(info['img_path']))[0]
            info['scribble_path'] = osp.join(scribble_dir, name + self.scribble_suffix)
            info['classes'] = self.metainfo['classes']
        return data_list
