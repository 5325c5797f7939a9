"""WS^2 Stage 1: the initial pseudo annotations PA.v0 of every video of a split, from the trained actor (2D) and
action (3D) recognizers.

    python tools/ws2/make_pa.py ACTOR_CONFIG ACTOR_CKPT ACTION_CONFIG ACTION_CKPT --out-dir DIR [--split train]
        [--frames-per-video 20] [--temporal slice|interpolate] [--limit N] [--overwrite] [--device cpu]
        [--launcher pytorch]

For each video, ``--frames-per-video`` uniformly sampled frames get Grad-CAM maps of the tagged actors and actions
on the full frames, Otsu masks, their union refined by SLIC superpixels (Alg. 2), and each kept superpixel the tagged
pair that fits it best (see wsseg_mm/apis/ws2.py). Writes ``DIR/<video_id>/<frame:05d>.png`` (class indices of
A2D_SEG_CLASSES; what A2DPseudoFrameDataset reads), ``DIR/pa_stats/<video_id>.json`` and ``DIR/summary.json``
(frames, empty PAs, constant maps), printed as the last line. Resumable and split across processes by rank;
``DIR/manifest.json`` records both checkpoints' weights and the settings (the action config's ``ws2_pa`` dict over
the defaults, then these options). Each run logs to ``DIR/make_pa_<date>_<time>.log``.
"""
import argparse
import json

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_pa_dataset,
    generate_pa,
    init_model,
    load_cfg,
    positive_int,
    setup_launcher,
    tool_log,
    ws2_pa_settings,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='WS^2 Stage 1: PA.v0 from video tags')
    parser.add_argument('actor_config', help='config of the 2D actor recognizer (e.g. configs/ws2/toy/tsn_*.py)')
    parser.add_argument('actor_checkpoint')
    parser.add_argument('action_config', help='config of the 3D action recognizer (its test SampleFrames gives '
                        'the clips; its ws2_pa dict the settings)')
    parser.add_argument('action_checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='train', help='videos of this split of videoset.csv (train: the train '
                        'and val videos WS^2 annotates)')
    parser.add_argument('--frames-per-video', type=positive_int, default=None,
                        help='PA frames per video, uniformly sampled (default: ws2_pa / 20)')
    parser.add_argument('--temporal', choices=['slice', 'interpolate'], default=None,
                        help='how the 3D maps reach frames (default: ws2_pa / slice)')
    parser.add_argument('--limit', type=positive_int, default=None, help='only the first N videos')
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the PAs in --out-dir and start over (a rerun otherwise resumes)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='applied to the action config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    actor_cfg = load_cfg(args.actor_config)
    action_cfg = load_cfg(args.action_config, args.cfg_options)
    settings = ws2_pa_settings(action_cfg, frames_per_video=args.frames_per_video, temporal=args.temporal)
    with tool_log(args.out_dir, 'make_pa', args):
        actor = init_model(actor_cfg, args.actor_checkpoint, args.device)
        action = init_model(action_cfg, args.action_checkpoint, args.device)
        dataset = build_pa_dataset(action_cfg, args.split)
        result = generate_pa(actor, action, dataset, args.out_dir, settings, args.overwrite, args.limit)
    if get_rank() == 0:
        print(json.dumps(result['summary'], sort_keys=True))


if __name__ == '__main__':
    main()
