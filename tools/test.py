"""Test (evaluate) a checkpoint, as OpenMMLab's ``tools/test.py`` does (mmdet 3.x arguments).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] [--show] [--show-dir DIR]
                                           [--wait-time S] [--cfg-options k=v ...] [--launcher ...] [--tta]
"""
import argparse
import os

import wsseg_mm  # noqa: F401  (first: compat patches + registration)

# isort: split

from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from wsseg_mm.apis import load_cfg
from wsseg_mm.compat import adapt_cfg_to_device


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', type=str, help='dump predictions to a pickle file (.pkl) for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='directory where painted images are saved (relative to the work dir)')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value (xxx=yyy format)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--tta', action='store_true', help='test time augmentation (the config\'s tta_model)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        parser.error('--out must be a .pkl file')
    return args


def trigger_visualization_hook(cfg: Config, args) -> Config:
    """Turn on the config's visualization hook for --show / --show-dir (mmdet, mmseg and mmaction hooks)."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise RuntimeError('--show / --show-dir need a "visualization" entry in default_hooks of the config')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if hook['type'] == 'DetVisualizationHook':
            hook['test_out_dir'] = args.show_dir
        elif hook['type'] == 'VisualizationHook':  # mmaction
            hook['out_dir'] = args.show_dir
            hook['enable'] = True
        else:  # mmseg SegVisualizationHook draws through the visualizer's save_dir
            cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def build_cfg(args) -> Config:
    cfg = load_cfg(args.config, args.cfg_options, args.launcher, args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise RuntimeError('--tta needs tta_model and tta_pipeline in the config')
        cfg.model = dict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    return adapt_cfg_to_device(cfg)


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    main()
