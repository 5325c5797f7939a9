"""IRNet stage 2b: inter-pixel relation mining (Sec. 4.2): confident foreground (CAM > 0.30) and background
(CAM < 0.05) areas, each refined by a dense CRF; everything between is 255.

    python tools/irnet/mine_relations.py CONFIG --cam-dir DIR --out-dir DIR [--fg 0.30] [--bg 0.05] [--launcher ...]

The thresholds come from the config's ``relation_mining`` (``fg_threshold``, ``bg_threshold``; the paper's
0.30 / 0.05 when absent); ``--fg`` / ``--bg`` override them.

Writes ``DIR/<image>.png`` (palette PNG: 0 background, class index, 255 unknown), the ``gt_sem_seg`` of IRNet's
training set. Resumable and split across processes by rank.
"""
import argparse
import os.path as osp

import numpy as np

import wsseg_mm  # noqa: F401
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.fileio.labels import save_label_png  # noqa: E402
from wsseg_mm.engine import (build_split_dataset, image_name, load_cams, load_cfg, read_rgb, run_per_image,  # noqa: E402
                             setup_launcher)
from wsseg_mm.functional.relation import mine_inter_pixel_relations  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Mine inter-pixel relations from CAMs')
    parser.add_argument('config', help='the CAM config (its test dataloader lists the images)')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='label',
                        help='whose dataloader lists the images ({split}_dataloader; label: the method\'s training list)')
    parser.add_argument('--fg', type=float, help='confident foreground threshold (config, else 0.30)')
    parser.add_argument('--bg', type=float, help='confident background threshold (config, else 0.05)')
    parser.add_argument('--crf-iters', type=int, default=10)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    # the config's thresholds over the function's defaults (the paper's), the options over both
    mining = dict(cfg.get('relation_mining', None) or {})
    mining.update({k: v for k, v in (('fg_threshold', args.fg), ('bg_threshold', args.bg)) if v is not None})
    dataset = build_split_dataset(cfg, args.split)
    paths = {image_name(dataset.get_data_info(i)): dataset.get_data_info(i)['img_path'] for i in range(len(dataset))}

    def process(name: str) -> None:
        cams = load_cams(args.cam_dir, name)
        image = read_rgb(paths[name])
        relations = mine_inter_pixel_relations(image, cams['high_res'].numpy(), np.array(cams['labels']),
                                               crf_cfg=dict(iterations=args.crf_iters), **mining)
        save_label_png(osp.join(args.out_dir, name + '.png'), relations)

    run_per_image(sorted(paths), process, lambda n: [osp.join(args.out_dir, n + '.png')], desc='relations')


if __name__ == '__main__':
    main()
