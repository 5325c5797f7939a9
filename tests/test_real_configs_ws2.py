"""The WS^2 stage-1 classifier configs: the real ones run end to end with stock ``tools/train.py`` on the miniature of
the A2D layout (as tests/test_real_configs.py runs the other methods' configs), and every config, real and toy, is
checked on its own: the mmaction2 base it diffs, classes, output strides, feature shapes.

The only ``--cfg-options`` of the runs shrink cost (1 epoch, batch 1, 112 px crops, 8-frame clips for I3D, no
worker processes) or avoid downloads (``pretrained=None`` / ``load_from=None``); data root, split, label type,
single-label filter and pipeline structure are the configs' own.
"""
import os
import os.path as osp
import re

import pytest
from mmengine.config import Config

from conftest import REPO, run_tool

ACTOR = 'configs/ws2/tsn_r50-os16_100e_a2d-actor.py'
ACTION = 'configs/ws2/i3d_r50-os16_100e_a2d-action.py'
TOY_ACTOR = 'configs/ws2/toy/tsn_r18-os8_30e_toy-actor.py'
TOY_ACTION = 'configs/ws2/toy/i3d_r18-w16_30e_toy-action.py'
REAL_CONFIGS = (ACTOR, ACTION)
K400_I3D = ('https://download.openmmlab.com/mmaction/v1.0/recognition/i3d/'
            'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/'
            'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_20220812-e213c223.pth')
ENV = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


def _workers(*loaders):
    return [f'{loader}_dataloader.{option}' for loader in loaders
            for option in ('num_workers=0', 'persistent_workers=False')]


# cost only: 1 epoch of batch 1 (one iteration per video), 128 px short side, 112 px crops
SMALL_CROPS = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=1', 'val_dataloader.batch_size=1',
               'train_dataloader.dataset.pipeline.2.scale=(-1,128)',
               'train_dataloader.dataset.pipeline.3.input_size=112',
               'train_dataloader.dataset.pipeline.4.scale=(112,112)',
               'val_dataloader.dataset.pipeline.2.scale=(-1,128)', 'val_dataloader.dataset.pipeline.3.crop_size=112',
               *_workers('train', 'val')]
OPTIONS = {ACTOR: ['model.backbone.pretrained=None', *SMALL_CROPS],
           ACTION: ['load_from=None', 'train_dataloader.dataset.pipeline.0.clip_len=8',
                    'val_dataloader.dataset.pipeline.0.clip_len=8', *SMALL_CROPS]}


def _load(name):
    return Config.fromfile(osp.join(REPO, name))


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """A scratch folder whose ``data`` links to a fresh miniature. Seed 1: the one test clip of seed 0 (the seed of
    tests/test_real_configs.py) shows two actors, so seed 0 has no single-actor test video to score the actor
    classifier on; under seed 1 each of the four clips shows one actor doing one action."""
    root = tmp_path_factory.mktemp('real_configs_ws2')
    run_tool([osp.join(REPO, 'tools', 'make_toy_data.py'), '--layout', 'real', '--out', root / 'miniature',
              '--seed', '1'], env_extra=ENV, cwd=str(root))
    os.symlink(root / 'miniature', root / 'data', target_is_directory=True)
    return root


@pytest.mark.slow
@pytest.mark.parametrize('config', REAL_CONFIGS)
def test_ws2_classifier_trains_on_the_miniature(workspace, config, monkeypatch):
    from mmengine.registry import DATASETS, DefaultScope

    import wsseg_mm  # noqa: F401  (registration)
    from wsseg_mm.fileio.annotations import read_a2d_videoset
    videos = read_a2d_videoset(osp.join(workspace, 'data', 'A2D', 'Release', 'videoset.csv'))
    expected = {split: sorted(v['video_id'] for v in videos if v['usage'] == usage)
                for split, usage in (('train', 0), ('test', 1))}
    # the config's datasets, built from the workspace, find every (single-label) video of their split
    monkeypatch.chdir(workspace)
    cfg = _load(config)
    for loader, split in (('train', 'train'), ('val', 'test'), ('test', 'test')):
        with DefaultScope.overwrite_default_scope('mmaction'):
            dataset = DATASETS.build(cfg[f'{loader}_dataloader']['dataset'])
        assert sorted(dataset.get_data_info(i)['video_id'] for i in range(len(dataset))) == expected[split]
    # README: python tools/train.py CONFIG
    log = run_tool([osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, config), '--cfg-options', *OPTIONS[config]],
                   env_extra=ENV, cwd=str(workspace))
    assert re.search(rf'Epoch\(train\)\s+\[1\]\[{len(expected["train"])}/{len(expected["train"])}\]', log), log[-2000:]
    assert re.search(rf'Epoch\(val\)\s+\[1\]\[{len(expected["test"])}/{len(expected["test"])}\]', log)
    assert 'acc/top1' in log
    work_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(config))[0])
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


@pytest.mark.slow
def test_ws2_pa_from_the_real_classifiers_on_the_miniature(workspace):
    """README: ``tools/ws2/make_pa.py`` on the two real configs and their checkpoints (trained above; trained here
    when this test runs alone): PA.v0 of every train video of the miniature, in the layout A2DPseudoFrameDataset
    reads. Cost only: 8-frame clips, frames at a 128 px short side, 2 frames per video."""
    import numpy as np

    from wsseg_mm.fileio.annotations import read_a2d_videoset
    from wsseg_mm.fileio.labels import load_label_png
    checkpoints = {}
    for config in REAL_CONFIGS:
        work_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(config))[0])
        if not osp.exists(osp.join(work_dir, 'last_checkpoint')):
            run_tool([osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, config), '--cfg-options', *OPTIONS[config]],
                     env_extra=ENV, cwd=str(workspace))
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            checkpoints[config] = f.read().strip()
    out = osp.join(workspace, 'work_dirs', 'ws2_pa_v0')
    log = run_tool([osp.join(REPO, 'tools', 'ws2', 'make_pa.py'), osp.join(REPO, ACTOR), checkpoints[ACTOR],
                    osp.join(REPO, ACTION), checkpoints[ACTION], '--out-dir', out, '--frames-per-video', '2',
                    '--cfg-options', 'test_dataloader.dataset.pipeline.0.clip_len=8', 'ws2_pa.short_side=128'],
                   env_extra=ENV, cwd=str(workspace))
    videos = read_a2d_videoset(osp.join(workspace, 'data', 'A2D', 'Release', 'videoset.csv'))
    train = sorted(v['video_id'] for v in videos if v['usage'] == 0)
    assert sorted(d for d in os.listdir(out) if d in {v['video_id'] for v in videos}) == train, log[-2000:]
    for video in train:
        frames = sorted(os.listdir(osp.join(out, video)))
        assert len(frames) == 2 and all(f.endswith('.png') for f in frames)
        label = load_label_png(osp.join(out, video, frames[0]))
        assert label.shape[0] == 320 and label.dtype == np.uint8  # the frame's own size (A2D: 320 px high)


# ------------------------------------------------------------------------------------------- the configs alone
def test_real_ws2_configs_are_small_diffs_of_mmaction_recipes():
    actor, action = _load(ACTOR), _load(ACTION)
    for cfg, label_type, num_classes in ((actor, 'actor', 7), (action, 'action', 9)):
        assert cfg.custom_imports.imports == ['wsseg_mm'] and cfg.default_scope == 'mmaction'
        assert cfg.model.cls_head.num_classes == num_classes
        for loader, split in (('train', 'train'), ('val', 'test'), ('test', 'test')):
            dataset = cfg[f'{loader}_dataloader'].dataset
            assert (dataset.type, dataset.data_root, dataset.split) == ('A2DVideoDataset', 'data/A2D/Release', split)
            assert dataset.label_type == label_type and dataset.single_label
            assert [t.type for t in dataset.pipeline][1] == 'RawFrameDecode'  # A2D's extracted frames, no decord
        assert cfg.val_evaluator.type == 'AccMetric'
    # actor: TSN ResNet-50 from ImageNet at output stride 16, 8 segments
    assert actor.model.type == 'Recognizer2D' and actor.model.backbone.depth == 50
    assert actor.model.backbone.strides == (1, 2, 2, 1) and actor.model.backbone.pretrained.startswith('https://')
    assert actor.train_dataloader.dataset.pipeline[0].num_clips == 8
    # action: I3D ResNet-50 from mmaction2's Kinetics-400 weights (its model zoo entry), spatial output stride 16
    assert action.model.type == 'Recognizer3D' and action.model.backbone.spatial_strides == (1, 2, 2, 1)
    assert action.load_from == K400_I3D and action.model.backbone.pretrained is None
    import mmaction
    metafile = osp.join(osp.dirname(mmaction.__file__), '.mim', 'configs', 'recognition', 'i3d', 'metafile.yml')
    with open(metafile) as f:
        assert f'Weights: {K400_I3D}' in f.read()


@pytest.mark.parametrize('config, data_shape, feature_shape', [
    (TOY_ACTOR, (1, 4, 3, 128, 128), (4, 512, 16, 16)),
    (TOY_ACTION, (1, 1, 3, 8, 128, 128), (1, 128, 4, 8, 8)),
])
def test_toy_ws2_classifiers(config, data_shape, feature_shape):
    """The toy classifiers (issue: ResNet-18 at OS8 with 4 segments; ResNet3d-18, 16 channels, t' = t / 2) on the
    WS^2 toy clips, from scratch, and the shape of the features Grad-CAM reads."""
    import torch
    from mmengine.registry import MODELS, DefaultScope

    import wsseg_mm  # noqa: F401
    cfg = _load(config)
    for loader in ('train', 'val', 'test'):
        assert cfg[f'{loader}_dataloader'].dataset.data_root == 'data/toy_ws2/A2D/Release'
    assert cfg.load_from is None and cfg.model.backbone.pretrained is None
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        inputs = model.data_preprocessor(dict(inputs=[torch.rand(data_shape[1:]) * 255], data_samples=None))['inputs']
        features = model.extract_feat(inputs)[0]
        scores = model.cls_head(features, **({'num_segs': 4} if config == TOY_ACTOR else {}))
    assert tuple(features.shape) == feature_shape
    assert scores.shape == (1, cfg.model.cls_head.num_classes)
