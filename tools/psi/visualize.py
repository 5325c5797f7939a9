"""PSI's Fig. 2 for a few training images: image, scribbles ``y_0``, the supervision ``y_t`` after each SLD step,
the prediction and the ground truth, with titles (labelled fraction, accuracy of the labels) and a class legend.

    python tools/psi/visualize.py CONFIG CHECKPOINT --out FILE.png [--max 6] [--sld-dir DIR] [--gt-dir DIR]

The steps are the labels the training wrote (``{sld_dir}/step_t/<name>.png``); a step not written yet is computed
from the checkpoint with the same per-image function (:func:`wsseg_mm.apis.sld_expand_image`) and titled
"(recomputed)". The prediction is the checkpoint's arg-max at the image's original size.
"""
import argparse
import os.path as osp

import numpy as np

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
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
from wsseg_mm.visualization import PSIRow, psi_figure, save_figure  # noqa: E402


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


def main(argv=None):
    args = parse_args(argv)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = sld_settings(cfg, sld_dir=args.sld_dir, gt_dir=args.gt_dir)
    model = init_model(cfg, args.checkpoint)
    dataset = build_expansion_dataset(cfg, settings)
    ignore, num_steps = model.ignore_index, int(settings['num_steps'])
    rows = []
    for i in range(min(args.max, len(dataset))):
        info, sample = dataset.get_data_info(i), dataset[i]
        name = image_name(info)
        image = np.ascontiguousarray(sample['inputs'].numpy().transpose(1, 2, 0)[..., ::-1])  # BGR -> RGB
        labels = current_labels(sample, settings['sld_dir'], 0, name, ignore)
        row = PSIRow(image, name, labels, ground_truth=load_ground_truth(info, settings['gt_dir']))
        for step in range(1, num_steps + 1):
            path = sld_label_path(settings['sld_dir'], step, name)
            if osp.exists(path):
                labels, note = load_label_png(path), ''
            else:
                labels, note = sld_expand_image(model, sample, labels, step - 1)['labels'], 'recomputed'
            row.steps.append((labels, note))
        row.prediction = sld_expand_image(model, sample, labels, num_steps)['prediction']
        rows.append(row)
    if not rows:
        raise SystemExit('no training image to show')
    save_figure(psi_figure(rows, dataset.metainfo['classes'], num_steps, dataset.metainfo), args.out)
    print(f'picture written to {args.out}')


if __name__ == '__main__':
    main()
