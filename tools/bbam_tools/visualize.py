"""Pictures of BBAM's outputs: per image one row per box (image with the box, attribution map over the image,
final pseudo mask with its ignore region), and the image's semantic pseudo label.

    python tools/bbam_tools/visualize.py BBAM_OUT_DIR --out-dir DIR [--max 16] [--upscale 2]

``BBAM_OUT_DIR`` is what ``BBAMHook`` / ``tools/bbam.py`` wrote (``attributions/``, ``instances.json``,
``semantic/``); the images are found through the file names of ``instances.json`` under ``--img-dir`` (default:
the folder next to BBAM_OUT_DIR named JPEGImages).
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np
from tqdm import tqdm

from wsseg_mm.apis import load_attributions, read_rgb
from wsseg_mm.fileio.labels import atomic_write_bytes, load_coco_instances, load_label_png
from wsseg_mm.functional.box_masks import box_to_mask
from wsseg_mm.visualization import colorize_label, draw_boxes, heatmap, make_grid, overlay_label


def mask_picture(image: np.ndarray, mask: np.ndarray, ignore, label: int) -> np.ndarray:
    """Foreground in its class colour, ignored pixels in the ignore colour, over the image."""
    values = np.zeros(mask.shape, np.uint8)
    if ignore is not None:
        values[ignore] = 254  # a light palette entry: undecided
    values[mask] = label
    return overlay_label(image, values, alpha=0.6)


def match_instance(unused: list, box, label: int):
    """The instance of ``label`` with most pixels inside ``box`` (removed from ``unused``), or None (a box
    whose mask came out empty has no instance in the COCO file)."""
    inside = box_to_mask(box, unused[0]['mask'].shape) if unused else None
    best, overlap = None, 0
    for inst in unused:
        if inst['category_id'] == label and (inst['mask'] & inside).sum() > overlap:
            best, overlap = inst, int((inst['mask'] & inside).sum())
    if best is not None:
        unused.remove(best)
    return best


def render(image, result, instances, semantic, classes, upscale) -> np.ndarray:
    panels = []
    unused = list(instances)
    for b, (attr, box, label) in enumerate(zip(result['attributions'], result['boxes'], result['labels'])):
        boxed = draw_boxes(image, box[None], np.array([label]), classes)
        hot = heatmap(attr.astype(np.float32), image)
        if result['num_positives'][b] > 0:
            inst = match_instance(unused, box, int(label) + 1)
            final = mask_picture(image, inst['mask'], inst['ignore'], int(label) + 1) if inst else image
        else:
            final = image.copy()
            cv2.putText(final, 'no positive', (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 0, 0), 1, cv2.LINE_AA)
        panels += [boxed, draw_boxes(hot, box[None], np.array([label])), final]
    panels += [image, colorize_label(semantic), overlay_label(image, semantic)]
    if upscale != 1:
        panels = [cv2.resize(p, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_NEAREST) for p in panels]
    return make_grid(panels, ncols=3)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Visualise BBAM attribution maps and pseudo masks')
    parser.add_argument('bbam_dir')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--img-dir', help='default: BBAM_DIR/../JPEGImages')
    parser.add_argument('--max', type=int, default=16)
    parser.add_argument('--upscale', type=float, default=2.0, help='enlarge small images')
    args = parser.parse_args(argv)
    img_dir = args.img_dir or osp.join(osp.dirname(osp.abspath(args.bbam_dir)), 'JPEGImages')
    coco_path = osp.join(args.bbam_dir, 'instances.json')
    if not osp.exists(coco_path):
        raise FileNotFoundError(f'{coco_path} not found: run tools/bbam.py (or train with BBAMHook) first')
    with open(coco_path) as f:
        classes = [c['name'] for c in json.load(f)['categories']]
    instances = load_coco_instances(coco_path)
    os.makedirs(args.out_dir, exist_ok=True)
    for file_name in tqdm(sorted(instances)[:args.max], desc='pictures'):
        name = osp.splitext(file_name)[0]
        image = read_rgb(osp.join(img_dir, file_name))
        result = load_attributions(osp.join(args.bbam_dir, 'attributions', name + '.npz'))
        semantic = load_label_png(osp.join(args.bbam_dir, 'semantic', name + '.png'))
        picture = render(image, result, instances[file_name], semantic, classes, args.upscale)
        ok, data = cv2.imencode('.png', picture[..., ::-1])
        atomic_write_bytes(osp.join(args.out_dir, name + '.png'), data.tobytes())
    print(f'pictures in {args.out_dir}')


if __name__ == '__main__':
    main()
