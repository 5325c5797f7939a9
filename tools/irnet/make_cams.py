"""IRNet stage 2a: class activation maps of every image of a split, from a trained CAMClassifier.

    python tools/irnet/make_cams.py CONFIG CHECKPOINT --out-dir DIR [--split label] [--launcher pytorch]

Writes ``DIR/<image>.npz`` with ``keys`` (the image's 1-based class labels), ``high_res`` (K, H, W) and
``strided`` (K, ceil(H/4), ceil(W/4)) normalised CAMs (float16). Resumable (finished images are skipped) and
split across processes by rank. ``DIR/manifest.json`` records the checkpoint's weights, the model's test settings and
the pipeline: a rerun with others is refused (``--overwrite`` starts over). Each run logs its arguments, counts and
times to ``DIR/make_cams_<date>_<time>.log``.
"""
import argparse

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_split_dataset,
    generate_irnet_cams,
    init_model,
    load_cfg,
    setup_launcher,
    tool_log,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Compute CAMs for IRNet')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='label',
                        help='whose dataloader lists the images ({split}_dataloader; label: the method\'s '
                        'training list)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the CAMs in --out-dir and start over (a rerun otherwise resumes, and refuses '
                        'CAMs of another checkpoint)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    with tool_log(args.out_dir, 'make_cams', args):
        model = init_model(cfg, args.checkpoint, args.device)
        generate_irnet_cams(model, build_split_dataset(cfg, args.split), args.out_dir, args.overwrite)


if __name__ == '__main__':
    main()
