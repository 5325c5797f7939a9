"""PSI: one step of label diffusion (SLD) of every training image, from a checkpoint -- what ``SLDHook`` does at
the end of a stage.

    python tools/psi/expand_labels.py CONFIG CHECKPOINT --step t [--sld-dir DIR] [--gt-dir DIR] [--launcher pytorch]

Reads ``y_t`` (the scribbles at step 0, else ``{sld_dir}/step_t/<name>.png``), writes ``y_{t+1}`` to
``{sld_dir}/step_{t+1}/<name>.png`` and moves ``{sld_dir}/state.json`` to step ``t + 1``; prints the labelled
fraction and, where full masks exist, the accuracy of the new labels. ``sld_dir`` and ``gt_dir`` default to the
config's (the ``SLDHook`` entry, the training pipeline's ``LoadSLDLabels``). Resumable (finished images are
skipped; ``--overwrite`` redoes them) and split across processes by rank; the run is logged to
``{sld_dir}/expand_labels_<timestamp>.log``.
"""
import argparse
import json

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_expansion_dataset,
    expand_training_labels,
    init_model,
    load_cfg,
    setup_launcher,
    sld_settings,
    tool_log,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Expand the PSI training labels by one SLD step')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--step', type=int, required=True, help='t: expand y_t into y_{t+1}')
    parser.add_argument('--sld-dir', help='folder of the steps (default: the config\'s)')
    parser.add_argument('--gt-dir', help='full masks <name>.png to score the labels (default: the config\'s)')
    parser.add_argument('--overwrite', action='store_true', help='redo images whose labels exist')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.step < 0:
        raise SystemExit(f'--step must be >= 0, got {args.step}')
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = sld_settings(cfg, sld_dir=args.sld_dir, gt_dir=args.gt_dir)
    with tool_log(settings['sld_dir'], 'expand_labels', args):
        model = init_model(cfg, args.checkpoint)
        summary = expand_training_labels(model, build_expansion_dataset(cfg, settings), settings['sld_dir'],
                                         args.step, gt_dir=settings['gt_dir'], overwrite=args.overwrite)
    if get_rank() == 0:
        print(json.dumps(summary))


if __name__ == '__main__':
    main()
