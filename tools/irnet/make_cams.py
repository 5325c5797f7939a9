"""IRNet stage 2a: class activation maps of every image of a split, from a trained CAMClassifier.

    python tools/irnet/make_cams.py CONFIG CHECKPOINT --out-dir DIR [--split label] [--launcher pytorch]

Writes ``DIR/<image>.npz`` with ``keys`` (the image's 1-based class labels), ``high_res`` (K, H, W) and
``strided`` (K, ceil(H/4), ceil(W/4)) normalised CAMs (float16). Resumable (finished images are skipped) and
split across processes by rank.
"""
import argparse
import os.path as osp

import numpy as np

import wsseg_mm  # noqa: F401  (first: compat + registration)
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.fileio.labels import atomic_save_npz  # noqa: E402
from wsseg_mm.engine import (build_split_dataset, image_name, init_model, load_cfg, preprocess_one,  # noqa: E402
                             run_per_image, setup_launcher)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Compute CAMs for IRNet')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='label',
                        help='whose dataloader lists the images ({split}_dataloader; label: the method\'s training list)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    model = init_model(cfg, args.checkpoint)
    dataset = build_split_dataset(cfg, args.split)
    index = {image_name(dataset.get_data_info(i)): i for i in range(len(dataset))}

    def process(name: str) -> None:
        sample = dataset[index[name]]
        data = preprocess_one(model, sample)
        labels = [int(c) for c in sample['data_samples'].metainfo['img_labels']]
        cams = model.compute_cams(data['inputs'], labels)
        atomic_save_npz(osp.join(args.out_dir, name + '.npz'), keys=np.array(labels, np.int64),
                 high_res=cams['high_res'].numpy().astype(np.float16),
                 strided=cams['strided'].numpy().astype(np.float16))

    run_per_image(sorted(index), process, lambda n: [osp.join(args.out_dir, n + '.npz')], desc='CAMs')


if __name__ == '__main__':
    main()
