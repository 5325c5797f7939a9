"""Pictures of IRNet's stages, one PNG per image (:func:`wsseg_mm.visualization.irnet_figure`): image, relation
labels, class boundary (colour bar), displacement field (colour-wheel key), semantic and instance pseudo labels,
then the CAM of each class (colour bar), with titles and a legend of the classes present.

    python tools/irnet/visualize.py IRNET_CONFIG IRNET_CHECKPOINT --cam-dir DIR --out-dir DIR \
        [--relation-dir DIR] [--max 16]
"""
import argparse
import os
import os.path as osp

import numpy as np
from tqdm import tqdm

import wsseg_mm  # noqa: F401

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_split_dataset,
    image_name,
    init_model,
    irnet_pseudo_labels,
    label_synthesis_settings,
    load_cams,
    load_cfg,
)
from wsseg_mm.fileio.labels import load_label_png  # noqa: E402
from wsseg_mm.visualization import irnet_figure, save_figure  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description='Visualise IRNet stages')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--relation-dir', help='mined relation labels, shown when given')
    parser.add_argument('--split', default='label', help='whose dataloader lists the images ({split}_dataloader)')
    parser.add_argument('--max', type=int, default=16)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    args = parser.parse_args(argv)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = label_synthesis_settings(cfg)
    model = init_model(cfg, args.checkpoint, args.device)
    dataset = build_split_dataset(cfg, args.split)
    os.makedirs(args.out_dir, exist_ok=True)
    for i in tqdm(range(min(args.max, len(dataset))), desc='visualise'):
        name = image_name(dataset.get_data_info(i))
        sample = dataset[i]
        image = np.ascontiguousarray(sample['inputs'].numpy().transpose(1, 2, 0)[..., ::-1])
        result = irnet_pseudo_labels(model, sample, load_cams(args.cam_dir, name), settings)
        relations = load_label_png(osp.join(args.relation_dir, name + '.png')) if args.relation_dir else None
        save_figure(irnet_figure(image, result, dataset.metainfo['classes'], relations, dataset.metainfo, name),
                    osp.join(args.out_dir, f'{name}.png'))
    print(f'pictures written to {args.out_dir}')


if __name__ == '__main__':
    main()
