"""Pictures of BBAM's outputs, one PNG per image (:func:`wsseg_mm.visualization.bbam_figure`): one row per box
(the box, its attribution map with a colour bar, its instance pseudo mask with the undecided region), then the
image's semantic pseudo label; titles, a legend of the classes present and of "undecided", small images enlarged.

    python tools/bbam_tools/visualize.py BBAM_OUT_DIR --out-dir DIR [--max 16]

``BBAM_OUT_DIR`` is what ``BBAMHook`` / ``tools/bbam.py`` wrote (``attributions/``, ``instances.json``,
``semantic/``); the images are found through the file names of ``instances.json`` under ``--img-dir`` (default:
the folder next to BBAM_OUT_DIR named JPEGImages).
"""
import argparse
import json
import os
import os.path as osp

from tqdm import tqdm

from wsseg_mm.apis import load_attributions, read_rgb
from wsseg_mm.fileio.labels import load_coco_instances, load_label_png
from wsseg_mm.visualization import bbam_figure, save_figure


def main(argv=None):
    parser = argparse.ArgumentParser(description='Visualise BBAM attribution maps and pseudo masks')
    parser.add_argument('bbam_dir')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--img-dir', help='default: BBAM_DIR/../JPEGImages')
    parser.add_argument('--max', type=int, default=16)
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
        save_figure(bbam_figure(image, result, instances[file_name], semantic, classes, name=name),
                    osp.join(args.out_dir, name + '.png'))
    print(f'pictures in {args.out_dir}')


if __name__ == '__main__':
    main()
