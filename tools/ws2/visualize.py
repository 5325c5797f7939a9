"""WS^2's pictures of a few PA frames: the frame, the Grad-CAM maps of its tagged actor and action, M_init, the
superpixels, M_refine = PA.v0, the later PA versions of a Stage-2 chain, and the ground truth.

    python tools/ws2/visualize.py ACTOR_CONFIG ACTOR_CKPT ACTION_CONFIG ACTION_CKPT --out FILE.png
        [--evolve-dir WORK_DIR] [--videos 3] [--frames 2] [--split train] [--device cpu] [--cfg-options ...]

The maps, M_init, the superpixels and PA.v0 are computed with the per-frame functions ``tools/ws2/make_pa.py``
uses (``ws2_video_maps``, ``pa_frame_labels``) and the settings it takes (the action config's ``ws2_pa``), so the
picture shows the labels the tool writes. ``--evolve-dir``: the PA versions ``pa_v1``, ``pa_v2``, ... that
``tools/ws2/evolve.py`` wrote there. The ground truth is shown where the frame has an A2D annotation.
"""
import argparse
import glob
import os.path as osp

import numpy as np

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import build_pa_dataset, init_model, load_cfg, positive_int, ws2_pa_settings  # noqa: E402
from wsseg_mm.apis.ws2 import (  # noqa: E402
    VideoFrames,
    pa_frame_labels,
    tagged_pairs,
    uniform_frames,
    ws2_gradcams,
    ws2_video_maps,
)
from wsseg_mm.datasets.transforms import load_a2d_label_map  # noqa: E402
from wsseg_mm.fileio.annotations import scan_a2d  # noqa: E402
from wsseg_mm.fileio.labels import load_label_png  # noqa: E402
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS, A2D_SEG_CLASSES, VOC_PALETTE  # noqa: E402
from wsseg_mm.visualization import WS2Row, save_figure, ws2_figure  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Picture WS^2\'s PAs frame by frame')
    parser.add_argument('actor_config')
    parser.add_argument('actor_checkpoint')
    parser.add_argument('action_config')
    parser.add_argument('action_checkpoint')
    parser.add_argument('--out', required=True, help='picture file (.png)')
    parser.add_argument('--evolve-dir', help='work dir of tools/ws2/evolve.py: show its pa_v1, pa_v2, ...')
    parser.add_argument('--videos', type=positive_int, default=3, help='videos shown (the first of the split)')
    parser.add_argument('--frames', type=positive_int, default=2, help='PA frames shown per video')
    parser.add_argument('--split', default='train')
    parser.add_argument('--device', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='applied to the action config')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    action_cfg = load_cfg(args.action_config, args.cfg_options)
    settings = ws2_pa_settings(action_cfg)
    actor_cam, action_cam = ws2_gradcams(init_model(load_cfg(args.actor_config), args.actor_checkpoint, args.device),
                                         init_model(action_cfg, args.action_checkpoint, args.device), settings)
    dataset = build_pa_dataset(action_cfg, args.split)
    annotations = {v['video_id']: dict(v['annotations'])
                   for v in scan_a2d(dataset.data_root, args.split, frame_dir=dataset.frame_dir)}
    versions = sorted(glob.glob(osp.join(glob.escape(args.evolve_dir), 'pa_v[0-9]*'))) if args.evolve_dir else []
    versions.sort(key=lambda d: int(osp.basename(d)[4:]))
    rows = []
    for i in range(min(args.videos, len(dataset))):
        info = dataset.get_data_info(i)
        frames = VideoFrames.of(info)
        indices = uniform_frames(int(info['total_frames']), settings['frames_per_video'])
        maps = ws2_video_maps(actor_cam, action_cam, frames, info['actor_labels'], info['action_labels'], indices,
                              settings)
        pairs = tagged_pairs(info['actor_labels'], info['action_labels'], info['a2d_ids'])
        shown = np.linspace(0, len(indices) - 1, min(args.frames, len(indices))).round().astype(int)
        for n in shown:
            index = indices[n]
            number = index + info.get('start_index', 1)
            result = pa_frame_labels(frames[index], maps['actor_maps'][n], maps['action_maps'][n], pairs, settings)
            mat = annotations.get(info['video_id'], {}).get(number)
            gt = load_a2d_label_map(mat) if mat else None
            row = WS2Row(frames[index], f'{info["video_id"]}/{number:05d}', maps['actor_maps'][n][0],
                         maps['action_maps'][n][0], A2D_ACTORS[info['actor_labels'][0]],
                         A2D_ACTIONS[info['action_labels'][0]], result['init'], result['superpixels'],
                         result['refined'], versions=[('PA.v0', result['labels'])], ground_truth=gt)
            for folder in versions:
                path = osp.join(folder, info['video_id'], f'{number:05d}.png')
                row.versions.append((f'PA.v{osp.basename(folder)[4:]}',
                                     load_label_png(path) if osp.exists(path) else np.zeros_like(result['labels'])))
            rows.append(row)
    if not rows:
        raise SystemExit('no video to show')
    metainfo = dict(palette=VOC_PALETTE[:len(A2D_SEG_CLASSES)])
    save_figure(ws2_figure(rows, A2D_SEG_CLASSES, metainfo), args.out)
    print(f'picture written to {args.out}')


if __name__ == '__main__':
    main()
