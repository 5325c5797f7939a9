"""Every config for a real dataset, run end to end with the README's commands on a miniature of the real layouts.

The toy proves quality; the miniature proves wiring. ``tools/make_toy_data.py --layout real`` writes VOC 2012 +
SBD train_aug (+ ScribbleSup, MCG), PASCAL-Context (+ scribbles), COCO and A2D in their real layouts, names, sizes
and classes; the test links it as ``data/`` of a scratch folder and runs, from there, each stage of IRNet and BBAM
exactly as the README gives it, on the configs under ``configs/irnet`` and ``configs/bbam``, and the PSI VOC and
PASCAL-Context configs on the scribbles; the dataset bases for real data (A2D, scribbles, ...) each build and load a
sample from it. A fast test fails when a
config for real data is added that no chain here runs. The only ``--cfg-options`` are the ones
that shrink cost (epochs / iterations, batch, crop and resize scales, workers, CAM test scales, BBAM steps, walk
length, detections kept), ``init_cfg=None`` / ``pretrained=None`` (no downloads) and, for the Mask R-CNN stages,
keeping images without pseudo instances (see MASK_RCNN_OPTIONS): data roots, annotation
files, prefixes, split lists, class counts and pipeline structures are the configs' own, which is what is tested.
Each stage must find every file the previous one wrote.

The fast test at the end checks, on the configs alone, that each multi-stage method takes its image list from
one place.
"""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from conftest import REPO, run_tool

VOC = 'data/VOCdevkit/VOC2012'
CONTEXT = 'data/VOCdevkit/VOC2010'
IRNET = dict(cam='configs/irnet/cam_r50-os16_5e_voc12aug.py', irn='configs/irnet/irnet_r50-os16_3e_voc12aug.py',
             mask_rcnn='configs/irnet/mask-rcnn_r50_fpn_1x_voc12aug-irnet.py',
             deeplab='configs/irnet/deeplabv3_r50-d8_20k_voc12aug-irnet.py')
BBAM = dict(detector='configs/bbam/faster_rcnn_voc.py', mask_rcnn='configs/bbam/mask-rcnn_r50_fpn_1x_voc12aug-bbam.py',
            deeplab='configs/bbam/deeplabv3_r50-d8_20k_voc12aug-bbam.py')
PSI = dict(segmentor='configs/psi/deeplabv3plus_r101-os16-cpp-sld_132k_voc12aug-scribble.py',
           context='configs/psi/deeplabv3plus_r101-os16-cpp-sld_62k_context-scribble.py')
TOY_IRNET = dict(cam='configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py',
                 irn='configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py')
ENV = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


def _workers(*loaders):
    return [f'{loader}_dataloader.{option}' for loader in loaders
            for option in ('num_workers=0', 'persistent_workers=False')]


# cost only: 1 epoch / 2 iterations, small crops and resize scales, no worker processes, no ImageNet download
CAM_OPTIONS = ['model.backbone.init_cfg=None', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               'param_scheduler.0.end=1', 'train_dataloader.batch_size=4',
               'train_dataloader.dataset.pipeline.1.scale=(128,128)',
               'train_dataloader.dataset.pipeline.4.crop_size=(128,128)', 'model.data_preprocessor.size=(128,128)',
               *_workers('train', 'val')]
CAM_TEST_OPTIONS = ['model.test_cfg.scales=(0.5,)', 'model.test_cfg.flip=False']
IRN_OPTIONS = ['model.backbone.init_cfg=None', 'train_cfg.max_epochs=1', 'param_scheduler.0.end=1',
               'train_dataloader.batch_size=4', 'train_dataloader.dataset.pipeline.2.scale=(160,160)',
               'train_dataloader.dataset.pipeline.4.crop_size=(128,128)', 'model.data_preprocessor.size=(128,128)',
               *_workers('train')]
IRN_TEST_OPTIONS = ['model.test_cfg.flip=False', 'label_synthesis.exp_times=4']
# A detector trained from scratch for one epoch finds (almost) none of its boxes, so BBAM gives few or no instances
# (IRNet's untrained stages few): the Mask R-CNN stages keep the images without pseudo instances instead of
# filtering them all away, so that they always train and evaluate on what the previous stage wrote.
MASK_RCNN_OPTIONS = ['model.backbone.init_cfg=None', 'train_cfg.max_epochs=1',
                     'train_dataloader.dataset.filter_cfg.filter_empty_gt=False',
                     'train_dataloader.dataset.pipeline.2.scale=(320,192)',
                     'val_dataloader.dataset.pipeline.1.scale=(320,192)', 'model.test_cfg.rpn.nms_pre=200',
                     'model.test_cfg.rpn.max_per_img=100', 'model.test_cfg.rcnn.max_per_img=20',
                     *_workers('train', 'val')]
DEEPLAB_OPTIONS = ['model.pretrained=None', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                   'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
                   'model.data_preprocessor.size=(128,128)', 'train_dataloader.dataset.pipeline.2.scale=(256,128)',
                   'train_dataloader.dataset.pipeline.3.crop_size=(128,128)',
                   'train_dataloader.dataset.pipeline.6.size=(128,128)',
                   'val_dataloader.dataset.pipeline.1.scale=(256,128)',
                   *_workers('train', 'val')]
# PSI: 4 iterations = the T + 1 = 4 stages of the config's SLDHook (T = 3), so all three expansions run
PSI_OPTIONS = ['model.pretrained=None', 'train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'param_scheduler.0.end=4',
               'default_hooks.checkpoint.interval=4', 'train_dataloader.batch_size=2',
               'model.data_preprocessor.size=(128,128)', 'train_dataloader.dataset.pipeline.2.scale=(256,128)',
               'train_dataloader.dataset.pipeline.3.crop_size=(128,128)',
               'val_dataloader.dataset.pipeline.1.scale=(256,128)', *_workers('train', 'val')]
DETECTOR_OPTIONS = ['model.backbone.init_cfg=None', 'train_cfg.max_epochs=1',
                    'train_dataloader.dataset.pipeline.2.scale=(320,192)',
                    'val_dataloader.dataset.pipeline.1.scale=(320,192)', 'custom_hooks.0.pipeline.2.scale=(320,192)',
                    'custom_hooks.0.explainer.num_iters=2', 'model.test_cfg.rpn.nms_pre=200',
                    'model.test_cfg.rpn.max_per_img=100', *_workers('train', 'val')]


def _tool(cwd, tool, *args, options=()):
    """Run ``tools/<tool>`` (absolute path) from ``cwd`` with ``--cfg-options`` ``options``; returns the log."""
    cmd = [osp.join(REPO, 'tools', tool), *args]
    if options:
        cmd += ['--cfg-options', *options]
    return run_tool(cmd, env_extra=ENV, cwd=str(cwd))


def _config(name):
    return osp.join(REPO, name)


def _last_checkpoint(cwd, config):
    """The checkpoint mmengine recorded last in the default work dir of ``config`` (./work_dirs/<name>)."""
    record = osp.join(cwd, 'work_dirs', osp.splitext(osp.basename(config))[0], 'last_checkpoint')
    assert osp.isfile(record), f'no last_checkpoint in the work dir of {config}'
    with open(record) as f:
        checkpoint = f.read().strip()
    assert osp.isfile(checkpoint), checkpoint
    return checkpoint


def _lines(path):
    with open(path) as f:
        return sorted(line.strip() for line in f if line.strip())


def _names(cwd, split):
    return _lines(osp.join(cwd, VOC, 'ImageSets', 'Segmentation', f'{split}.txt'))


def _stems(folder, suffix):
    assert osp.isdir(folder), f'{folder} was not written'
    return sorted(f[:-len(suffix)] for f in os.listdir(folder) if f.endswith(suffix))


def _coco_stems(path):
    with open(path) as f:
        return sorted(osp.splitext(image['file_name'])[0] for image in json.load(f)['images'])


def _val_instances(cwd):
    """README: the VOC val instances as COCO JSON, where the Mask R-CNN configs evaluate on them."""
    out = f'{VOC}/annotations/voc12_val_instances.json'
    if not osp.isfile(osp.join(cwd, out)):
        _tool(cwd, 'dataset_converters/voc_instances_to_coco.py', VOC, '--split', 'val', '--out', out)
    assert _coco_stems(osp.join(cwd, out)) == _names(cwd, 'val')


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """A scratch folder whose ``data`` links to a fresh miniature; every command runs from there."""
    root = tmp_path_factory.mktemp('real_configs')
    run_tool([osp.join(REPO, 'tools', 'make_toy_data.py'), '--layout', 'real', '--out', root / 'miniature'],
             env_extra=ENV, cwd=str(root))
    os.symlink(root / 'miniature', root / 'data', target_is_directory=True)
    return root


@pytest.mark.slow
def test_miniature_is_in_the_real_layout(workspace):
    from PIL import Image

    from wsseg_mm.fileio.annotations import read_scribbles, read_voc_object_names, scan_a2d
    from wsseg_mm.fileio.proposals import load_mcg_proposals
    from wsseg_mm.metainfo import VOC_CLASSES
    from wsseg_mm.toy.miniature import COCO_CLASSES
    voc = osp.join(workspace, VOC)
    train, val, train_aug = (set(_names(workspace, s)) for s in ('train', 'val', 'train_aug'))
    assert train < train_aug and not val & train_aug and len(train_aug) == 12 and len(val) == 6
    assert set(_stems(osp.join(voc, 'SegmentationClass'), '.png')) == train | val
    assert set(_stems(osp.join(voc, 'SegmentationObject'), '.png')) == train | val
    assert set(_stems(osp.join(voc, 'SegmentationClassAug'), '.png')) == train_aug
    for name in sorted(train_aug | val):
        width, height = Image.open(osp.join(voc, 'JPEGImages', name + '.jpg')).size
        assert {width, height} & {500} and max(width, height) == 500
        assert set(read_voc_object_names(osp.join(voc, 'Annotations', name + '.xml'))) <= set(VOC_CLASSES[1:])
        tags = {tag for tag, _ in read_scribbles(osp.join(voc, 'ScribbleAnnotation', 'pascal_2012', name + '.xml'))}
        assert tags <= set(VOC_CLASSES) and 'background' in tags
        assert load_mcg_proposals(osp.join(voc, 'MCG', name + '.mat')).shape[1:] == (height, width)
    assert Image.open(osp.join(voc, 'SegmentationClass', sorted(train)[0] + '.png')).mode == 'P'
    assert Image.open(osp.join(voc, 'SegmentationClassAug', sorted(train_aug)[0] + '.png')).mode == 'L'
    for split in ('train2017', 'val2017'):
        with open(osp.join(workspace, 'data', 'coco', 'annotations', f'instances_{split}.json')) as f:
            coco = json.load(f)
        assert tuple(c['name'] for c in coco['categories']) == COCO_CLASSES
        assert all(osp.isfile(osp.join(workspace, 'data', 'coco', split, i['file_name'])) for i in coco['images'])
    from mmseg.datasets import PascalContextDataset
    context = osp.join(workspace, CONTEXT)
    lists = {split: _lines(osp.join(context, 'ImageSets', 'SegmentationContext', f'{split}.txt')) for split in
             ('train', 'val')}
    assert not set(lists['train']) & set(lists['val']) and len(lists['train']) == 6 and len(lists['val']) == 4
    for name in lists['train'] + lists['val']:
        labels = np.array(Image.open(osp.join(context, 'SegmentationClassContext', name + '.png')))
        assert labels.max() < 60 and Image.open(osp.join(context, 'JPEGImages', name + '.jpg')).size[::-1] == \
            labels.shape
        path = osp.join(context, 'ScribbleAnnotation', 'pascal_context', name + '.xml')
        assert {tag for tag, _ in read_scribbles(path)} <= set(PascalContextDataset.METAINFO['classes'])
    videos = scan_a2d(osp.join(workspace, 'data', 'A2D', 'Release'), 'all')
    assert len(videos) == 4 and all(v['height'] == 320 and v['annotations'] for v in videos)


@pytest.mark.slow
def test_irnet_real_configs(workspace):
    cwd = workspace
    train_aug = _names(cwd, 'train_aug')
    cam_cfg, irn_cfg = _config(IRNET['cam']), _config(IRNET['irn'])
    # 1 CAM classifier, scored on train (VOC masks) at the end of its epoch
    log = _tool(cwd, 'train.py', cam_cfg, options=CAM_OPTIONS + CAM_TEST_OPTIONS)
    assert 'mIoU' in log
    # 2a CAMs and 2b relations of every train_aug image
    cams, relations, pseudo = f'{VOC}/irnet/cams', f'{VOC}/irnet/relations', f'{VOC}/irnet/pseudo'
    _tool(cwd, 'irnet/make_cams.py', cam_cfg, _last_checkpoint(cwd, cam_cfg), '--out-dir', cams,
          options=CAM_TEST_OPTIONS)
    assert _stems(osp.join(cwd, cams), '.npz') == train_aug
    _tool(cwd, 'irnet/mine_relations.py', cam_cfg, '--cam-dir', cams, '--out-dir', relations)
    assert _stems(osp.join(cwd, relations), '.png') == train_aug
    # 3 IRNet on the relations (its train list is train_aug: it reads every relation map)
    _tool(cwd, 'train.py', irn_cfg, options=IRN_OPTIONS)
    # 4 label synthesis: semantic PNG and instances of every train_aug image
    _tool(cwd, 'irnet/make_pseudo_labels.py', irn_cfg, _last_checkpoint(cwd, irn_cfg), '--cam-dir', cams,
          '--out-dir', pseudo, options=IRN_TEST_OPTIONS)
    assert _stems(osp.join(cwd, pseudo, 'sem'), '.png') == train_aug
    assert _coco_stems(osp.join(cwd, pseudo, 'instances.json')) == train_aug
    # the downstream models on the pseudo labels, scored on the VOC val masks / instances
    _val_instances(cwd)
    log = _tool(cwd, 'train.py', _config(IRNET['mask_rcnn']), options=MASK_RCNN_OPTIONS)
    assert 'coco/segm_mAP' in log and 'ins/AP50' in log
    log = _tool(cwd, 'train.py', _config(IRNET['deeplab']), options=DEEPLAB_OPTIONS)
    assert 'mIoU' in log


@pytest.mark.slow
def test_bbam_real_configs(workspace):
    cwd = workspace
    train_aug = _names(cwd, 'train_aug')
    out = osp.join(cwd, VOC, 'bbam')
    # detector + BBAMHook (MCG proposals of the miniature): pseudo masks of the training list
    log = _tool(cwd, 'train.py', _config(BBAM['detector']), options=DETECTOR_OPTIONS)
    assert 'pascal_voc/mAP' in log
    explained = _coco_stems(osp.join(out, 'instances.json'))
    assert explained == train_aug
    assert _stems(osp.join(out, 'semantic'), '.png') == explained
    _val_instances(cwd)
    log = _tool(cwd, 'train.py', _config(BBAM['mask_rcnn']), options=MASK_RCNN_OPTIONS)
    assert 'coco/segm_mAP' in log and 'ins/AP50' in log
    log = _tool(cwd, 'train.py', _config(BBAM['deeplab']), options=DEEPLAB_OPTIONS)
    assert 'mIoU' in log


@pytest.mark.slow
@pytest.mark.parametrize('dataset', ['voc', 'context'])
def test_psi_real_configs(workspace, dataset):
    # PSI on the ScribbleSup scribbles of VOC train_aug / PASCAL-Context train; SLDHook expands every training image
    # after stages 0-2 (README: tools/train.py), scored against the full masks, and the model is scored on val
    cwd = workspace
    if dataset == 'voc':
        config, root, train = _config(PSI['segmentor']), VOC, _names(cwd, 'train_aug')
    else:
        config, root = _config(PSI['context']), CONTEXT
        train = _lines(osp.join(cwd, CONTEXT, 'ImageSets', 'SegmentationContext', 'train.txt'))
    sld_dir = osp.join(cwd, root, 'psi', 'sld')
    log = _tool(cwd, 'train.py', config, options=PSI_OPTIONS)
    assert 'mIoU' in log
    for step in (1, 2, 3):
        assert _stems(osp.join(sld_dir, f'step_{step}'), '.png') == train
        assert f'SLD step {step}: {len(train)} images' in log
    with open(osp.join(sld_dir, 'state.json')) as f:
        state = json.load(f)
    assert state['step'] == 3 and [h['step'] for h in state['history']] == [1, 2, 3]
    assert all(h['scored_images'] == len(train) for h in state['history'])
    # README: one step again from the checkpoint, with the tool (the same API)
    out = _tool(cwd, 'psi/expand_labels.py', config, _last_checkpoint(cwd, config), '--step', '2', '--overwrite',
                options=PSI_OPTIONS)
    summary = json.loads([line for line in out.splitlines() if line.startswith('{')][-1])
    assert summary['step'] == 3 and summary['images'] == len(train) and summary['accuracy'] is not None
    assert _stems(osp.join(sld_dir, 'step_3'), '.png') == train


# ------------------------------------------------------------------------------------ image lists from one place
def _list_of(dataset_cfg):
    """The image list a dataset config reads: its ann_file resolved against data_root, and its image folder."""
    root = dataset_cfg.get('data_root') or ''
    prefix = dataset_cfg.get('data_prefix') or {}
    images = prefix.get('img_path', prefix.get('img', prefix.get('sub_data_root', '')))
    return osp.normpath(osp.join(root, dataset_cfg['ann_file'])), osp.normpath(osp.join(root, images))


def _load(name):
    return Config.fromfile(_config(name))


@pytest.mark.parametrize('configs', [IRNET, TOY_IRNET], ids=['voc', 'toy'])
def test_irnet_stages_share_one_image_list(configs):
    cam, irn = _load(configs['cam']), _load(configs['irn'])
    lists = {_list_of(cam.label_dataloader.dataset), _list_of(irn.label_dataloader.dataset),
             _list_of(irn.train_dataloader.dataset)}
    assert len(lists) == 1, lists
    if configs is IRNET:
        (ann_file, images), = lists
        assert ann_file == 'data/VOCdevkit/VOC2012/ImageSets/Segmentation/train_aug.txt'
        assert images == 'data/VOCdevkit/VOC2012/JPEGImages'
        # the downstream models train on the pseudo labels of that same list (the README's --out-dir)
        deeplab = _load(IRNET['deeplab']).train_dataloader.dataset
        assert _list_of(deeplab)[0] == ann_file
        assert osp.normpath(osp.join(deeplab.data_root, deeplab.data_prefix.seg_map_path)) == f'{VOC}/irnet/pseudo/sem'
        mask_rcnn = _load(IRNET['mask_rcnn']).train_dataloader.dataset
        assert osp.normpath(osp.join(mask_rcnn.data_root, mask_rcnn.ann_file)) == f'{VOC}/irnet/pseudo/instances.json'
        assert osp.normpath(osp.join(irn.train_dataloader.dataset.data_root,
                                     irn.train_dataloader.dataset.data_prefix.seg_map_path)) == f'{VOC}/irnet/relations'


def test_bbam_stages_share_one_image_list():
    detector = _load(BBAM['detector'])
    hook = next(h for h in detector.custom_hooks if h.type == 'BBAMHook')
    assert hook.get('dataset') is None  # the hook explains the training set (unwrapped from any repetition)
    explained = detector.train_dataloader.dataset
    while explained.type in ('RepeatDataset', 'ClassBalancedDataset'):
        explained = explained.dataset
    ann_file = osp.normpath(osp.join(explained['data_root'], explained['ann_file']))
    assert ann_file == f'{VOC}/ImageSets/Segmentation/train_aug.txt'
    assert osp.normpath(hook.out_dir) == f'{VOC}/bbam'
    deeplab = _load(BBAM['deeplab']).train_dataloader.dataset
    assert _list_of(deeplab) == (ann_file, f'{VOC}/JPEGImages')
    assert osp.normpath(osp.join(deeplab.data_root, deeplab.data_prefix.seg_map_path)) == f'{VOC}/bbam/semantic'
    mask_rcnn = _load(BBAM['mask_rcnn']).train_dataloader.dataset
    assert osp.normpath(osp.join(mask_rcnn.data_root, mask_rcnn.ann_file)) == f'{VOC}/bbam/instances.json'
    assert osp.normpath(osp.join(mask_rcnn.data_root, mask_rcnn.data_prefix.img)) == f'{VOC}/JPEGImages'


def test_every_real_config_runs_here():
    """Every config for a real dataset (not a toy config, not a base) is one of the stages run above: a new one
    must join a chain here, with the README's commands."""
    real = set()
    for folder, _, files in os.walk(osp.join(REPO, 'configs')):
        rel = osp.relpath(folder, REPO).replace(os.sep, '/')
        parts = rel.split('/')
        if '_base_' in parts or 'toy' in parts:
            continue
        real.update(f'{rel}/{f}' for f in files if f.endswith('.py'))
    # WS^2's run in tests/test_real_configs_ws2.py, on a miniature (seed 1) whose A2D test clip shows one actor
    # and YouTube-Objects' in tests/test_youtube_objects.py (the classifier, make_pa.py) and tests/test_ws2_yto.py
    # (the segmenter: evolve.py, predict.py, test.py), on its miniature
    from test_real_configs_ws2 import REAL_CONFIGS as WS2
    from test_ws2_yto import YTO_SEGMENTER
    from test_youtube_objects import YTO_ACTOR
    covered = set(IRNET.values()) | set(BBAM.values()) | set(PSI.values()) | set(WS2) | {YTO_ACTOR, YTO_SEGMENTER}
    assert not real - covered, f'configs for real data that tests/test_real_configs.py does not run: {real - covered}'
    assert not covered - real, f'configs run here that no longer exist: {covered - real}'


# dataset bases for real data that no full config uses yet (PSI's scribbles, WS^2's A2D), and those the chains use:
# each builds on the miniature from its config unchanged and loads a sample through its pipeline
BASES = {
    'configs/_base_/datasets/voc12_scribble.py': ('mmseg', ('train', 'val')),
    'configs/_base_/datasets/context_scribble.py': ('mmseg', ('train', 'val')),
    'configs/_base_/datasets/voc12_aug_image_label.py': ('mmseg', ('train', 'val', 'label')),
    'configs/_base_/datasets/voc12_aug_boxes.py': ('mmdet', ('train', 'val')),
    'configs/_base_/datasets/a2d_video.py': ('mmaction', ('train', 'val')),
    'configs/_base_/datasets/a2d_frames.py': ('mmseg', ('val', )),
}


@pytest.mark.slow
@pytest.mark.parametrize('base', sorted(BASES))
def test_real_dataset_bases_load_the_miniature(workspace, base, monkeypatch):
    from mmengine.registry import DATASETS, DefaultScope

    import wsseg_mm  # noqa: F401  (registration)
    monkeypatch.chdir(workspace)
    cfg = _load(base)
    scope, loaders = BASES[base]
    for loader in loaders:
        with DefaultScope.overwrite_default_scope(scope):
            dataset = DATASETS.build(cfg[f'{loader}_dataloader']['dataset'])
            assert len(dataset) > 0, f'{base}: {loader} set is empty'
            sample = dataset[0]
        assert 'inputs' in sample and 'data_samples' in sample
