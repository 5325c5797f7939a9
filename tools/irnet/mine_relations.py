"""IRNet stage 2b: inter-pixel relation mining (Sec. 4.2): confident foreground (CAM > 0.30) and background
(CAM < 0.05) areas, each refined by a dense CRF; everything between is 255.

    python tools/irnet/mine_relations.py CONFIG --cam-dir DIR --out-dir DIR [--fg 0.30] [--bg 0.05] [--launcher ...]

The thresholds come from the config's ``relation_mining`` (``fg_threshold``, ``bg_threshold``, ``crf_iters``; the
paper's 0.30 / 0.05 and 10 CRF iterations when absent, see ``wsseg_mm.apis.irnet``); ``--fg`` / ``--bg`` /
``--crf-iters`` override them.

Writes ``DIR/<image>.png`` (palette PNG: 0 background, class index, 255 unknown), the ``gt_sem_seg`` of IRNet's
training set. Resumable and split across processes by rank. ``DIR/manifest.json`` records the CAM folder's manifest
and the settings: other settings redo every image from the saved CAMs, other CAMs are refused (``--overwrite``
starts over). Each run logs its arguments, counts and times to ``DIR/mine_relations_<date>_<time>.log``.
"""
import argparse

import wsseg_mm  # noqa: F401

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_split_dataset,
    generate_irnet_relations,
    load_cfg,
    relation_mining_settings,
    setup_launcher,
    tool_log,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Mine inter-pixel relations from CAMs')
    parser.add_argument('config', help='the CAM config (its test dataloader lists the images)')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='label',
                        help='whose dataloader lists the images ({split}_dataloader; label: the method\'s '
                        'training list)')
    parser.add_argument('--fg', type=float, help='confident foreground threshold (config, else 0.30)')
    parser.add_argument('--bg', type=float, help='confident background threshold (config, else 0.05)')
    parser.add_argument('--crf-iters', type=int, help='dense CRF iterations (config, else 10)')
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the relation labels in --out-dir and start over (a rerun otherwise resumes, '
                        'and refuses labels of other CAMs)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    # the API's defaults (the paper's), the config's relation_mining over them, the options over both
    settings = relation_mining_settings(cfg, fg_threshold=args.fg, bg_threshold=args.bg, crf_iters=args.crf_iters)
    with tool_log(args.out_dir, 'mine_relations', args):
        generate_irnet_relations(build_split_dataset(cfg, args.split), args.cam_dir, args.out_dir, settings,
                                 args.overwrite)


if __name__ == '__main__':
    main()
