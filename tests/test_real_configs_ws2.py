"""The WS^2 configs: the real ones run end to end with stock ``tools/train.py`` on the miniature of the A2D layout (as
tests/test_real_configs.py runs the other methods' configs), the stage-1 classifiers, ``tools/ws2/make_pa.py`` on
their checkpoints, then the stage-2 segmenter on that PA.v0 (and ``tools/test.py`` on A2D's annotated test frames);
every config, real and toy, is checked on its own: the base it diffs, classes, output strides, feature shapes.

The only ``--cfg-options`` of the runs shrink cost (1 epoch, batch 1 or 2, 112 px crops, 8-frame clips for I3D, no
worker processes) or avoid downloads (``pretrained=None`` / ``load_from=None``), and one fits the miniature: its 3
train videos have no 10th to be a val video, so the segmenter's train / val split takes every 3rd (``video_list.every
=3``). Data root, split, label type, single-label filter, PA folder and pipeline structure are the configs' own.
"""
import os
import os.path as osp
import re
import sys

import pytest
from mmengine.config import Config

from conftest import REPO, run_tool

ACTOR = 'configs/ws2/tsn_r50-os16_100e_a2d-actor.py'
ACTION = 'configs/ws2/i3d_r50-os16_100e_a2d-action.py'
TOY_ACTOR = 'configs/ws2/toy/tsn_r18-quarter-os8_60e_toy-actor.py'
TOY_ACTOR_PRETRAIN = 'configs/ws2/toy/pretrain_r18-quarter-os8_30e_toy-actor-objects.py'
TOY_ACTION = 'configs/ws2/toy/i3d_r18-w16_30e_toy-action.py'
SEGMENTER = 'configs/ws2/deeplabv2_r101-os8_20e_a2d-pa.py'
TOY_SEGMENTER = 'configs/ws2/toy/deeplabv2_r18-quarter-os8_700it_toy-pa.py'
CLASSIFIERS = (ACTOR, ACTION)
REAL_CONFIGS = (*CLASSIFIERS, SEGMENTER)
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
@pytest.mark.parametrize('config', CLASSIFIERS)
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


def _pa_v0(workspace):
    """README: ``tools/ws2/make_pa.py`` on the two real classifier configs and their checkpoints (trained by the
    test above; trained here when it has not run), writing into the segmenter config's PA folder
    (``<data_root>/<pa_dir>``); a second call resumes (nothing left to do). Returns the folder and the tool's log.
    Cost only: 8-frame clips, frames at a 128 px short side, 2 frames per video."""
    segmenter = _load(SEGMENTER).train_dataloader.dataset
    checkpoints = {}
    for config in CLASSIFIERS:
        work_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(config))[0])
        if not osp.exists(osp.join(work_dir, 'last_checkpoint')):
            run_tool([osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, config), '--cfg-options', *OPTIONS[config]],
                     env_extra=ENV, cwd=str(workspace))
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            checkpoints[config] = f.read().strip()
    out = osp.join(workspace, segmenter.data_root, segmenter.pa_dir)
    log = run_tool([osp.join(REPO, 'tools', 'ws2', 'make_pa.py'), osp.join(REPO, ACTOR), checkpoints[ACTOR],
                    osp.join(REPO, ACTION), checkpoints[ACTION], '--out-dir', out, '--frames-per-video', '2',
                    '--cfg-options', 'test_dataloader.dataset.pipeline.0.clip_len=8', 'ws2_pa.short_side=128'],
                   env_extra=ENV, cwd=str(workspace))
    return out, log


@pytest.mark.slow
def test_ws2_pa_from_the_real_classifiers_on_the_miniature(workspace):
    """PA.v0 of every train video of the miniature, in the layout A2DPseudoFrameDataset reads (see _pa_v0)."""
    import numpy as np

    from wsseg_mm.fileio.annotations import read_a2d_videoset
    from wsseg_mm.fileio.labels import load_label_png
    out, log = _pa_v0(workspace)
    videos = read_a2d_videoset(osp.join(workspace, 'data', 'A2D', 'Release', 'videoset.csv'))
    train = sorted(v['video_id'] for v in videos if v['usage'] == 0)
    assert sorted(d for d in os.listdir(out) if d in {v['video_id'] for v in videos}) == train, log[-2000:]
    for video in train:
        frames = sorted(os.listdir(osp.join(out, video)))
        assert len(frames) == 2 and all(f.endswith('.png') for f in frames)
        label = load_label_png(osp.join(out, video, frames[0]))
        assert label.shape[0] == 320 and label.dtype == np.uint8  # the frame's own size (A2D: 320 px high)


# cost only: 1 epoch of batch 2, 112 px crops, no worker processes, no ImageNet download; the miniature's 3 train
# videos: every 3rd is the val video (the config's every 10th leaves none)
SEGMENTER_OPTIONS = ['model.pretrained=None', 'train_cfg.max_epochs=1', 'param_scheduler.0.end=1',
                     'train_dataloader.batch_size=2', 'train_dataloader.dataset.pipeline.2.crop_size=(112,112)',
                     'model.data_preprocessor.size=(112,112)', 'train_dataloader.dataset.video_list.every=3',
                     'val_dataloader.dataset.video_list.every=3', *_workers('train', 'val', 'test')]


@pytest.mark.slow
def test_ws2_segmenter_trains_on_the_pa_of_the_miniature(workspace, monkeypatch):
    """README: ``tools/train.py`` on the stage-2 segmenter config, reading PA.v0 where make_pa.py wrote it (the
    config's ``pa_dir``): RIC on the val video's PA frames, the best-RIC checkpoint, then ``tools/test.py`` with it
    on A2D's annotated test frames (A2DMetric)."""
    from mmengine.registry import DATASETS, DefaultScope

    import wsseg_mm  # noqa: F401  (registration)
    from wsseg_mm.fileio.annotations import read_a2d_videoset
    out, _ = _pa_v0(workspace)
    videos = read_a2d_videoset(osp.join(workspace, 'data', 'A2D', 'Release', 'videoset.csv'))
    train = [v['video_id'] for v in videos if v['usage'] == 0]
    # the config's datasets on the workspace: train = videos 1, 2; val = video 3 (every 3rd); 2 PA frames each
    monkeypatch.chdir(workspace)
    cfg = _load(SEGMENTER)
    expected = dict(train=train[:2], val=train[2:])
    for loader in ('train', 'val'):
        spec = dict(cfg[f'{loader}_dataloader'].dataset, video_list=dict(every=3, part=loader))
        with DefaultScope.overwrite_default_scope('mmseg'):
            dataset = DATASETS.build(spec)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        assert sorted({i['video_id'] for i in infos}) == sorted(expected[loader]) and len(infos) == 2 * len(
            expected[loader])
        assert all(i['seg_map_path'].startswith(out) or osp.realpath(i['seg_map_path']).startswith(
            osp.realpath(out)) for i in infos)
    log = run_tool([osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, SEGMENTER), '--cfg-options',
                    *SEGMENTER_OPTIONS], env_extra=ENV, cwd=str(workspace))
    assert re.search(r'Epoch\(train\)\s+\[1\]\[2/2\]', log), log[-2000:]
    assert re.search(r'Epoch\(val\) \[1\]\[2/2\].*mIoU_PA: [\d.]+\s+RII: [\d.]+\s+RIC: [\d.]+', log), log[-2000:]
    work_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(SEGMENTER))[0])
    best = osp.join(work_dir, 'best_RIC_epoch_1.pth')
    assert osp.isfile(best) and osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    # the superpixels of the val frames were cached for the next validation
    assert sorted(os.listdir(osp.join(workspace, 'data', 'A2D', 'Release', 'ws2', 'superpixels', train[2]))) == \
        sorted(f[:-4] + '.npy' for f in os.listdir(osp.join(out, train[2])))
    log = run_tool([osp.join(REPO, 'tools', 'test.py'), osp.join(REPO, SEGMENTER), best, '--cfg-options',
                    *SEGMENTER_OPTIONS], env_extra=ENV, cwd=str(workspace))
    assert re.search(r'actor_action_mIoU: [\d.]+', log), log[-2000:]


@pytest.mark.slow
def test_toy_ws2_segmenter_runs_on_the_pa_of_the_miniature(workspace):
    """The toy segmenter's own loop (iterations, infinite sampler, RIC every val_interval, best-RIC checkpoint, early
    stopping) on the miniature's PA.v0: the toy data root swapped for the miniature's, 2 iterations, val at 2."""
    _pa_v0(workspace)
    root = 'data/A2D/Release'
    options = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
               'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
               f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
               f'val_dataloader.dataset.pipeline.1.cache_dir={root}/ws2/superpixels',
               'train_dataloader.dataset.video_list.every=3', 'val_dataloader.dataset.video_list.every=3',
               *_workers('train', 'val')]
    log = run_tool([osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, TOY_SEGMENTER), '--cfg-options', *options],
                   env_extra=ENV, cwd=str(workspace))
    assert re.search(r'Iter\(val\) \[2/2\].*mIoU_PA: [\d.]+\s+RII: [\d.]+\s+RIC: [\d.]+', log), log[-2000:]
    work_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(TOY_SEGMENTER))[0])
    assert osp.isfile(osp.join(work_dir, 'best_RIC_iter_2.pth')) and osp.isfile(osp.join(work_dir, 'iter_2.pth'))


@pytest.mark.slow
def _printed_state(log):
    import json
    return json.loads(next(line for line in reversed(log.splitlines()) if line.startswith('{"final_version"')))


@pytest.mark.slow
def test_ws2_evolve_runs_the_versions_on_the_miniature(workspace):
    """README: ``tools/ws2/evolve.py`` on the real segmenter config, the miniature's PA.v0 and the real actor
    classifier (the selection): v0 selected, trained (best RIC), scored (val RIC, PA quality, test scores with and
    without alignment), PA.v1 predicted and refined, then v1. The one-epoch classifier's vote is chance, so the test
    sets the selection's threshold to 0 (every region passes; a frame is selected iff its PA is not empty), which
    makes the selection depend on the PAs alone. If the one-epoch model.v0 predicts PA.v1 empty everywhere, v1's
    selection keeps nothing and the versions stop there; otherwise v1 trains and max_versions ends them. A second
    call finds everything done; a run killed while predicting PA.v1 resumes from the state file and writes the same
    PA.v1."""
    import json
    import shutil

    from wsseg_mm.fileio.annotations import read_a2d_videoset
    from wsseg_mm.fileio.labels import load_label_png
    out, _ = _pa_v0(workspace)
    actor_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(ACTOR))[0])
    with open(osp.join(actor_dir, 'last_checkpoint')) as f:
        actor_ckpt = f.read().strip()
    work_dir = osp.join(workspace, 'work_dirs', 'ws2_evolve')
    # cost only: the selection's D for 1 epoch on 32 px patches, the classifier at 112 px; threshold 0: see above
    command = [osp.join(REPO, 'tools', 'ws2', 'evolve.py'), osp.join(REPO, SEGMENTER), '--pa-v0', out, '--work-dir',
               work_dir, '--actor-config', osp.join(REPO, ACTOR), '--actor-checkpoint', actor_ckpt,
               '--max-versions', '2', '--cfg-options', *SEGMENTER_OPTIONS, 'ws2_select.epochs=1',
               'ws2_select.patch_size=32', 'ws2_select.actor_patch_size=112', 'ws2_select.threshold=0']
    log = run_tool(command, env_extra=ENV, cwd=str(workspace))
    state = _printed_state(log)
    with open(osp.join(work_dir, 'ws2_state.json')) as f:
        full = json.load(f)
    videos = read_a2d_videoset(osp.join(workspace, 'data', 'A2D', 'Release', 'videoset.csv'))
    train = [v['video_id'] for v in videos if v['usage'] == 0]
    v0, v1 = full['versions']
    assert v0['done'] == ['select', 'train', 'score', 'predict']
    assert set(v0['scores']) == {'RIC', 'mIoU_PA', 'RII'}
    assert v0['scores']['RIC'] == pytest.approx(v0['scores']['mIoU_PA'] + 0.5 * v0['scores']['RII'])
    assert osp.isfile(v0['checkpoint']) and osp.basename(v0['checkpoint']) == 'best_RIC_epoch_1.pth'
    non_empty = {d: sum(load_label_png(osp.join(d, v, f)).any() for v in train[:2] for f in os.listdir(osp.join(d, v)))
                 for d in (out, osp.join(work_dir, 'pa_v1'))}
    # 2 train videos x 2 PA frames; with threshold 0 exactly the non-empty PA frames are selected
    assert v0['frames'] == v1['frames'] == 4 and v0['selected'] == non_empty[out] >= 1
    assert v1['selected'] == non_empty[osp.join(work_dir, 'pa_v1')]
    assert v0['selection_summary']['selected'] == v0['selected']
    assert set(v0['test']) == set(v0['test_aligned']) and 0 <= v0['test_aligned']['actor_action_mIoU'] <= 100
    if v1['selected']:
        assert v1['done'] == ['select', 'train', 'score']
        ric = [v0['scores']['RIC'], v1['scores']['RIC']]
        assert state['final_version'] == int(ric[1] > ric[0])
        assert state['stop'] == ('max_versions 2 reached' if ric[1] - ric[0] >= 0.1 else
                                 f'v1: best RIC {ric[1]:.2f} gains less than min_delta 0.1 over {ric[0]:.2f}')
    else:
        assert v1['done'] == ['select'] and state['final_version'] == 0, log[-3000:]
        assert state['stop'].startswith('v1: the selection kept none of the 4 PA frames')
    # PA.v1: every PA.v0 frame of the train and val videos, predicted and refined (here: all background)
    pa_v1 = osp.join(work_dir, 'pa_v1')
    assert {v: sorted(os.listdir(osp.join(pa_v1, v))) for v in train} == \
        {v: sorted(os.listdir(osp.join(out, v))) for v in train}
    labels = [load_label_png(osp.join(pa_v1, v, f)) for v in train for f in os.listdir(osp.join(pa_v1, v))]
    assert all(label.shape[0] == 320 and label.max() < 44 for label in labels)
    # done: a second call trains nothing
    log = run_tool(command, env_extra=ENV, cwd=str(workspace))
    assert 'Epoch(train)' not in log and _printed_state(log) == state
    # killed while predicting PA.v1 (v0 without 'predict', one video of PA.v1 missing): resumes, same PA.v1
    before = {(v, f): open(osp.join(pa_v1, v, f), 'rb').read() for v in train for f in os.listdir(osp.join(pa_v1, v))}
    full['versions'] = full['versions'][:1]
    full['versions'][0]['done'].remove('predict')
    full['stop'] = None
    with open(osp.join(work_dir, 'ws2_state.json'), 'w') as f:
        json.dump(full, f)
    shutil.rmtree(osp.join(pa_v1, train[0]))
    shutil.rmtree(osp.join(work_dir, 'model_v1'), ignore_errors=True)  # v1 never started in this scenario
    log = run_tool(command, env_extra=ENV, cwd=str(workspace))
    assert '1 written, 2 already done' in log, log[-3000:]
    assert ('Epoch(train)' in log) == bool(v1['selected'])  # only v1 trains again, if it trains at all
    after = {(v, f): open(osp.join(pa_v1, v, f), 'rb').read() for v in train for f in os.listdir(osp.join(pa_v1, v))}
    assert after == before
    # v1 is redone from its selection (a retraining on CPU need not give the same RIC, so its stop rule may differ)
    with open(osp.join(work_dir, 'ws2_state.json')) as f:
        resumed = json.load(f)
    assert [v['version'] for v in resumed['versions']] == [0, 1] and resumed['stop'] == _printed_state(log)['stop']
    assert resumed['versions'][0] == dict(v0, done=['select', 'train', 'score', 'predict'])
    assert resumed['versions'][1]['selected'] == v1['selected']



@pytest.mark.slow
def test_ws2_evolve_in_two_processes_predicts_as_one(workspace, monkeypatch):
    """README: ``evolve.py --launcher pytorch`` under torchrun with 2 processes on the miniature: the selection runs
    on rank 0 and is broadcast, the segmenter trains as one DDP job, and PA.v1 is predicted with the videos split
    over the ranks; the state file is the one-process shape, and PA.v1 is byte-identical to the one-process
    prediction by the same v0 checkpoint (the training itself differs from one process: each rank sees half of
    every batch)."""
    import argparse
    import json

    from mmengine.config import DictAction

    from wsseg_mm.apis import predict_pa, ws2_evolve_settings
    from wsseg_mm.apis.ws2_evolve import _load_model, pa_frames_dataset
    out, _ = _pa_v0(workspace)
    actor_dir = osp.join(workspace, 'work_dirs', osp.splitext(osp.basename(ACTOR))[0])
    with open(osp.join(actor_dir, 'last_checkpoint')) as f:
        actor_ckpt = f.read().strip()
    work_dir = osp.join(workspace, 'work_dirs', 'ws2_evolve_dist')
    options = [*SEGMENTER_OPTIONS, 'ws2_select.epochs=1', 'ws2_select.patch_size=32',
               'ws2_select.actor_patch_size=112', 'ws2_select.threshold=0']
    log = run_tool([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29571',
                    osp.join(REPO, 'tools', 'ws2', 'evolve.py'), osp.join(REPO, SEGMENTER), '--pa-v0', out,
                    '--work-dir', work_dir, '--actor-config', osp.join(REPO, ACTOR), '--actor-checkpoint',
                    actor_ckpt, '--max-versions', '2', '--device', 'cpu', '--launcher', 'pytorch',
                    '--cfg-options', *options], env_extra=ENV, cwd=str(workspace))
    assert 'all 2 ranks' in log, log[-3000:]
    with open(osp.join(work_dir, 'ws2_state.json')) as f:
        state = json.load(f)
    v0 = state['versions'][0]
    assert v0['done'] == ['select', 'train', 'score', 'predict'] and v0['frames'] == 4
    assert state['final_version'] in (0, 1) and state['stop']
    # PA.v1 again, in this one process, from the same checkpoint and settings
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(osp.join(REPO, SEGMENTER))
    cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)
    monkeypatch.chdir(workspace)  # the config's data root is relative, as for the tool
    one = osp.join(workspace, 'work_dirs', 'pa_v1_one_process')
    predict_pa(_load_model(cfg, v0['checkpoint'], 'cpu'), pa_frames_dataset(cfg, out), one,
               ws2_evolve_settings(cfg))
    two = osp.join(work_dir, 'pa_v1')
    files = sorted(osp.relpath(osp.join(d, f), two) for d, _, fs in os.walk(two) for f in fs if f.endswith('.png'))
    assert files and files == sorted(osp.relpath(osp.join(d, f), one) for d, _, fs in os.walk(one) for f in fs
                                     if f.endswith('.png'))
    assert all(open(osp.join(two, f), 'rb').read() == open(osp.join(one, f), 'rb').read() for f in files)

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
    (TOY_ACTOR, (1, 4, 3, 128, 128), (4, 128, 16, 16)),
    (TOY_ACTION, (1, 1, 3, 8, 128, 128), (1, 128, 4, 8, 8)),
])
def test_toy_ws2_classifiers(config, data_shape, feature_shape, tmp_path):
    """The toy classifiers on the WS^2 toy clips and the shape of the features Grad-CAM reads: the actor's
    quarter-width ResNet-18 at OS8 with 4 segments, from the toy objects' pretraining (the toy's stand-in for
    ImageNet, on the seven actor shapes: every backbone weight comes from a checkpoint of the pretraining config's
    model); the action's
    ResNet3d-18 of 16 channels (t' = t / 2), from scratch."""
    import torch
    from mmengine.registry import MODELS, DefaultScope

    import wsseg_mm  # noqa: F401
    cfg = _load(config)
    for loader in ('train', 'val', 'test'):
        assert cfg[f'{loader}_dataloader'].dataset.data_root == 'data/toy_ws2/A2D/Release'
    assert cfg.load_from is None
    if config == TOY_ACTOR:
        inner = cfg.model.backbone.backbone
        assert cfg.model.backbone.type == 'LastFeatureBackbone' and inner.type == 'mmseg.ResNet'
        assert inner.init_cfg == dict(type='Pretrained', checkpoint='last://work_dirs/ws2_toy/pretrain',
                                      prefix='backbone.')
        # a checkpoint of the pretraining stage's model (random weights): the actor's backbone must take all of it
        # (a V1c deep stem here once left the stem random: 'missing keys stem.*', 30% top-1 instead of ~60%)
        from wsseg_mm.toy.shapes import SHAPE_TEXTURES
        pretrain_cfg = _load(TOY_ACTOR_PRETRAIN)
        objects = pretrain_cfg.train_dataloader.dataset
        assert objects.data_root == 'data/toy_ws2/ToyObjects' and pretrain_cfg.work_dir == 'work_dirs/ws2_toy/pretrain'
        assert objects.metainfo['classes'][1:] == tuple(SHAPE_TEXTURES)  # the seven shapes, hexagon included
        assert pretrain_cfg.model.num_classes == 8 == objects.pipeline[-1]['num_classes']
        with DefaultScope.overwrite_default_scope('mmseg'):
            torch.manual_seed(1)
            pretrain = MODELS.build(pretrain_cfg.model)
        pretrain.init_weights()
        torch.save(dict(state_dict=pretrain.state_dict()), tmp_path / 'epoch_8.pth')
        (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_8.pth'))
        inner.init_cfg.checkpoint = f'last://{tmp_path}'
    else:
        assert cfg.model.backbone.pretrained is None
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    if config == TOY_ACTOR:
        source = pretrain.backbone.state_dict()
        loaded = model.backbone.backbone.state_dict()
        assert sorted(loaded) == sorted(source)
        assert all(torch.equal(loaded[k], source[k]) for k in source)
    model.eval()
    with torch.no_grad():
        inputs = model.data_preprocessor(dict(inputs=[torch.rand(data_shape[1:]) * 255], data_samples=None))['inputs']
        features = model.extract_feat(inputs)[0]
        scores = model.cls_head(features, **({'num_segs': 4} if config == TOY_ACTOR else {}))
    assert tuple(features.shape) == feature_shape
    assert scores.shape == (1, cfg.model.cls_head.num_classes)


def test_ws2_segmenter_configs():
    """Stage 2 (issue 12, "Segmenter"): DeepLab-v2 ResNet-101 V1c from ImageNet at OS8 with DeepLabV2Head on one PA
    version, 224 px crops, batch 12, SGD momentum 0.9, poly lr 7e-4 power 0.9, full-frame test; RIC on the val
    videos' PA frames each epoch, best-RIC checkpoint, early stopping on RIC; A2DMetric on the annotated test frames.
    The toy: quarter-width ResNet-18 from scratch, 96 px crops, batch 12, AdamW, 700 iterations, RIC every 70."""
    from wsseg_mm.metainfo import A2D_SEG_CLASSES
    real, toy = _load(SEGMENTER), _load(TOY_SEGMENTER)
    for cfg, root, crop in ((real, 'data/A2D/Release', 224), (toy, 'data/toy_ws2/A2D/Release', 96)):
        assert cfg.custom_imports.imports == ['wsseg_mm'] and cfg.default_scope == 'mmseg'
        model = cfg.model
        assert model.type == 'EncoderDecoder' and model.backbone.type == 'ResNetV1c' and model.auxiliary_head is None
        assert model.backbone.strides == (1, 2, 1, 1) and model.backbone.dilations == (1, 1, 2, 4)  # OS8
        head = model.decode_head
        assert (head.type, head.dilations, head.num_classes) == ('DeepLabV2Head', (6, 12, 18, 24),
                                                                 len(A2D_SEG_CLASSES))
        assert model.data_preprocessor.size == (crop, crop)
        train, val, test = (cfg[f'{loader}_dataloader'] for loader in ('train', 'val', 'test'))
        assert train.batch_size == 12
        for loader, part in ((train, 'train'), (val, 'val')):
            dataset = loader.dataset
            assert (dataset.type, dataset.data_root, dataset.split) == ('A2DPseudoFrameDataset', root, 'train')
            assert dataset.pa_dir == 'ws2/pa_v0' and dataset.video_list == dict(every=10, part=part)
        assert train.dataset.selection is None
        crops = [t for t in train.dataset.pipeline if t.type == 'RandomCrop']
        assert [t.crop_size for t in crops] == [(crop, crop)]
        # full frames for RIC: superpixels right after the frame, no geometric transform
        assert [t.type for t in val.dataset.pipeline] == ['LoadImageFromFile', 'LoadSuperpixels', 'LoadAnnotations',
                                                          'PackWeakSegInputs']
        assert val.dataset.pipeline[1].cache_dir == root + '/ws2/superpixels'
        assert cfg.val_evaluator.type == 'RICMetric'
        assert (test.dataset.type, test.dataset.data_root, test.dataset.split) == ('A2DFrameDataset', root, 'test')
        assert [t.type for t in test.dataset.pipeline] == ['LoadImageFromFile', 'LoadA2DAnnotation',
                                                           'PackWeakSegInputs']
        assert cfg.test_evaluator.type == 'A2DMetric'
        checkpoint = cfg.default_hooks.checkpoint
        assert (checkpoint.save_best, checkpoint.rule) == ('RIC', 'greater')
        assert [(h.type, h.monitor, h.rule) for h in cfg.custom_hooks] == [('EarlyStoppingHook', 'RIC', 'greater')]
        assert [(s.type, s.power, s.eta_min) for s in cfg.param_scheduler] == [('PolyLR', 0.9, 0)]
    assert real.model.backbone.depth == 101 and real.model.pretrained == 'open-mmlab://resnet101_v1c'
    assert real.model.decode_head.in_channels == 2048
    optimizer = real.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum) == ('SGD', 7e-4, 0.9)
    assert real.train_cfg.type == 'EpochBasedTrainLoop' and real.train_cfg.val_interval == 1  # RIC each epoch
    assert real.param_scheduler[0].end == real.train_cfg.max_epochs
    assert toy.model.pretrained is None and toy.optim_wrapper.optimizer.type == 'AdamW'
    assert (toy.train_cfg.type, toy.train_cfg.max_iters, toy.train_cfg.val_interval) == ('IterBasedTrainLoop', 700, 70)
    assert toy.param_scheduler[0].end == 700 and toy.default_hooks.checkpoint.interval == 70


def test_toy_ws2_segmenter_predicts_at_output_stride_8():
    """The toy segmenter (quarter-width ResNet-18, 128-channel features at OS8) on a 96 px crop: (1, 44, 12, 12)
    logits from the head, a full-size loss and prediction from the model."""
    import torch
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    import wsseg_mm  # noqa: F401
    cfg = _load(TOY_SEGMENTER)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    sample = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 44, (1, 96, 96))),
                           metainfo=dict(img_shape=(96, 96), ori_shape=(96, 96), pad_shape=(96, 96)))
    data = model.data_preprocessor(dict(inputs=[torch.rand(3, 96, 96) * 255], data_samples=[sample]), True)
    features = model.extract_feat(data['inputs'])
    assert tuple(features[3].shape) == (1, 128, 12, 12)
    assert tuple(model.decode_head(features).shape) == (1, 44, 12, 12)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert torch.isfinite(losses['decode.loss_ce'])
    model.eval()
    with torch.no_grad():
        prediction = model.predict(data['inputs'], data['data_samples'])[0].pred_sem_seg.data
    assert tuple(prediction.shape) == (1, 96, 96)
