"""WS^2 Stage 1: the initial pseudo annotations PA.v0 of every video of a split, from the trained actor (2D) and
action (3D) recognizers.

    python tools/ws2/make_pa.py ACTOR_CONFIG ACTOR_CKPT ACTION_CONFIG ACTION_CKPT --out-dir DIR [--split train]
        [--frames-per-video 20] [--temporal slice|interpolate] [--limit N] [--overwrite] [--device cpu]
        [--launcher pytorch]
    python tools/ws2/make_pa.py ACTOR_CONFIG ACTOR_CKPT --out-dir DIR [--no-action] ...   (actor maps only)

For each video, ``--frames-per-video`` uniformly sampled frames get Grad-CAM maps of the tagged actors and actions
on the full frames, Otsu masks, their union refined by SLIC superpixels (Alg. 2), and each kept superpixel the tagged
pair that fits it best (see wsseg_mm/apis/ws2.py). Writes ``DIR/<video_id>/<frame:05d>.png`` (class indices of
A2D_SEG_CLASSES; what A2DPseudoFrameDataset reads), ``DIR/pa_stats/<video_id>.json`` and ``DIR/summary.json``
(frames, empty PAs, constant maps), printed as the last line. Resumable and split across processes by rank;
``DIR/manifest.json`` records both checkpoints' weights and the settings (the action config's ``ws2_pa`` dict over
the defaults, then these options). Each run logs to ``DIR/make_pa_<date>_<time>.log``.

Actor maps only (``ws2_pa.with_action=False``, e.g. YouTube-Objects, whose shots have one class tag and no action:
configs/ws2/tsn_r50-os16_100e_yto-actor.py sets it): give the actor config and checkpoint alone; ``--no-action`` sets
it for any actor config (e.g. the A2D actors alone). The settings and the videos then come from the actor config
(``--cfg-options`` apply to it), and the PNGs hold the class index + 1 (0 background).
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
    parser.add_argument('action_config', nargs='?', default=None,
                        help='config of the 3D action recognizer (its test SampleFrames gives the clips; its ws2_pa '
                        'dict the settings); leave it and ACTION_CKPT out for actor maps only (with_action=False)')
    parser.add_argument('action_checkpoint', nargs='?', default=None)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='train', help='videos of this split of videoset.csv (train: the train '
                        'and val videos WS^2 annotates)')
    parser.add_argument('--frames-per-video', type=positive_int, default=None,
                        help='PA frames per video, uniformly sampled (default: ws2_pa / 20)')
    parser.add_argument('--temporal', choices=['slice', 'interpolate'], default=None,
                        help='how the 3D maps reach frames (default: ws2_pa / slice)')
    parser.add_argument('--no-action', action='store_true',
                        help='actor maps only: PA from the actor recognizer alone (sets ws2_pa.with_action=False; no '
                        'action config and checkpoint); labels = class index + 1')
    parser.add_argument('--limit', type=positive_int, default=None, help='only the first N videos')
    parser.add_argument('--overwrite', action='store_true',
                        help='delete the PAs in --out-dir and start over (a rerun otherwise resumes)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='applied to the action config (to the actor config when there is none)')
    args = parser.parse_args(argv)
    if (args.action_config is None) != (args.action_checkpoint is None):
        parser.error('give both ACTION_CONFIG and ACTION_CKPT, or neither (actor maps only)')
    if args.no_action and args.action_config is not None:
        parser.error('--no-action: leave out ACTION_CONFIG and ACTION_CKPT (the PA comes from the actor maps alone)')
    return args


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    with_action = args.action_config is not None
    actor_cfg = load_cfg(args.actor_config, None if with_action else args.cfg_options)
    action_cfg = load_cfg(args.action_config, args.cfg_options) if with_action else None
    settings = ws2_pa_settings(action_cfg if with_action else actor_cfg, frames_per_video=args.frames_per_video,
                               temporal=args.temporal, with_action=False if args.no_action else None)
    if settings['with_action'] != with_action:
        raise SystemExit(f'make_pa.py: ws2_pa.with_action is {settings["with_action"]} in '
                         f'{args.action_config or args.actor_config} but '
                         + ('an action config and checkpoint were given: leave them out'
                            if with_action else 'no action config and checkpoint were given: give them, or pass '
                            '--no-action (actor maps only)'))
    with tool_log(args.out_dir, 'make_pa', args):
        actor = init_model(actor_cfg, args.actor_checkpoint, args.device)
        action = init_model(action_cfg, args.action_checkpoint, args.device) if with_action else None
        dataset = build_pa_dataset(action_cfg if with_action else actor_cfg, args.split)
        result = generate_pa(actor, action, dataset, args.out_dir, settings, args.overwrite, args.limit)
    if get_rank() == 0:
        print(json.dumps(result['summary'], sort_keys=True))


if __name__ == '__main__':
    main()
