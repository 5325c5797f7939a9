"""Test (evaluate) a checkpoint, as OpenMMLab's ``tools/test.py`` does (mmdet 3.x / mmseg 1.x arguments).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR | results.pkl] [--show] [--show-dir DIR]
                                           [--wait-time S] [--cfg-options k=v ...] [--launcher ...] [--tta]

``--out`` does what the config's library does with it:

* mmseg models (``default_scope='mmseg'``): ``--out DIR`` writes each prediction as ``DIR/<image>.png`` (label
  indices) through the metric's ``output_dir``, as mmseg's ``tools/test.py``; ``--out x.pkl`` dumps the raw results.
* mmdet models: ``--out x.pkl`` dumps the predictions only, masks as RLE (mmdet's ``DumpDetResults``), which
  ``Evaluator.offline_evaluate`` scores later (mmdet's ``tools/analysis_tools/eval_metric.py``).
* others: ``--out x.pkl`` dumps the raw results (mmengine's ``DumpResults``).

``--tta`` wraps the model in the config's ``tta_model`` over its ``tta_pipeline``; an mmdet detector without them
gets mmdet's default (flip TTA merged by ``DetTTAModel``), as mmdet's ``tools/test.py`` does.
"""
import argparse
import inspect
import os
import warnings
from copy import deepcopy

import wsseg_mm  # noqa: F401  (first: compat patches + registration)

# isort: split

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import METRICS, RUNNERS
from mmengine.runner import Runner

from wsseg_mm.apis import load_cfg
from wsseg_mm.compat import adapt_cfg_to_device


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', type=str,
                        help='mmseg models: folder for the prediction PNGs (or a .pkl file for the raw results); '
                        'mmdet and other models: pickle file (.pkl) of the predictions for offline evaluation')
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
    return args


def is_pickle(path: str) -> bool:
    return path.endswith(('.pkl', '.pickle'))


def library(cfg: Config) -> str:
    """The OpenMMLab library whose registries build the config (its ``default_scope``; mmseg when unset)."""
    return cfg.get('default_scope') or 'mmseg'


def write_predictions_to(cfg: Config, out_dir: str) -> Config:
    """mmseg's ``--out DIR``: every test metric that takes ``output_dir`` (``IoUMetric``, ``CityscapesMetric``)
    writes the predictions as ``DIR/<image>.png``; a config without such a metric is an error."""
    evaluator = cfg.get('test_evaluator')
    entries = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator] if evaluator else []
    found = []
    with METRICS.switch_scope_and_registry(library(cfg)) as registry:
        for entry in entries:
            kind = entry.get('type') if isinstance(entry, dict) else None
            metric = kind if inspect.isclass(kind) else registry.get(kind) if isinstance(kind, str) else None
            params = inspect.signature(metric).parameters if metric is not None else {}
            if 'output_dir' in params:
                entry['output_dir'] = out_dir
                if 'keep_results' in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
                    entry['keep_results'] = True  # what mmseg's tools/test.py passes along
                found.append(metric.__name__)
    if not found:
        types = [e.get('type') for e in entries if isinstance(e, dict)]
        raise RuntimeError(f'--out {out_dir}: writing prediction PNGs needs a test_evaluator metric with output_dir '
                           f'(e.g. IoUMetric); this config has {types or "none"}. Give --out a .pkl file to dump '
                           'the raw results instead')
    return cfg


def innermost_dataset(dataset_cfg: dict) -> dict:
    """The dataset a wrapper config (``ClassBalancedDataset``, ``RepeatDataset`` ...) finally wraps."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def default_det_tta(cfg: Config) -> Config:
    """mmdet's defaults for ``--tta`` where the config has no ``tta_model`` / ``tta_pipeline``: the test pipeline
    with its packing step replaced by the original and the horizontally flipped image, merged by ``DetTTAModel``
    (box NMS at IoU 0.5, 100 detections); they are what mmdet's own ``tools/test.py`` sets."""
    if 'tta_model' not in cfg:
        warnings.warn('--tta: the config has no tta_model: using mmdet\'s default, DetTTAModel (flip TTA)')
        cfg.tta_model = dict(type='DetTTAModel', tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5),
                                                              max_per_img=100))
    if cfg.tta_model.get('type') == 'DetTTAModel' and (cfg.model.get('roi_head') or {}).get('mask_head'):
        raise RuntimeError('--tta: mmdet\'s DetTTAModel merges boxes only; it refuses instance masks, so '
                           f'{cfg.model.type} with a mask head cannot be tested with --tta (set a tta_model that '
                           'merges masks in the config, or drop --tta)')
    if 'tta_pipeline' not in cfg:
        warnings.warn('--tta: the config has no tta_pipeline: using mmdet\'s default, the test pipeline on the '
                      'image and its horizontal flip')
        pipeline = deepcopy(innermost_dataset(cfg.test_dataloader.dataset).pipeline)
        meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction')
        pipeline[-1] = dict(type='TestTimeAug',
                            transforms=[[dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
                                        [dict(type='PackDetInputs', meta_keys=meta_keys)]])
        cfg.tta_pipeline = pipeline
    return cfg


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
        if library(cfg) == 'mmdet':
            cfg = default_det_tta(cfg)
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise RuntimeError('--tta needs tta_model and tta_pipeline in the config')
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        innermost_dataset(cfg.test_dataloader.dataset).pipeline = cfg.tta_pipeline
    if args.out is not None and not is_pickle(args.out):
        if library(cfg) != 'mmseg':
            raise RuntimeError(f'--out {args.out}: {library(cfg)} models dump their predictions to a pickle file: '
                               'give a .pkl path (a folder of prediction PNGs is for mmseg models)')
        cfg = write_predictions_to(cfg, args.out)
    return adapt_cfg_to_device(cfg)


def main(argv=None):
    """Test as the arguments say; returns the metrics of ``runner.test()``."""
    args = parse_args(argv)
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None and is_pickle(args.out):
        if library(cfg) == 'mmdet':
            from mmdet.evaluation import DumpDetResults  # predictions only, masks as RLE
            runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
        else:
            runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    return runner.test()


if __name__ == '__main__':
    main()
