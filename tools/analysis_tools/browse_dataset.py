"""Write what a config's dataset feeds the model, as pictures: image + label overlay (mmseg), boxes and masks
(mmdet), frame strips with their tags (mmaction). Run it before training on a new dataset.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR [--split train] [--max 16] [--cfg-options ...]
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config, DictAction

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.registry import DATASETS, DefaultScope  # noqa: E402
from tqdm import tqdm  # noqa: E402

from wsseg_mm.visualization import draw_boxes, make_grid, overlay_label  # noqa: E402


def picture(sample: dict, metainfo: dict) -> np.ndarray:
    """One RGB picture of a packed sample (inputs are BGR CHW or N C T H W uint8 tensors)."""
    inputs = sample['inputs'].numpy()
    data = sample['data_samples']
    if inputs.ndim == 5:  # mmaction: (clips, C, T, H, W) -> strip of the first clip's frames
        frames = [f[..., ::-1] for f in inputs[0].transpose(1, 2, 3, 0).astype(np.uint8)]
        strip = make_grid(frames, ncols=len(frames), pad=1)
        label = data.gt_label if hasattr(data, 'gt_label') else None
        if label is not None:
            names = list(metainfo.get('actors', ())) + list(metainfo.get('actions', ()))
            tags = [names[i] if i < len(names) else str(i) for i in np.nonzero(label.numpy())[0]]
            cv2.putText(strip, ', '.join(tags), (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1)
        return strip
    image = np.ascontiguousarray(inputs.transpose(1, 2, 0)[..., ::-1]).astype(np.uint8)
    if 'gt_sem_seg' in data:
        label = data.gt_sem_seg.data[0].numpy()
        return make_grid([image, overlay_label(image, label, alpha=0.7)], ncols=2, pad=1)
    if 'gt_instances' in data:
        inst = data.gt_instances
        shown = image
        if 'masks' in inst:
            label = np.zeros(image.shape[:2], np.uint8)
            for k, mask in enumerate(inst.masks.to_ndarray()):
                label[mask > 0] = int(inst.labels[k]) + 1
            shown = overlay_label(image, label, alpha=0.5)
        return draw_boxes(shown, inst.bboxes.numpy() if hasattr(inst.bboxes, 'numpy') else inst.bboxes.tensor.numpy(),
                          inst.labels.numpy(), metainfo.get('classes'))
    return image


def main(argv=None):
    parser = argparse.ArgumentParser(description='Browse a dataset as the model sees it')
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--max', type=int, default=16, help='number of samples to draw')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmengine')):
        dataset = DATASETS.build(cfg[f'{args.split}_dataloader']['dataset'])
    os.makedirs(args.output_dir, exist_ok=True)
    pictures = []
    for i in tqdm(range(min(args.max, len(dataset))), desc='browse'):
        pic = picture(dataset[i], dataset.metainfo)
        name = osp.splitext(osp.basename(dataset.get_data_info(i).get('img_path') or
                                         dataset.get_data_info(i).get('frame_dir', str(i))))[0]
        cv2.imwrite(osp.join(args.output_dir, f'{i:04d}_{name}.png'), pic[..., ::-1])
        pictures.append(pic)
    cv2.imwrite(osp.join(args.output_dir, 'grid.png'), make_grid(pictures, ncols=4)[..., ::-1])
    print(f'{len(pictures)} pictures and grid.png written to {args.output_dir}')


if __name__ == '__main__':
    main()
