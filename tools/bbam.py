"""BBAM pseudo masks from a trained mmdet two-stage detector (what ``BBAMHook`` runs after training).

    python tools/bbam.py CONFIG CHECKPOINT [--out-dir DIR] [--launcher pytorch] [--cfg-options ...]
    bash tools/dist_bbam.sh CONFIG CHECKPOINT GPUS [--out-dir DIR]

The settings (pipeline, explainer, CRF, thresholds, proposals, output folder) are read from the config's
``BBAMHook`` entry in ``custom_hooks`` (``wsseg_mm.apis.bbam_settings``); a config without one gets the defaults of
``wsseg_mm.apis.bbam.BBAM_DEFAULTS``. Resumable (finished images are skipped, writes are atomic) and split across
processes by rank with the same result as one process.

Reruns: ``OUT_DIR/manifest.json`` records the checkpoint's weights and every setting. A rerun resumes when they
match, redoes only the post-processing (from the saved attribution maps) when only ``crf`` / ``fg_thr`` / ``bg_thr`` /
``proposals`` changed, and refuses anything else with what differs; ``--overwrite`` starts over. Each run logs
its arguments, counts and times to ``OUT_DIR/bbam_<date>_<time>.log``.
"""
import argparse

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    bbam_settings,
    check_bbam_setup,
    generate_bbam_pseudo_labels,
    init_model,
    load_cfg,
    positive_int,
    setup_launcher,
    tool_log,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate BBAM pseudo masks from a detector checkpoint')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', help='output folder (default: the hook\'s out_dir, else WORK_DIR/bbam)')
    parser.add_argument('--work-dir')
    parser.add_argument('--limit', type=positive_int, help='explain only the first N images (N >= 1)')
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the outputs in the output folder and start over (a rerun otherwise resumes, and '
                        'refuses outputs made with another checkpoint or other settings)')
    parser.add_argument('--one-box-at-a-time', action='store_true',
                        help='optimise each box alone (slower; the reference of the speed-up)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)  # also this process's share of the CPU cores
    cfg = load_cfg(args.config, args.cfg_options, args.launcher, args.work_dir)
    settings = bbam_settings(cfg)  # the BBAMHook entry of custom_hooks, read as plain settings
    if args.limit is not None:
        settings['limit'] = args.limit
    settings['overwrite'] = settings['overwrite'] or args.overwrite
    out_dir = args.out_dir or settings['out_dir'] or f'{cfg.work_dir}/bbam'
    with tool_log(out_dir, 'bbam', args):
        model = init_model(cfg, args.checkpoint, args.device)
        dataset = check_bbam_setup(cfg, settings, model, out_dir)
        generate_bbam_pseudo_labels(model, dataset, out_dir, settings, batched=not args.one_box_at_a_time)


if __name__ == '__main__':
    main()
