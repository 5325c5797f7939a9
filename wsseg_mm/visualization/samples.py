"""What a dataset feeds a model, as a figure (``tools/analysis_tools/browse_dataset.py``): one row per packed sample,
a fixed number of columns for the sample's kind.

* segmentation (``gt_sem_seg``, mmseg): image (with its image-level tags, if any) | label over the image | label;
* detection (``gt_instances``, mmdet): image | boxes and masks, coloured by class (class ``l`` painted as ``l + 1``
  in the VOC colours, background first, as the segmentation pictures colour the same classes);
* video (5-D inputs, mmaction): :data:`MAX_FRAMES` frames of the first clip, the clip's tags in the row title.

Images arrive as packed tensors: (C, H, W) BGR (mmseg / mmdet) or (clips, C, T, H, W) BGR (mmaction).
"""
from typing import List, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure

from .figure import Box, Panel, label_palette, legend_entries, paint_labels, panel_figure, present_values

MAX_FRAMES = 8


def sample_kind(sample: dict) -> str:
    """'video', 'segmentation', 'detection' or 'image' (no annotation) of a packed sample."""
    data = sample['data_samples']
    if sample['inputs'].ndim == 5:
        return 'video'
    if 'gt_sem_seg' in data:
        return 'segmentation'
    if 'gt_instances' in data:
        return 'detection'
    return 'image'


def _rgb(chw_bgr) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(chw_bgr).transpose(1, 2, 0)[..., ::-1]).astype(np.uint8)


def _names(indices, names: Sequence[str]) -> List[str]:
    return [names[i] if 0 <= i < len(names) else str(i) for i in indices]


def video_tags(gt_label, metainfo: dict) -> List[str]:
    """Names of a clip's ``gt_label``: a float multi-hot vector (mmaction's ``multi_class``) or integer class
    indices, over the classes of ``metainfo['label_type']`` (``'actor'``, ``'action'`` or ``'both'``: actors then
    actions; A2D datasets) or ``metainfo['classes']``."""
    label = gt_label.detach().cpu() if hasattr(gt_label, 'detach') else gt_label
    label = np.asarray(label).reshape(-1)
    kind = metainfo.get('label_type')
    if kind is not None:
        names = (list(metainfo.get('actors', ())) if kind in ('actor', 'both') else []) + (
            list(metainfo.get('actions', ())) if kind in ('action', 'both') else [])
    else:
        names = list(metainfo.get('classes', ()))
    indices = np.nonzero(label)[0] if np.issubdtype(label.dtype, np.floating) else label.astype(np.int64)
    return _names([int(i) for i in indices], names)


def sample_panels(sample: dict, metainfo: dict) -> Tuple[List[Panel], List[int], str]:
    """The panels of one packed sample, the label values they paint (for the legend) and a row title suffix."""
    data, kind = sample['data_samples'], sample_kind(sample)
    classes = list(metainfo.get('classes', ()))
    inputs = sample['inputs'].numpy()
    if kind == 'video':
        frames = inputs[0].transpose(1, 0, 2, 3)  # (T, C, H, W)
        keep = np.unique(np.linspace(0, len(frames) - 1, min(MAX_FRAMES, len(frames))).round().astype(int))
        panels = [Panel(_rgb(frames[t]), f'frame {t + 1}/{len(frames)}') for t in keep]
        tags = ', '.join(video_tags(data.gt_label, metainfo)) if hasattr(data, 'gt_label') else ''
        return panels, [], f'tags: {tags}' if tags else ''
    image = _rgb(inputs)
    if kind == 'segmentation':
        palette = label_palette(metainfo)
        label = data.gt_sem_seg.data[0].numpy()
        tags = data.metainfo.get('img_labels')
        title = 'image' + (f'\n(tags: {", ".join(_names([int(t) for t in tags], classes))})' if tags is not None
                           else '')
        return [Panel(image, title),
                Panel(paint_labels(label, palette, image, alpha=0.7, ignore_alpha=0.4), 'label over the image'),
                Panel(paint_labels(label, palette), 'label (gt_sem_seg)')], present_values(label), ''
    if kind == 'detection':
        palette = label_palette()  # the VOC colours, background first: class colours as in the other pictures
        inst = data.gt_instances
        labels = inst.labels.numpy().astype(np.int64)
        bboxes = inst.bboxes.numpy() if hasattr(inst.bboxes, 'numpy') else inst.bboxes.tensor.numpy()
        painted = np.zeros(image.shape[:2], np.uint8)
        if 'masks' in inst:
            for k, mask in enumerate(inst.masks.to_ndarray()):
                painted[mask > 0] = labels[k] + 1
        shown = paint_labels(painted, palette, image, alpha=0.5) if 'masks' in inst else image
        boxes = [Box(b, tuple(int(c) for c in palette[v + 1]), _names([v], classes)[0]) for b, v in zip(bboxes, labels)]
        title = ('boxes and masks' if 'masks' in inst else 'boxes') + f' ({len(boxes)})'
        return [Panel(image, 'image'), Panel(shown, title, boxes=boxes)], [int(v) + 1 for v in labels], ''
    return [Panel(image, 'image (no annotation)')], [], ''


def samples_figure(samples: Sequence[dict], metainfo: dict, names: Sequence[str], title: str = '') -> Figure:
    """One row per packed sample (``names``: the row titles), the legend of the classes shown (detection classes
    are painted as label + 1 over background 0) and of ignore (255)."""
    if not samples:
        raise ValueError('samples_figure needs at least one sample')
    rows, values, row_titles = [], [], []
    for sample, name in zip(samples, names):
        panels, shown, note = sample_panels(sample, metainfo)
        rows.append(panels)
        values += shown
        row_titles.append(f'{name}\n{note}' if note else name)
    classes = list(metainfo.get('classes', ()))
    if sample_kind(samples[0]) == 'detection':
        palette, classes = label_palette(), ['background'] + classes
    else:
        palette = label_palette(metainfo)
    legend = legend_entries(present_values(np.array(values, np.int64)), classes, palette) if values else []
    return panel_figure(rows, row_titles=row_titles, legend=legend, title=title)
