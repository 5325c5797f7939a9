"""WS^2 Stage 2 (Alg. 1): select, train, score and predict PA versions until the criterion stops improving.

    python tools/ws2/evolve.py SEGMENTER_CONFIG --pa-v0 DIR --work-dir WORK_DIR
        [--actor-config CFG --actor-checkpoint CKPT] [--criterion RIC|mIoU_PA] [--no-select]
        [--max-versions 4] [--min-delta 0.1] [--no-test] [--device cpu] [--launcher pytorch]
        [--cfg-options ...]

Version i: the PA.vi frames the selection keeps (``select_v{i}.txt``: D on cut-and-paste patches or the actor
classifier; ``--no-select`` trains on all), the segmenter trained on them from its config's initial weights with
``tools/train.py``'s machinery (``model_v{i}/``: best checkpoint by the criterion on the val videos' PA.vi frames,
early stopping), its scores (val RIC / mIoU_PA / RII; the PA's mIoU against the ground truth where there is one,
a diagnostic; the test frames' A2D scores with and without action alignment, or on YouTube-Objects the masked test
frames' object mIoU of Table 5), then PA.v(i+1) predicted by the best checkpoint and refined by Alg. 2
(``pa_v{i+1}/``). The versions stop when the best criterion gains less than ``--min-delta`` or after
``--max-versions``. Everything is recorded in ``WORK_DIR/ws2_state.json`` (printed at the end); a killed run
resumes when started again with the same arguments (an interrupted training from its last checkpoint). Settings:
the segmenter config's ``ws2_evolve`` / ``ws2_select`` dicts over the defaults, then these options.
``--launcher pytorch`` trains and predicts in N processes (the selection runs on rank 0).
"""
import argparse
import json
import os.path as osp

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    evolve,
    init_model,
    load_cfg,
    positive_int,
    select_device,
    setup_launcher,
    tool_log,
    ws2_evolve_settings,
    ws2_select_settings,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='WS^2 Stage 2: the select-train-predict loop (Alg. 1)')
    parser.add_argument('config', help='the WS^2 segmenter config (configs/ws2/deeplabv2_*.py)')
    parser.add_argument('--pa-v0', required=True, help='the PA.v0 folder of tools/ws2/make_pa.py')
    parser.add_argument('--work-dir', required=True, help='where the versions, models and the state file go')
    parser.add_argument('--actor-config', help='the Stage-1 actor recognizer config (for the selection)')
    parser.add_argument('--actor-checkpoint')
    parser.add_argument('--criterion', choices=['RIC', 'mIoU_PA'], default=None,
                        help='val score for the best checkpoint, early stopping and the versions (default RIC)')
    parser.add_argument('--no-select', dest='select', action='store_false', default=None,
                        help='train on every PA frame (Table 1\'s baseline)')
    parser.add_argument('--max-versions', type=positive_int, default=None, help='models v0 .. vN-1 (default 4)')
    parser.add_argument('--min-delta', type=float, default=None,
                        help='stop when the best criterion gains less (default 0.1)')
    parser.add_argument('--no-test', dest='test', action='store_false', default=None,
                        help='do not score each version on the test frames')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='applied to the segmenter config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options, args.launcher, work_dir=args.work_dir)
    settings = ws2_evolve_settings(cfg, criterion=args.criterion, select=args.select,
                                   max_versions=args.max_versions, min_delta=args.min_delta, test=args.test)
    if settings['select'] and not (args.actor_config and args.actor_checkpoint):
        raise SystemExit('evolve.py: the selection needs --actor-config and --actor-checkpoint (or --no-select)')
    device = select_device(args.device)
    with tool_log(args.work_dir, 'evolve', args):
        actor = init_model(load_cfg(args.actor_config), args.actor_checkpoint, device) if settings['select'] else None
        state = evolve(cfg, args.work_dir, args.pa_v0, settings, actor, ws2_select_settings(cfg), device)
    if get_rank() == 0:
        print(json.dumps(dict(final_version=state['final_version'], stop=state['stop'],
                              state=osp.join(args.work_dir, 'ws2_state.json'))))


if __name__ == '__main__':
    main()
