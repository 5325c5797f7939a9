"""IRNet's stages of one image as a figure (Ahn et al., CVPR 2019, Fig. 2 / 6).

Fixed layout of :data:`IRNET_COLUMNS` columns:

* row 1: image | relation labels (Sec. 4.2) | class boundary B | displacement field D (with its colour-wheel key) |
  semantic pseudo label (random walk) | instance pseudo label (displacement + boundary);
* then the CAM of each image-level class (its name in the title, a colour bar), :data:`IRNET_COLUMNS` per row.
"""
from typing import Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from .figure import (
    IGNORE_INDEX,
    Panel,
    blank_panel,
    displacement_picture,
    label_palette,
    legend_entries,
    paint_labels,
    panel_figure,
    present_values,
    resize_nearest,
)

IRNET_COLUMNS = 6
# instances are told apart by these colours (not the class palette, whose colours the legend gives to classes)
INSTANCE_COLOURS = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212))


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


def instance_panel(image: np.ndarray, instances: Sequence[dict], names: Sequence[str], title: str) -> Panel:
    """Each instance (``dict(mask (H, W) bool, label 1-based class, score)``) in its own colour over the image,
    with ``class score`` written at its centre."""
    out = np.asarray(image, np.float32) * 0.5 + 127.5 * 0.5
    texts = []
    for k, inst in enumerate(instances):
        mask = _numpy(inst['mask']).astype(bool)
        if not mask.any():
            continue
        colour = INSTANCE_COLOURS[k % len(INSTANCE_COLOURS)]
        out[mask] = 0.3 * np.asarray(image, np.float32)[mask] + 0.7 * np.asarray(colour, np.float32)
        ys, xs = np.nonzero(mask)
        label = int(inst['label'])
        name = names[label] if 0 <= label < len(names) else f'label {label}'
        score = f' {float(inst["score"]):.2f}' if 'score' in inst else ''
        texts.append((float(xs.mean()), float(ys.mean()), f'{name}{score}', colour))
    return Panel(out.clip(0, 255).astype(np.uint8), title, texts=texts)


def irnet_figure(image: np.ndarray, result: dict, classes: Sequence[str], relations: Optional[np.ndarray] = None,
                 metainfo: Optional[dict] = None, name: str = '') -> Figure:
    """The figure of one image.

    Args:
        image: (H, W, 3) uint8 RGB, as the model saw it.
        result: what :func:`wsseg_mm.apis.irnet_pseudo_labels` returns (``labels``, ``high_res`` (K, H, W),
            ``boundary`` (h, w), ``displacement`` (2, h', w'), ``semantic`` (H, W), ``instances``).
        classes: the dataset's class names (index 0 = background; ``result['labels']`` index into it).
        relations: optional (H, W) relation labels (0 background, class, 255 unknown) of
            :func:`wsseg_mm.apis.irnet_relations`.
        metainfo: the dataset's metainfo (its palette colours the classes); name: the image's name (figure title).
    """
    size = image.shape[:2]
    palette = label_palette(metainfo)
    semantic = _numpy(result['semantic'])
    boundary = resize_nearest(_numpy(result['boundary']), size)
    displacement = _numpy(result['displacement'])
    flow, flow_max = displacement_picture(displacement, size)
    grid = f'{displacement.shape[1]}x{displacement.shape[2]} grid'
    relation_panel = (Panel(paint_labels(relations, palette, image, alpha=0.7, ignore_alpha=0.7),
                            'relation labels\n(confident fg / bg, rest unknown)')
                      if relations is not None else blank_panel(size, 'relation labels\n(not given: --relation-dir)'))
    stages = [
        Panel(image, 'image'),
        relation_panel,
        Panel(image, 'class boundary B', scores=boundary, cmap='magma', alpha=1.0, colorbar='boundary probability'),
        Panel(flow, 'displacement field D\n(mean removed; key below)', flow_max=flow_max,
              flow_unit=f'cells of the {grid} (stride 4)'),
        Panel(paint_labels(semantic, palette, image, alpha=0.6), 'semantic pseudo label\n(CAM + random walk)'),
        instance_panel(image, result['instances'], classes, 'instance pseudo labels\n(colour = instance)'),
    ]
    cams = _numpy(result['high_res'])
    labels = [int(c) for c in result['labels']]
    cam_panels = [Panel(image, f'CAM: {classes[c] if c < len(classes) else c}', scores=cam, alpha=0.55,
                        colorbar='CAM (max-normalised)') for c, cam in zip(labels, cams)]
    rows = [stages] + [cam_panels[i:i + IRNET_COLUMNS] for i in range(0, len(cam_panels), IRNET_COLUMNS)]
    values = present_values(semantic, relations) + [int(inst['label']) for inst in result['instances']]
    legend = legend_entries(values, classes, palette, IGNORE_INDEX, ignore_name='unknown relation')
    title = f'IRNet stages of {name}' if name else 'IRNet stages'
    return panel_figure(rows, ncols=IRNET_COLUMNS, legend=legend, title=title,
                        legend_title='classes (image-level labels: ' + ', '.join(
                            classes[c] if c < len(classes) else str(c) for c in labels) + ')')
