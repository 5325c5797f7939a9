"""WS^2: a segmenter's actor-action predictions on the A2D test frames, with the action alignment of Sec. 5.2,
scored with A2D's metrics; or its predictions on YouTube-Objects' masked test frames, scored with the per-class IoU
(Table 5: the mean IoU of the 10 object classes).

    python tools/ws2/predict.py SEGMENTER_CONFIG CHECKPOINT [--out-dir DIR] [--device cpu] [--launcher pytorch]
        [--cfg-options ...]

Every frame of the config's test dataset (the annotated A2D test frames, ``A2DFrameDataset``) is predicted at its
full size; within each video every predicted actor then takes its pixel-majority action over the video's predicted
frames (the paper: of the neighbouring frames). Prints (and writes to ``DIR/scores.json``) the actor-action, actor
and action mIoU, mean class accuracy and global pixel accuracy, with and without the alignment; with ``--out-dir``
the aligned predictions go to ``DIR/<video_id>/<frame:05d>.png`` (A2D_SEG_CLASSES indices).

With a YouTube-Objects segmenter config (its training ``YouTubeObjectsPseudoFrameDataset``; test: the masked frames
of the test shots, ``YouTubeObjectsFrameDataset``) there is no action, so no alignment: ``scores.json`` holds
``test``: ``object_mIoU`` (Table 5's figure), ``mIoU`` (with background), ``class_acc``, ``global_acc``; the
predictions (YTO_SEG_CLASSES indices) go to ``DIR/<shot_id>/<frame:05d>.png``.
"""
import argparse
import json
import os.path as osp

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    a2d_test_scores,
    build_split_dataset,
    init_model,
    load_cfg,
    setup_launcher,
    test_predictions,
    tool_log,
    yto_test_scores,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='WS^2: test predictions with action alignment, A2D scores (or '
                                     'YouTube-Objects\' object IoU)')
    parser.add_argument('config', help='the WS^2 segmenter config (its test_dataloader: the A2D test frames, or the '
                        'YouTube-Objects masked frames)')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default=None, help='write scores.json and the aligned predictions here')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    from wsseg_mm.apis.ws2 import pa_frames_kind
    from wsseg_mm.fileio.labels import atomic_write_bytes, save_label_png
    from wsseg_mm.functional.ws2 import align_actions
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options, args.launcher)
    out_dir = args.out_dir or osp.join(cfg.work_dir, 'ws2_predict')
    aligned = pa_frames_kind(cfg, 'predict.py') == 'A2DPseudoFrameDataset'  # YouTube-Objects: no actions to align
    with tool_log(out_dir, 'predict', args):
        model = init_model(cfg, args.checkpoint, args.device)
        dataset = build_split_dataset(cfg, 'test')
        predictions = test_predictions(model, dataset)
        if aligned:
            scores = dict(aligned=a2d_test_scores(predictions, align=True),
                          not_aligned=a2d_test_scores(predictions, align=False))
        else:
            scores = dict(test=yto_test_scores(predictions))
        scores.update(frames=len(dataset), checkpoint=osp.abspath(args.checkpoint))
        if args.out_dir:
            for video_id, frames in predictions.items():
                preds = [p for _, p, _ in frames]
                for (frame, _, _), pred in zip(frames, align_actions(preds) if aligned else preds):
                    save_label_png(osp.join(out_dir, video_id, f'{frame:05d}.png'), pred.astype('uint8'))
        if get_rank() == 0:
            atomic_write_bytes(osp.join(out_dir, 'scores.json'), json.dumps(scores, indent=1, sort_keys=True).encode())
    if get_rank() == 0:
        print(json.dumps(scores, sort_keys=True))


if __name__ == '__main__':
    main()
