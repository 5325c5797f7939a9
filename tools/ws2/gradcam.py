"""Grad-CAM of any mmaction recognizer (2D or 3D) on a video: one overlay PNG per frame and a GIF of them.

    python tools/ws2/gradcam.py CONFIG CHECKPOINT FRAMES_DIR|VIDEO|FRAME... --out-dir DIR [--class C]
        [--target-layer backbone.layer4] [--temporal slice|interpolate] [--every N] [--device cpu]

FRAMES_DIR is a folder of frame images (sorted by name; e.g. an A2D ``pngs320H/<video_id>``), VIDEO a file OpenCV
reads (``.mp4``, ``.avi``), or several frame files. The maps are computed as WS^2's Stage 1 computes them (full frames;
a 2D recognizer sees each frame alone, a 3D one clips of the config's test ``SampleFrames``, its slices reaching
frames as ``--temporal`` says; see wsseg_mm/apis/ws2.py), each divided by its maximum. ``--class`` is a class index,
or an A2D actor / action name when the head has 7 / 9 classes; without it each clip's top-scoring class is shown.
Writes ``DIR/<frame:05d>.png`` (frames numbered from 1, as A2D's) and ``DIR/gradcam.gif``.
"""
import argparse
import glob
import os
import os.path as osp

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    init_model,
    load_cfg,
    positive_int,
    read_rgb,
    recognizer_frame_maps,
    ws2_pa_settings,
)
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS  # noqa: E402
from wsseg_mm.models import RecognizerGradCAM  # noqa: E402
from wsseg_mm.visualization import heatmap  # noqa: E402

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Grad-CAM of a recognizer on a video')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('frames', nargs='+', help='a folder of frames, a video file, or frame files')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--class', dest='target', default=None,
                        help='class index or A2D actor / action name (default: each clip\'s top class)')
    parser.add_argument('--target-layer', default=None,
                        help='module whose output is A, e.g. backbone.layer4 (default: the input of cls_head)')
    parser.add_argument('--temporal', choices=['slice', 'interpolate'], default=None,
                        help='3D recognizers: how the map\'s slices reach frames (default: slice)')
    parser.add_argument('--every', type=positive_int, default=1, help='map every N-th frame only')
    parser.add_argument('--device', default=None, help='cpu, cuda or cuda:N')
    return parser.parse_args(argv)


def read_frames(sources):
    """(H, W, 3) uint8 RGB frames of a folder, a video file, or frame files."""
    if len(sources) == 1 and osp.isdir(sources[0]):
        paths = sorted(p for p in glob.glob(osp.join(sources[0], '*')) if p.lower().endswith(IMAGE_SUFFIXES))
        if not paths:
            raise FileNotFoundError(f'{sources[0]}: no frame images ({", ".join(IMAGE_SUFFIXES)}) in this folder')
        return [read_rgb(p) for p in paths]
    if len(sources) == 1 and not sources[0].lower().endswith(IMAGE_SUFFIXES):
        capture = cv2.VideoCapture(sources[0])
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(np.ascontiguousarray(frame[..., ::-1]))
        capture.release()
        if not frames:
            raise FileNotFoundError(f'{sources[0]}: not a folder, and OpenCV reads no frame from it as a video')
        return frames
    return [read_rgb(p) for p in sources]


def class_index(target, num_classes):
    """--class as an index: an integer, or an A2D actor (7 classes) / action (9 classes) name."""
    if target is None:
        return None
    if target.isdigit():
        index = int(target)
    else:
        names = {len(A2D_ACTORS): A2D_ACTORS, len(A2D_ACTIONS): A2D_ACTIONS}.get(num_classes, ())
        if target not in names:
            raise SystemExit(f'--class {target}: give a class index below {num_classes}'
                             + (f' or one of {", ".join(names)}' if names else ''))
        index = names.index(target)
    if not 0 <= index < num_classes:
        raise SystemExit(f'--class {target}: the recognizer has {num_classes} classes')
    return index


def class_name(index, num_classes):
    names = {len(A2D_ACTORS): A2D_ACTORS, len(A2D_ACTIONS): A2D_ACTIONS}.get(num_classes)
    return names[index] if names else str(index)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_cfg(args.config)
    model = init_model(cfg, args.checkpoint, args.device)
    cam = RecognizerGradCAM(model, target_layer=args.target_layer)
    num_classes = model.cls_head.num_classes
    target = class_index(args.target, num_classes)
    settings = ws2_pa_settings(cfg, temporal=args.temporal)
    frames = read_frames(args.frames)
    indices = list(range(0, len(frames), args.every))
    result = recognizer_frame_maps(cam, frames, indices, None if target is None else [target], settings)
    os.makedirs(args.out_dir, exist_ok=True)
    pictures = []
    for n, index in enumerate(indices):
        picture = heatmap(result['maps'][n, 0].numpy(), frames[index])
        label = class_name(int(result['targets'][n, 0]), num_classes)
        cv2.putText(picture, f'{index + 1}: {label}', (2, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1,
                    cv2.LINE_AA)
        Image.fromarray(picture).save(osp.join(args.out_dir, f'{index + 1:05d}.png'))
        pictures.append(Image.fromarray(picture))
    gif = osp.join(args.out_dir, 'gradcam.gif')
    pictures[0].save(gif, save_all=True, append_images=pictures[1:], duration=200, loop=0)
    print(f'{len(pictures)} Grad-CAM overlays and {gif} written to {args.out_dir}')


if __name__ == '__main__':
    main()
