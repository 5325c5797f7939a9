"""PSI's label diffusion over a dataset: the API (:mod:`wsseg_mm.apis.psi`: settings, schedule, one image, the
resumable dataset expansion and its state file) and ``SLDHook`` in a real mmengine run (persistent workers see
the switch; resume; a missing step folder is an error)."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict

import wsseg_mm  # noqa: F401
from wsseg_mm.apis import psi as api
from wsseg_mm.fileio.labels import load_label_png
from wsseg_mm.functional.psi import sld_radius, sld_regions

from conftest import tiny_psi_model

# a PSI segmentor small enough for a CPU test, over the 21 VOC classes of the conftest layout
TINY = tiny_psi_model(loss_decode=[dict(type='CrossEntropyLoss', avg_non_ignore=True),
                                   dict(type='SmoothnessLoss', loss_weight=1.0)])
META_KEYS = ('img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'sld_step')


pytestmark = pytest.mark.usefixtures('one_torch_thread')


def make_cfg(voc_root, sld_dir, work_dir='work', max_iters=16, num_steps=3, workers=0, **hook):
    """A complete training config: the tiny segmentor on the conftest VOC layout (3 images, scribbles, masks)."""
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadSLDLabels', sld_dir=sld_dir, stroke_width=1),
                dict(type='RandomFlip', prob=0.5), dict(type='PackWeakSegInputs', meta_keys=META_KEYS)]
    dataset = dict(type='VOCScribbleDataset', data_root=voc_root, ann_file='ImageSets/Segmentation/train.txt',
                   data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/pascal_2012',
                                    seg_map_path='SegmentationClass'), pipeline=pipeline)
    loader = dict(batch_size=2, num_workers=workers, persistent_workers=workers > 0,
                  sampler=dict(type='InfiniteSampler', shuffle=True), dataset=dataset)
    if workers:
        loader['prefetch_factor'] = 1
    return Config(dict(
        default_scope='mmseg', custom_imports=dict(imports=['wsseg_mm'], allow_failed_imports=False),
        model=TINY, work_dir=work_dir, train_dataloader=loader,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=4),
                           checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters // 2)),
        custom_hooks=[dict(type='SLDHook', num_steps=num_steps, **hook)], randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')), log_level='WARNING'))


def build_model():
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(ConfigDict(TINY))
    model.init_weights()
    return model.eval()


# ------------------------------------------------------------------------------------------------ settings
def test_stage_boundaries_and_step_at():
    assert api.stage_boundaries(1000, 3) == [250, 500, 750]
    assert api.stage_boundaries(10, 0) == []
    assert [api.step_at(i, [250, 500, 750]) for i in (0, 249, 250, 499, 500, 750, 1000)] == [0, 0, 1, 1, 2, 3, 3]
    with pytest.raises(ValueError):
        api.stage_boundaries(3, 3)


def test_sld_settings_from_the_hook_entry_and_the_pipeline(voc_root, tmp_path):
    cfg = make_cfg(voc_root, str(tmp_path / 'sld'), num_steps=2)
    settings = api.sld_settings(cfg)
    assert settings == dict(num_steps=2, sld_dir=str(tmp_path / 'sld'), gt_dir=None)  # sld_dir: the pipeline's
    assert api.sld_settings(cfg, num_steps=5, gt_dir=None)['num_steps'] == 5  # options override, None does not
    assert api.sld_settings(None, sld_dir='x') == dict(api.SLD_DEFAULTS, sld_dir='x')
    with pytest.raises(KeyError, match='radius'):
        api.sld_settings(cfg, radius=3)
    with pytest.raises(ValueError, match='training'):
        api.sld_settings(cfg, sld_dir=str(tmp_path / 'elsewhere'))
    with pytest.raises(ValueError, match='no sld_dir'):
        api.sld_settings(None)


def test_state_file_keeps_the_history_below_its_step(tmp_path):
    sld_dir = str(tmp_path)
    assert api.read_sld_state(sld_dir) == dict(step=0, history=[])
    api.write_sld_state(sld_dir, 1, dict(labelled_fraction=0.2))
    api.write_sld_state(sld_dir, 2, dict(labelled_fraction=0.3))
    assert [h['step'] for h in api.read_sld_state(sld_dir)['history']] == [1, 2]
    api.write_sld_state(sld_dir, 1)  # resumed at step 1: step 2 will be redone
    state = api.read_sld_state(sld_dir)
    assert state['step'] == 1 and [h['step'] for h in state['history']] == [1]


# ------------------------------------------------------------------------------------------------ one image
def test_sld_expand_image_keeps_labels_and_grows_inside_omega(voc_root, tmp_path):
    cfg = make_cfg(voc_root, str(tmp_path / 'sld'))
    dataset = api.build_expansion_dataset(cfg)
    assert [t.__class__.__name__ for t in dataset.pipeline.transforms] == ['LoadImageFromFile', 'LoadSLDLabels',
                                                                           'PackWeakSegInputs']
    model = build_model()
    model.train()
    sample = dataset[0]  # image a: 20 x 30, cat / dog / background scribbles
    labels = api.current_labels(sample, str(tmp_path / 'sld'), 0, 'a')
    assert labels.shape == (20, 30) and set(np.unique(labels)) == {0, 8, 12, 255}
    with torch.no_grad():
        model.sld_decision.layers[-1].bias.fill_(-0.5)  # gamma below the mean: something grows
    result = api.sld_expand_image(model, sample, labels, step=0)
    assert model.training  # restored
    new = result['labels']
    assert new.dtype == np.uint8 and new.shape == labels.shape
    labelled = labels != 255
    assert np.array_equal(new[labelled], labels[labelled])  # labelled pixels never change
    _, regions = sld_regions(torch.from_numpy(labels.astype(np.int64)), sld_radius(0, model.sld_base_radius))
    grown = (new != 255) & ~labelled
    assert grown.sum() == result['added'] > 0 and regions.any(0).numpy()[grown].all()  # inside Omega
    assert result['labelled_fraction'] == pytest.approx((new != 255).mean())
    assert result['classes'] == [0, 8, 12] and len(result['gamma']) == 3
    assert result['prediction'].shape == labels.shape


# ---------------------------------------------------------------------------------------------- the dataset
def test_expand_training_labels_steps_resume_and_state(voc_root, tmp_path, monkeypatch):
    sld_dir = str(tmp_path / 'sld')
    cfg = make_cfg(voc_root, sld_dir)
    dataset = api.build_expansion_dataset(cfg)
    model = build_model()
    with torch.no_grad():
        model.sld_decision.layers[-1].bias.fill_(-0.5)
    summary = api.expand_training_labels(model, dataset, sld_dir, 0)
    assert sorted(os.listdir(osp.join(sld_dir, 'step_1'))) == ['a.png', 'b.png', 'c.png']
    assert summary['step'] == 1 and summary['images'] == 3 and summary['scored_images'] == 3
    assert 0 < summary['labelled_fraction'] <= 1 and 0 <= summary['accuracy'] <= 1
    state = api.read_sld_state(sld_dir)
    assert state['step'] == 1 and state['history'][0]['labelled_fraction'] == summary['labelled_fraction']
    # step 1 -> 2 reads step_1; labels only grow
    api.expand_training_labels(model, dataset, sld_dir, 1)
    for name in 'abc':
        one, two = (load_label_png(osp.join(sld_dir, f'step_{t}', name + '.png')) for t in (1, 2))
        assert np.array_equal(two[one != 255], one[one != 255])
    assert api.read_sld_state(sld_dir)['step'] == 2
    # resumable: finished images are not redone; overwrite redoes them
    calls = []
    original = api.sld_expand_image
    monkeypatch.setattr(api, 'sld_expand_image', lambda *a: calls.append(1) or original(*a))
    os.remove(osp.join(sld_dir, 'step_2', 'b.png'))
    api.expand_training_labels(model, dataset, sld_dir, 1)
    assert len(calls) == 1
    api.expand_training_labels(model, dataset, sld_dir, 1, overwrite=True)
    assert len(calls) == 4
    # ground truth from a folder; a missing step is an error
    summary = api.expand_training_labels(model, dataset, sld_dir, 0, gt_dir=str(tmp_path / 'none'), overwrite=True)
    assert summary['accuracy'] is None and summary['scored_images'] == 0
    with pytest.raises(FileNotFoundError, match='step 5'):
        api.expand_training_labels(model, dataset, sld_dir, 5)


# -------------------------------------------------------------------------------------------------- the hook
def _run(cfg, resume_from=None):
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class Recorder(Hook):
        def __init__(self):
            self.steps = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.steps.append(max(s.metainfo['sld_step'] for s in data_batch['data_samples']))

    if resume_from:
        cfg.resume, cfg.load_from = True, resume_from
    runner = Runner.from_cfg(cfg)
    recorder = Recorder()
    runner.register_hook(recorder, priority='LOWEST')
    runner.train()
    return runner, recorder.steps


@pytest.mark.slow
def test_sld_hook_switches_persistent_workers_and_resumes(voc_root, tmp_path):
    sld_dir = str(tmp_path / 'sld')
    cfg = make_cfg(voc_root, sld_dir, work_dir=str(tmp_path / 'work'), max_iters=16, workers=1)
    runner, steps = _run(cfg.copy())
    # expansions after iterations 4, 8, 12; a persistent worker prefetches one batch ahead
    expected = [api.step_at(i, [4, 8, 12]) for i in range(16)]
    assert all(s <= e for s, e in zip(steps, expected)), (steps, expected)
    assert all(s == e for i, (s, e) in enumerate(zip(steps, expected)) if i % 4 >= 2), (steps, expected)
    for step in (1, 2, 3):
        assert sorted(os.listdir(osp.join(sld_dir, f'step_{step}'))) == ['a.png', 'b.png', 'c.png']
    state = api.read_sld_state(sld_dir)
    assert state['step'] == 3 and [h['step'] for h in state['history']] == [1, 2, 3]
    assert all(h['accuracy'] is not None for h in state['history'])
    assert runner.model.sld_step == 3
    # resume from iteration 8: step 2 again (the state file follows), then the expansion to 3 is redone
    checkpoint = osp.join(str(tmp_path / 'work'), 'iter_8.pth')
    resumed = make_cfg(voc_root, sld_dir, work_dir=str(tmp_path / 'work2'), max_iters=16, workers=1)
    runner, steps = _run(resumed, checkpoint)
    assert steps[0] == 2 and steps[-1] == 3 and len(steps) == 8
    assert api.read_sld_state(sld_dir)['step'] == 3
    # resuming into a step whose labels are gone is an error
    import shutil
    shutil.rmtree(osp.join(sld_dir, 'step_2'))
    again = make_cfg(voc_root, sld_dir, work_dir=str(tmp_path / 'work3'), max_iters=16)
    with pytest.raises(FileNotFoundError, match='step 2'):
        _run(again, checkpoint)


def test_sld_hook_in_the_toy_and_voc_configs():
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for name in ('deeplabv3plus_r101-os16-cpp-sld_132k_voc12aug-scribble.py',
                 'toy/deeplabv3plus_r18-quarter-os16-cpp-sld_1k_toy-scribble.py'):
        cfg = Config.fromfile(osp.join(repo, 'configs', 'psi', name))
        settings = api.sld_settings(cfg)
        assert settings['num_steps'] == 3 and settings['sld_dir'] == cfg.sld_dir
        assert json.dumps(settings)  # plain values
