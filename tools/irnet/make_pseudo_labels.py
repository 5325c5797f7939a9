"""IRNet stage 4: label synthesis (Sec. 5) from the CAMs and a trained IRNet.

    python tools/irnet/make_pseudo_labels.py CONFIG CHECKPOINT --cam-dir DIR --out-dir DIR [--launcher ...]

Writes, under ``--out-dir``:
  * ``sem/<image>.png``: semantic pseudo labels (CAMs propagated by the boundary random walk);
  * ``ins/<image>.json``: per-image instance fragments, merged at the end into ``instances.json`` (COCO, RLE
    masks, each instance scored by the maximum of its propagated score), for mmdet's CocoDataset.
Thresholds and walk settings come from the config's ``label_synthesis`` (the paper's values by default); the
options below override them. Resumable (images with both outputs are skipped) and split across processes by rank.
``--out-dir``'s ``manifest.json`` records the checkpoint's weights, the CAM folder's manifest and the settings: other
settings redo every image (from the saved CAMs), another checkpoint or other CAMs are refused (``--overwrite`` starts
over). Each run logs its arguments, counts and times to ``--out-dir``'s ``make_pseudo_labels_<date>_<time>.log``.
"""
import argparse
import os.path as osp

import wsseg_mm  # noqa: F401

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_split_dataset,
    generate_irnet_pseudo_labels,
    init_model,
    label_synthesis_settings,
    load_cfg,
    setup_launcher,
    tool_log,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='IRNet label synthesis')
    parser.add_argument('config', help='the IRNet config (its test dataloader lists the images)')
    parser.add_argument('checkpoint')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='label', help='whose dataloader lists the images ({split}_dataloader)')
    parser.add_argument('--sem-bg', type=float, help='background score of semantic labels (config: 0.25)')
    parser.add_argument('--ins-bg', type=float, help='background score of instance labels (config: 0.25)')
    parser.add_argument('--beta', type=float, help='affinity exponent (config: 10)')
    parser.add_argument('--exp-times', type=int, help='the walk takes 2^exp_times steps (config: 8)')
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the pseudo labels in --out-dir and start over (a rerun otherwise resumes, and '
                        'refuses labels of another checkpoint or other CAMs)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = label_synthesis_settings(cfg, sem_bg=args.sem_bg, ins_bg=args.ins_bg, beta=args.beta,
                                        exp_times=args.exp_times)
    with tool_log(args.out_dir, 'make_pseudo_labels', args) as logger:
        model = init_model(cfg, args.checkpoint, args.device)
        dataset = build_split_dataset(cfg, args.split)
        merged = generate_irnet_pseudo_labels(model, dataset, args.cam_dir, args.out_dir, settings, args.overwrite)
        if merged is not None:
            logger.info(f'{len(merged["images"])} images, {len(merged["annotations"])} instances -> '
                        f'{osp.join(args.out_dir, "instances.json")}')


if __name__ == '__main__':
    main()
