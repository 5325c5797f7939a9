"""Conversions of ground truth into the pseudo-label formats, so pseudo labels and ground truth share one reader."""
import os.path as osp
from typing import Sequence

import numpy as np
from tqdm import tqdm

from wsseg_mm.fileio.annotations import read_image_list
from wsseg_mm.fileio.labels import CocoInstanceWriter, load_label_png


def voc_instances_to_coco(voc_root: str, split: str, classes: Sequence[str],
                          progress: bool = True) -> CocoInstanceWriter:
    """VOC ``SegmentationObject`` + ``SegmentationClass`` masks of one split as a COCO instance writer.

    Each instance's class is the majority class of its pixels in ``SegmentationClass``; VOC's void band
    (255) stays outside every mask and is kept per instance as ``ignore_rle`` (the pixels of the band that touch
    the instance's box), so instance AP can leave it out as the SDS evaluation does.

    Args:
        voc_root: the ``VOC2012`` folder.
        split: name of the list in ``ImageSets/Segmentation`` (an empty list is a ``ValueError`` naming it).
        classes: class names with ``classes[0]`` = background; COCO category ``k`` is ``classes[k]``.
    """
    names = read_image_list(osp.join(voc_root, 'ImageSets', 'Segmentation', f'{split}.txt'))
    writer = CocoInstanceWriter(classes[1:])
    for name in tqdm(names, desc=f'VOC {split} instances', disable=not progress):
        object_path = osp.join(voc_root, 'SegmentationObject', name + '.png')
        class_path = osp.join(voc_root, 'SegmentationClass', name + '.png')
        objects, semantic = load_label_png(object_path), load_label_png(class_path)
        if objects.shape != semantic.shape:
            raise ValueError(f'{object_path} {objects.shape} and {class_path} {semantic.shape} differ in size')
        image_id = writer.add_image(name + '.jpg', *objects.shape)
        void = objects == 255
        for index in np.unique(objects):
            if index in (0, 255):
                continue
            mask = objects == index
            labels, counts = np.unique(semantic[mask], return_counts=True)
            valid = (labels > 0) & (labels < len(classes))
            if not valid.any():
                continue
            category = int(labels[valid][counts[valid].argmax()])
            ys, xs = np.nonzero(mask)
            near = np.zeros_like(void)
            near[max(ys.min() - 1, 0):ys.max() + 2, max(xs.min() - 1, 0):xs.max() + 2] = True
            writer.add_instance(image_id, mask, category, ignore=void & near)
    return writer
