"""BBAM's outputs of one image as a figure (Lee et al., CVPR 2021, Fig. 1 / 5).

Fixed layout of :data:`BBAM_COLUMNS` columns: one row per box (the box on the image | its attribution map with a
colour bar | its instance pseudo mask: foreground in the class colour, undecided in the ignore colour), then a row
for the image (all boxes | semantic pseudo label | the label over the image).
"""
from typing import List, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from wsseg_mm.functional.box_masks import box_to_mask

from .figure import IGNORE_INDEX, Box, Panel, label_palette, legend_entries, paint_labels, panel_figure, present_values

BBAM_COLUMNS = 3


def match_instance(unused: List[dict], box, label: int) -> Optional[dict]:
    """The instance of 1-based class ``label`` with most pixels inside ``box`` (x1, y1, x2, y2), removed from
    ``unused`` (a list of ``dict(mask (H, W) bool, category_id, ignore)``), or None: a box whose mask came out empty
    has no instance in the COCO file."""
    inside = box_to_mask(box, unused[0]['mask'].shape) if unused else None
    best, overlap = None, 0
    for inst in unused:
        if inst['category_id'] == label and (inst['mask'] & inside).sum() > overlap:
            best, overlap = inst, int((inst['mask'] & inside).sum())
    if best is not None:
        unused.remove(best)
    return best


def instance_labels(shape, instance: Optional[dict]) -> np.ndarray:
    """(H, W) uint8 of one instance: its class on the mask, 255 on its undecided (``ignore``) pixels, 0 else."""
    values = np.zeros(shape, np.uint8)
    if instance is not None:
        if instance.get('ignore') is not None:
            values[instance['ignore']] = IGNORE_INDEX
        values[instance['mask']] = instance['category_id']
    return values


def bbam_figure(image: np.ndarray, result: dict, instances: Sequence[dict], semantic: np.ndarray,
                classes: Sequence[str], metainfo: Optional[dict] = None, name: str = '') -> Figure:
    """The figure of one image.

    Args:
        image: (H, W, 3) uint8 RGB.
        result: the saved attributions (:func:`wsseg_mm.apis.load_attributions`): ``attributions`` (B, H, W) in
            [0, 1], ``boxes`` (B, 4) x1y1x2y2, ``labels`` (B, ) 0-based foreground classes, ``num_positives`` (B, ).
        instances: the image's instances of ``instances.json`` (``load_coco_instances``; ``category_id`` 1-based).
        semantic: (H, W) semantic pseudo label (0 background, 255 undecided).
        classes: the foreground class names (``instances.json``'s categories: box label ``l`` is ``classes[l]``).
        metainfo: the dataset's metainfo, whose palette colours classes 0.. (background first); name: the image.
    """
    names = ['background'] + list(classes)
    palette = label_palette(metainfo)
    shape = image.shape[:2]
    unused = list(instances)
    rows, shown = [], [semantic]
    all_boxes = []
    for b, (attr, box, label) in enumerate(zip(result['attributions'], result['boxes'], result['labels'])):
        value, positives = int(label) + 1, int(result['num_positives'][b])
        colour = tuple(int(c) for c in palette[value])
        drawn = Box(box, colour, names[value] if value < len(names) else str(value))
        all_boxes.append(drawn)
        instance = match_instance(unused, box, value) if positives > 0 else None
        mask = instance_labels(shape, instance)
        shown.append(mask)
        if positives == 0:
            mask_title = 'no positive proposal:\nbox left undecided'
        elif instance is None:
            mask_title = 'empty pseudo mask'
        else:
            mask_title = 'instance pseudo mask\n(foreground / undecided)'
        rows.append([
            Panel(image, f'box {b + 1}: {drawn.text}\n(positive proposals: {positives})', boxes=[drawn]),
            Panel(image, f'box {b + 1}: attribution map', scores=np.asarray(attr, np.float32), alpha=0.6,
                  colorbar='attribution (mask value)', boxes=[Box(box, (255, 255, 255))]),
            Panel(paint_labels(mask, palette, image, alpha=0.65, ignore_alpha=0.75) if instance is not None
                  else paint_labels(np.where(box_to_mask(box, shape), IGNORE_INDEX, 0).astype(np.uint8), palette,
                                    image, alpha=0.0, ignore_alpha=0.75),
                  f'box {b + 1}: {mask_title}'),
        ])
        shown.append(np.array([value] + ([IGNORE_INDEX] if positives == 0 else [])))  # box colour, undecided box
    rows.append([Panel(image, f'all {len(all_boxes)} boxes', boxes=all_boxes),
                 Panel(paint_labels(semantic, palette), 'semantic pseudo label'),
                 Panel(paint_labels(semantic, palette, image, alpha=0.6), 'semantic pseudo label over the image')])
    legend = legend_entries(present_values(*shown), names, palette, ignore_name='undecided')
    return panel_figure(rows, ncols=BBAM_COLUMNS, legend=legend,
                        title=f'BBAM pseudo labels of {name}' if name else 'BBAM pseudo labels')
