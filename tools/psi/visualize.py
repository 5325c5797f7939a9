"""PSI's Fig. 2 for a few training images: image, scribbles ``y_0``, the supervision ``y_t`` after each SLD step,
the prediction and the ground truth, with titles (labelled fraction, accuracy of the labels) and a class legend.

    python tools/psi/visualize.py CONFIG CHECKPOINT --out FILE.png [--max 6] [--sld-dir DIR] [--gt-dir DIR]

The steps are the labels the training wrote (``{sld_dir}/step_t/<name>.png``); a step not written yet is computed
from the checkpoint with the same per-image function (:func:`wsseg_mm.apis.sld_expand_image`) and titled
"(recomputed)". The prediction is the checkpoint's arg-max at the image's original size.
"""
import argparse
import os
import os.path as osp

import numpy as np

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import image_name, init_model, load_cfg  # noqa: E402
from wsseg_mm.apis.psi import (  # noqa: E402
    build_expansion_dataset,
    current_labels,
    load_ground_truth,
    sld_expand_image,
    sld_label_path,
    sld_settings,
)
from wsseg_mm.fileio.labels import load_label_png  # noqa: E402
from wsseg_mm.visualization import colorize_label  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Picture PSI\'s supervision step by step (Fig. 2)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='picture file (.png)')
    parser.add_argument('--max', type=int, default=6, help='number of training images (rows)')
    parser.add_argument('--sld-dir', help='folder of the steps (default: the config\'s)')
    parser.add_argument('--gt-dir', help='full masks <name>.png (default: the config\'s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def paint(image: np.ndarray, labels: np.ndarray, ignore_index: int = 255) -> np.ndarray:
    """Labelled pixels in their class colour, the rest the image dimmed."""
    out = (image.astype(np.float32) * 0.35 + 255 * 0.15).astype(np.uint8)
    labelled = labels != ignore_index
    out[labelled] = colorize_label(labels)[labelled]
    return out


def describe(labels: np.ndarray, gt, ignore_index: int = 255) -> str:
    labelled = labels != ignore_index
    text = f'{100 * labelled.mean():.1f}% labelled'
    if gt is not None:
        scored = labelled & (gt != ignore_index)
        if scored.any():
            text += f', {100 * (labels[scored] == gt[scored]).mean():.1f}% right'
    return text


def main(argv=None):
    args = parse_args(argv)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = sld_settings(cfg, sld_dir=args.sld_dir, gt_dir=args.gt_dir)
    model = init_model(cfg, args.checkpoint)
    dataset = build_expansion_dataset(cfg, settings)
    ignore, classes, num_steps = model.ignore_index, dataset.metainfo['classes'], int(settings['num_steps'])
    rows, present = [], set()
    for i in range(min(args.max, len(dataset))):
        info, sample = dataset.get_data_info(i), dataset[i]
        name = image_name(info)
        image = np.ascontiguousarray(sample['inputs'].numpy().transpose(1, 2, 0)[..., ::-1])  # BGR -> RGB
        gt = load_ground_truth(info, settings['gt_dir'])
        labels = current_labels(sample, settings['sld_dir'], 0, name, ignore)
        panels = [(image, name), (paint(image, labels, ignore), f'scribbles y0\n{describe(labels, gt, ignore)}')]
        for step in range(1, num_steps + 1):
            path = sld_label_path(settings['sld_dir'], step, name)
            if osp.exists(path):
                labels, note = load_label_png(path), ''
            else:
                labels, note = sld_expand_image(model, sample, labels, step - 1)['labels'], ' (recomputed)'
            panels.append((paint(image, labels, ignore), f'SLD step {step}{note}\n{describe(labels, gt, ignore)}'))
        prediction = sld_expand_image(model, sample, labels, num_steps)['prediction']
        panels.append((colorize_label(prediction), 'prediction'))
        shown = [labels, prediction]
        if gt is not None:
            panels.append((paint(image, gt, ignore), 'ground truth'))
            shown.append(gt)
        present.update(int(c) for c in np.unique(np.concatenate([s.ravel() for s in shown])) if c != ignore)
        rows.append(panels)
    if not rows:
        raise SystemExit('no training image to show')
    ncols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(2.2 * ncols, 2.4 * len(rows) + 0.6), squeeze=False)
    for axes_row, panels in zip(axes, rows):
        for ax in axes_row:
            ax.axis('off')
        for ax, (picture, title) in zip(axes_row, panels):
            ax.imshow(picture)
            ax.set_title(title, fontsize=7)
    palette = colorize_label(np.arange(len(classes))[None])[0] / 255.0
    handles = [Patch(color=palette[c], label=classes[c]) for c in sorted(present) if c < len(classes)]
    fig.legend(handles=handles, loc='lower center', ncol=min(len(handles), 8), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f'picture written to {args.out}')


if __name__ == '__main__':
    main()
