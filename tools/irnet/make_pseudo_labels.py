"""IRNet stage 4: label synthesis (Sec. 5) from the CAMs and a trained IRNet.

    python tools/irnet/make_pseudo_labels.py CONFIG CHECKPOINT --cam-dir DIR --out-dir DIR [--launcher ...]

Writes, under ``--out-dir``:
  * ``sem/<image>.png``: semantic pseudo labels (CAMs propagated by the boundary random walk);
  * ``ins/<image>.json``: per-image instance fragments, merged at the end into ``instances.json`` (COCO, RLE
    masks, each instance scored by the maximum of its propagated score), for mmdet's CocoDataset.
Thresholds and walk settings come from the config's ``label_synthesis`` (the paper's values by default); the
options below override them. Resumable (images with both outputs are skipped) and split across processes by rank.
"""
import argparse
import json
import os.path as osp


import wsseg_mm  # noqa: F401
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402

from wsseg_mm.fileio.labels import (CocoInstanceWriter, atomic_write_bytes, merge_coco,  # noqa: E402
                                             save_label_png)
from wsseg_mm.engine import (build_split_dataset, image_name, init_model, instance_settings,  # noqa: E402
                             label_synthesis_settings, load_cams, load_cfg, preprocess_one, run_per_image,
                             setup_launcher, walk_settings)
from wsseg_mm.functional.label_synthesis import semantic_from_random_walk, synthesize_irnet_labels  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='IRNet label synthesis')
    parser.add_argument('config', help='the IRNet config (its test dataloader lists the images)')
    parser.add_argument('checkpoint')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split', default='label', help='whose dataloader lists the images ({split}_dataloader)')
    parser.add_argument('--sem-bg', type=float, help='background score of semantic labels (config: 0.25)')
    parser.add_argument('--ins-bg', type=float, help='background score of instance labels (config: 0.25)')
    parser.add_argument('--beta', type=float, help='affinity exponent (config: 10)')
    parser.add_argument('--exp-times', type=int, help='the walk takes 2^exp_times steps (config: 8)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_launcher(args.launcher)
    cfg = load_cfg(args.config, args.cfg_options)
    model = init_model(cfg, args.checkpoint)
    dataset = build_split_dataset(cfg, args.split)
    classes = dataset.metainfo['classes']
    index = {image_name(dataset.get_data_info(i)): i for i in range(len(dataset))}
    settings = label_synthesis_settings(cfg, sem_bg=args.sem_bg, ins_bg=args.ins_bg, beta=args.beta,
                                        exp_times=args.exp_times)

    def outputs(name):
        return [osp.join(args.out_dir, 'sem', name + '.png'), osp.join(args.out_dir, 'ins', name + '.json')]

    def process(name: str) -> None:
        sample = dataset[index[name]]
        data = preprocess_one(model, sample)
        boundary, displacement = model.boundary_and_displacement(data['inputs'])
        cams = load_cams(args.cam_dir, name)
        labels, strided = cams['labels'], cams['strided']
        size = sample['inputs'].shape[-2:]
        semantic = semantic_from_random_walk(strided, labels, boundary, size, bg_threshold=settings['sem_bg'],
                                             **walk_settings(settings))
        result = synthesize_irnet_labels(strided, labels, boundary, displacement, size, **instance_settings(settings))
        writer = CocoInstanceWriter(classes[1:])
        image_id = writer.add_image(osp.basename(dataset.get_data_info(index[name])['img_path']), *size)
        for inst in result['instances']:
            writer.add_instance(image_id, inst['mask'], inst['label'], score=inst['score'])
        atomic_write_bytes(outputs(name)[1], json.dumps(writer.to_dict()).encode())
        save_label_png(outputs(name)[0], semantic)

    run_per_image(sorted(index), process, outputs, desc='IRNet labels')
    if get_rank() == 0:
        parts = [json.load(open(outputs(name)[1])) for name in sorted(index)]
        merged = merge_coco(parts)
        atomic_write_bytes(osp.join(args.out_dir, 'instances.json'), json.dumps(merged).encode())
        print(f'{len(merged["images"])} images, {len(merged["annotations"])} instances -> '
              f'{osp.join(args.out_dir, "instances.json")}')


if __name__ == '__main__':
    main()
