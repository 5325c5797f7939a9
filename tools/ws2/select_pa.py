"""WS^2 Stage 2: select the PA frames the segmenter trains on (Sec. 3.2).

    python tools/ws2/select_pa.py SEGMENTER_CONFIG ACTOR_CONFIG ACTOR_CKPT --out FILE [--device cpu]
        [--cfg-options ws2_select.epochs=20 ...]

The PA frames are those of the segmenter config's training PA frame dataset, A2DPseudoFrameDataset or
YouTubeObjectsPseudoFrameDataset (its data_root, pa_dir, split and train videos; no selection). Each PA region gets a
cut-and-paste patch; a discriminator D, trained with 2-fold cross-fitting by video, and the Stage-1 actor
(YouTube-Objects: class) classifier vote on it; a frame is kept when all its regions pass (see wsseg_mm/apis/ws2.py,
select_pa). Writes FILE (selected frame ids, one per line: the segmenter config's ``pa_selection``, e.g.
``--cfg-options train_dataloader.dataset.selection=FILE`` with an absolute FILE) and FILE.json (counts), printed as
the last line. Settings: ``ws2_select`` of the segmenter config over the defaults, then --cfg-options.
"""
import argparse
import json
import os.path as osp

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_select_dataset,
    init_model,
    load_cfg,
    select_device,
    select_pa,
    tool_log,
    ws2_select_settings,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='WS^2 Stage 2: select PA frames')
    parser.add_argument('segmenter_config', help='the WS^2 segmenter config (its train A2DPseudoFrameDataset or '
                        'YouTubeObjectsPseudoFrameDataset)')
    parser.add_argument('actor_config',
                        help='config of the Stage-1 2D actor recognizer (YouTube-Objects: the class recognizer)')
    parser.add_argument('actor_checkpoint')
    parser.add_argument('--out', required=True, help='selection file to write (FILE and FILE.json)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: the GPU when CUDA is available, else cpu)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='applied to the segmenter config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_cfg(args.segmenter_config, args.cfg_options)
    settings = ws2_select_settings(cfg)
    device = select_device(args.device)
    with tool_log(osp.dirname(osp.abspath(args.out)), 'select_pa', args):
        actor = init_model(load_cfg(args.actor_config), args.actor_checkpoint, device)
        summary = select_pa(build_select_dataset(cfg), actor, args.out, settings, device)
    print(json.dumps(summary, sort_keys=True))


if __name__ == '__main__':
    main()
