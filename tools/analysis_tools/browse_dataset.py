"""Write what a config's dataset feeds the model, as pictures (:func:`wsseg_mm.visualization.samples_figure`):
image | label over the image | label (mmseg), image | boxes and masks (mmdet), frames with their tags (mmaction);
titles, a legend of the classes present and of ignore (255), small images enlarged. One PNG per sample and
``grid.png`` with all of them, one row each. Run it before training on a new dataset.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR [--split train] [--max 16] [--cfg-options ...]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.registry import DATASETS, DefaultScope  # noqa: E402
from tqdm import tqdm  # noqa: E402

from wsseg_mm.visualization import samples_figure, save_figure  # noqa: E402


def sample_name(info: dict, index: int) -> str:
    return osp.splitext(osp.basename(info.get('img_path') or info.get('frame_dir') or str(index)))[0]


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
    samples, names = [], []
    for i in tqdm(range(min(args.max, len(dataset))), desc='browse'):
        sample, name = dataset[i], sample_name(dataset.get_data_info(i), i)
        save_figure(samples_figure([sample], dataset.metainfo, [name], title=f'{args.split} sample {i}: {name}'),
                    osp.join(args.output_dir, f'{i:04d}_{name}.png'))
        samples.append(sample)
        names.append(name)
    title = f'{osp.basename(args.config)}: {args.split} samples as fed to the model'
    save_figure(samples_figure(samples, dataset.metainfo, names, title=title), osp.join(args.output_dir, 'grid.png'))
    print(f'{len(samples)} pictures and grid.png written to {args.output_dir}')


if __name__ == '__main__':
    main()
