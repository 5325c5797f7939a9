"""WS^2 Stage 2 on YouTube-Objects (Table 5): the PA frame dataset on the miniature (exact frames, paths, tags,
ground-truth masks, selection, errors), the object scores by hand (PA quality, test scores, ObjectIoUMetric: the
mean IoU of the object classes), the selection's label map, the segmenter config as a small diff of the A2D one,
and ``tools/ws2/evolve.py`` + ``tools/ws2/predict.py`` end to end on the miniature (README's YTO commands)."""
import json
import os
import os.path as osp
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from test_youtube_objects import YTO_ACTOR, _tool, data_root, trained_classifier, workspace  # noqa: F401

import wsseg_mm  # noqa: F401  (registration)
from wsseg_mm.apis import pa_quality, ws2_test_scores, yto_test_scores
from wsseg_mm.apis.ws2 import build_select_dataset, pa_label_to_actor
from wsseg_mm.datasets import A2DPseudoFrameDataset, YouTubeObjectsPseudoFrameDataset
from wsseg_mm.fileio.labels import load_label_png, save_label_png
from wsseg_mm.functional.metrics import A2D_LABEL_TO_ACTOR
from wsseg_mm.functional.object_iou import object_scores
from wsseg_mm.metainfo import YTO_SEG_CLASSES

from conftest import REPO, run_tool

YTO_SEGMENTER = 'configs/ws2/deeplabv2_r101-os8_20e_yto-pa.py'
A2D_SEGMENTER = 'configs/ws2/deeplabv2_r101-os8_20e_a2d-pa.py'
ENV = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
# hand-written PA PNGs on the miniature: shot -> frames (aeroplane_0002_001 and dog_0004_001 are test shots, masked
# on frames 1, 11, 21; car_0001_001 is a train shot)
PA_FRAMES = {'aeroplane_0002_001': (1, 5, 11), 'car_0001_001': (3, ), 'dog_0004_001': (1, )}


def _shot_dir(root, shot_id):
    cls, video, shot = shot_id.split('_')
    return osp.join(root, 'v1', cls, 'data', video, 'shots', shot)


def _mask(root, shot_id, frame):
    cls, video, shot = shot_id.split('_')
    return osp.join(root, 'youtube_masks', cls, 'data', video, 'shots', shot, 'labels', f'{frame:05d}.jpg')


@pytest.fixture(scope='module')
def pa_root(data_root):  # noqa: F811
    """``<data_root>/pa_test``: a PA version of :data:`PA_FRAMES` (label = frame number % 3 on a band, else 0)."""
    for shot, frames in PA_FRAMES.items():
        for frame in frames:
            label = np.zeros((120, 160), np.uint8)
            label[40:60] = frame % 3
            save_label_png(osp.join(data_root, 'pa_test', shot, f'{frame:05d}.png'), label)
    return data_root


def _infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


# ------------------------------------------------------------------------------------------------- dataset
def test_pa_frame_dataset_frames_paths_tags_and_masks(pa_root):
    dataset = YouTubeObjectsPseudoFrameDataset(data_root=pa_root, pa_dir='pa_test', split='all', pipeline=[])
    infos = _infos(dataset)
    assert [(i['video_id'], i['frame_index']) for i in infos] == [
        ('aeroplane_0002_001', 1), ('aeroplane_0002_001', 5), ('aeroplane_0002_001', 11), ('car_0001_001', 3),
        ('dog_0004_001', 1)]
    assert [i['video_labels'] for i in infos] == [[1], [1], [1], [4], [7]]  # class index + 1
    assert [i['frame_id'] for i in infos] == ['aeroplane_0002_001/00001', 'aeroplane_0002_001/00005',
                                              'aeroplane_0002_001/00011', 'car_0001_001/00003', 'dog_0004_001/00001']
    assert [i['yto_mask_path'] for i in infos] == [
        _mask(pa_root, 'aeroplane_0002_001', 1), None, _mask(pa_root, 'aeroplane_0002_001', 11), None,
        _mask(pa_root, 'dog_0004_001', 1)]
    assert infos[3]['img_path'] == osp.join(_shot_dir(pa_root, 'car_0001_001'), 'frame0003.jpg')
    assert infos[3]['seg_map_path'] == osp.join(pa_root, 'pa_test', 'car_0001_001', '00003.png')
    assert dataset.metainfo['classes'] == YTO_SEG_CLASSES
    # the splits of the shots: train = without masks, test = with masks; video_list over the split's shots
    split = {s: [(i['video_id'], i['frame_index']) for i in _infos(YouTubeObjectsPseudoFrameDataset(
        data_root=pa_root, pa_dir='pa_test', split=s, pipeline=[]))] for s in ('train', 'test')}
    assert split == dict(train=[('car_0001_001', 3)], test=[('aeroplane_0002_001', f) for f in (1, 5, 11)] +
                         [('dog_0004_001', 1)])
    val = YouTubeObjectsPseudoFrameDataset(data_root=pa_root, pa_dir='pa_test', split='test', pipeline=[],
                                           video_list=dict(every=3, part='val'))  # aeroplane, car, dog -> dog
    assert [i['frame_id'] for i in _infos(val)] == ['dog_0004_001/00001']
    # selection: ids or a file relative to data_root
    with open(osp.join(pa_root, 'selected.txt'), 'w') as f:
        f.write('aeroplane_0002_001/00005\ndog_0004_001/00001\n')
    for selection in ('selected.txt', ['aeroplane_0002_001/00005', 'dog_0004_001/00001']):
        chosen = YouTubeObjectsPseudoFrameDataset(data_root=pa_root, pa_dir='pa_test', split='all', pipeline=[],
                                                  selection=selection)
        assert [i['frame_id'] for i in _infos(chosen)] == ['aeroplane_0002_001/00005', 'dog_0004_001/00001']
    # a sample through mmseg's loaders: the frame and its PA
    loaded = YouTubeObjectsPseudoFrameDataset(data_root=pa_root, pa_dir='pa_test', split='all',
                                              pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                                        dict(type='PackWeakSegInputs')])
    sample = loaded[1]
    assert tuple(sample['inputs'].shape) == (3, 120, 160)
    np.testing.assert_array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(),
                                  load_label_png(infos[1]['seg_map_path']))


def test_pa_frame_dataset_errors(pa_root, tmp_path):
    kwargs = dict(data_root=pa_root, pipeline=[])
    with pytest.raises(FileNotFoundError, match='pa_missing .*pa_dir. not found'):
        YouTubeObjectsPseudoFrameDataset(pa_dir='pa_missing', **kwargs)
    with pytest.raises(ValueError, match='split must be one of'):
        YouTubeObjectsPseudoFrameDataset(pa_dir='pa_test', split='val', **kwargs)
    with pytest.raises(ValueError, match='1 selected frames have no PA label .*car_0001_001/00004'):
        YouTubeObjectsPseudoFrameDataset(pa_dir='pa_test', split='all', selection=['car_0001_001/00004'], **kwargs)
    with pytest.raises(ValueError, match='no frame of the 1 train shots selected has a PA label'):
        YouTubeObjectsPseudoFrameDataset(pa_dir='pa_test', split='train', video_list=['bird_0001_001'], **kwargs)
    # a PNG of a frame the shot does not have (dog_0004_001 has 12)
    save_label_png(osp.join(pa_root, 'pa_beyond', 'dog_0004_001', '00013.png'), np.zeros((120, 160), np.uint8))
    with pytest.raises(FileNotFoundError, match='00013.png labels frame .*frame0013.jpg, which does not exist'):
        YouTubeObjectsPseudoFrameDataset(pa_dir='pa_beyond', split='all', **kwargs)


def test_selection_label_map_and_dataset_of_the_config(pa_root, monkeypatch):
    yto = YouTubeObjectsPseudoFrameDataset(data_root=pa_root, pa_dir='pa_test', split='all', pipeline=[])
    np.testing.assert_array_equal(pa_label_to_actor(yto), np.arange(11))  # label = class + 1 = actor + 1
    a2d = SimpleNamespace(metainfo=A2DPseudoFrameDataset.METAINFO)  # A2D: pair -> its actor
    assert pa_label_to_actor(a2d) is A2D_LABEL_TO_ACTOR
    with pytest.raises(ValueError, match='neither A2D_SEG_CLASSES nor YTO_SEG_CLASSES'):
        pa_label_to_actor(SimpleNamespace(metainfo=dict(classes=('background', 'thing'))))
    # the selection's frames: a copy of the config's training dataset without selection, whatever the scope
    cfg = Config.fromfile(osp.join(REPO, YTO_SEGMENTER))
    cfg.train_dataloader.dataset.update(data_root=pa_root, pa_dir='pa_test', selection='selected.txt',
                                        video_list=dict(every=3, part='train'))
    frames = build_select_dataset(cfg)
    assert isinstance(frames, YouTubeObjectsPseudoFrameDataset) and frames.selection is None
    # all 11 shots, every 3rd val (aeroplane_0002_001, car_0001_001, dog_0002_001): dog_0004_001 is the train shot
    # with a PA
    assert [i['frame_id'] for i in _infos(frames)] == ['dog_0004_001/00001']
    cfg.train_dataloader.dataset.type = 'YouTubeObjectsFrameDataset'
    with pytest.raises(ValueError, match='is a YouTubeObjectsFrameDataset, not an A2DPseudoFrameDataset or a '
                                         'YouTubeObjectsPseudoFrameDataset'):
        build_select_dataset(cfg)


# ------------------------------------------------------------------------------------------------- scores
# two 2x4 frames by hand: a car shot (class 4) and a dog shot (class 7)
GT_MASKS = [np.array([[0, 255, 255, 0], [0, 255, 255, 0]], np.uint8), np.array([[255, 255, 0, 0], [0] * 4], np.uint8)]
PREDS = [np.array([[0, 4, 4, 4], [0, 0, 4, 0]], np.uint8), np.array([[7, 0, 0, 0], [4, 0, 0, 0]], np.uint8)]
LABELS = [4, 7]
# confusion (rows gt): bg->bg 3 + 5, bg->car 1 + 1, car->car 3, car->bg 1, dog->dog 1, dog->bg 1; IoU: background
# 8 / (10 + 10 - 8) = 2/3, car 3 / (4 + 5 - 3) = 1/2, dog 1 / (2 + 1 - 1) = 1/2
BY_HAND = dict(object_mIoU=50.0, mIoU=100 * (2 / 3 + 0.5 + 0.5) / 3, class_acc=100 * (8 / 10 + 3 / 4 + 1 / 2) / 3,
               global_acc=100 * 12 / 16)


def test_object_scores_by_hand():
    gts = [np.where(m > 15, c, 0) for m, c in zip(GT_MASKS, LABELS)]
    from wsseg_mm.functional.metrics import confusion_matrix
    cm = sum(confusion_matrix(p, g, 11) for p, g in zip(PREDS, gts))
    assert object_scores(cm) == pytest.approx(BY_HAND)
    # Table 5's figure leaves background out; a class only predicted counts (IoU 0), one never seen does not
    only = np.zeros((3, 3), np.int64)
    only[0, 0], only[1, 1], only[0, 2] = 5, 2, 2
    assert object_scores(only)['object_mIoU'] == pytest.approx(50.0)
    assert object_scores(only)['mIoU'] == pytest.approx(100 * (5 / 7 + 1 + 0) / 3)
    with pytest.raises(ValueError, match='C >= 2'):
        object_scores(np.zeros((1, 1)))
    # the test scores of test_predictions' shape, summed over the shots
    predictions = {'car_0001_004': [(1, PREDS[0].astype(np.int64), gts[0])],
                   'dog_0004_001': [(1, PREDS[1].astype(np.int64), gts[1])]}
    assert yto_test_scores(predictions) == pytest.approx(BY_HAND)
    # ObjectIoUMetric (the config's test evaluator) through the registry
    from mmengine.registry import DefaultScope
    from mmseg.registry import METRICS
    with DefaultScope.overwrite_default_scope('mmseg'):  # whatever scope an earlier test left as the default
        metric = METRICS.build(dict(type='ObjectIoUMetric'))
    metric.dataset_meta = dict(classes=YTO_SEG_CLASSES)
    import torch
    metric.process({}, [dict(pred_sem_seg=dict(data=torch.from_numpy(p)[None]),
                             gt_sem_seg=dict(data=torch.from_numpy(g)[None])) for p, g in zip(PREDS, gts)])
    assert metric.evaluate(2) == pytest.approx(BY_HAND)


def test_pa_quality_against_the_masks_by_hand(tmp_path):
    infos = []
    for n, (mask, pred, label) in enumerate(zip(GT_MASKS, PREDS, LABELS)):
        path = str(tmp_path / f'{n}.jpg')
        cv2.imwrite(str(tmp_path / 'm.png'), mask)  # lossless content under the .jpg name: exact values
        os.rename(tmp_path / 'm.png', path)
        save_label_png(str(tmp_path / 'pa' / f'shot{n}' / '00001.png'), pred)
        infos.append(dict(video_id=f'shot{n}', frame_index=1, frame_id=f'shot{n}/00001', yto_mask_path=path,
                          video_labels=[label]))
    # a PA frame without a mask is not scored
    save_label_png(str(tmp_path / 'pa' / 'shot0' / '00002.png'), np.full((2, 4), 4, np.uint8))
    infos.append(dict(video_id='shot0', frame_index=2, frame_id='shot0/00002', yto_mask_path=None, video_labels=[4]))
    assert pa_quality(str(tmp_path / 'pa'), infos) == pytest.approx(dict(BY_HAND, frames=2))
    # the dog frame alone: background 5 / 7, car (only predicted) 0, dog 1 / 2
    assert pa_quality(str(tmp_path / 'pa'), infos, ['shot1/00001']) == pytest.approx(
        dict(object_mIoU=25.0, mIoU=100 * (5 / 7 + 0 + 0.5) / 3, class_acc=100 * (5 / 6 + 1 / 2) / 2,
             global_acc=100 * 6 / 8, frames=1))
    assert pa_quality(str(tmp_path / 'pa'), infos[2:]) is None


# ------------------------------------------------------------------------------------------------- config
def test_yto_segmenter_config_is_a_small_diff_of_the_a2d_one():
    cfg, a2d = Config.fromfile(osp.join(REPO, YTO_SEGMENTER)), Config.fromfile(osp.join(REPO, A2D_SEGMENTER))
    assert cfg.model.decode_head.num_classes == 11 == len(YTO_SEG_CLASSES)
    a2d.model.decode_head.num_classes = 11
    assert cfg.model == a2d.model
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'default_hooks', 'custom_hooks', 'val_evaluator'):
        assert cfg[key] == a2d[key], key
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    for spec, part in ((train, 'train'), (val, 'val')):
        assert (spec.type, spec.data_root, spec.split, spec.pa_dir) == (
            'YouTubeObjectsPseudoFrameDataset', 'data/YouTube-Objects', 'all', 'ws2/pa_v0')
        assert spec.video_list == dict(every=10, part=part)
    assert train.pipeline == a2d.train_dataloader.dataset.pipeline and train.selection is None
    assert [t.type for t in val.pipeline] == [t.type for t in a2d.val_dataloader.dataset.pipeline]
    assert val.pipeline[1].cache_dir == 'data/YouTube-Objects/ws2/superpixels'
    assert cfg.test_dataloader.dataset.type == 'YouTubeObjectsFrameDataset'
    assert cfg.test_evaluator == dict(type='ObjectIoUMetric')
    # the kind of data picks the test scores: A2D with and without alignment, YouTube-Objects the object IoU
    predictions = {'v': [(1, np.zeros((2, 2), np.int64), np.zeros((2, 2), np.int64))]}
    assert set(ws2_test_scores(cfg, predictions)) == {'test'}
    assert set(ws2_test_scores(cfg, predictions)['test']) == {'object_mIoU', 'mIoU', 'class_acc', 'global_acc'}
    assert set(ws2_test_scores(a2d, predictions)) == {'test', 'test_aligned'}


# ------------------------------------------------------------------------------------------ end to end, slow
# cost only: 1 epoch of batch 2 at 112 px, no worker processes, no ImageNet download; the PA frames of the 3 test
# shots (make_pa.py --split test, 2 frames each; every 3rd is val: 2 train shots, 1 val shot)
SEGMENTER_OPTIONS = ['model.pretrained=None', 'train_cfg.max_epochs=1', 'param_scheduler.0.end=1',
                     'train_dataloader.batch_size=2', 'train_dataloader.dataset.pipeline.2.crop_size=(112,112)',
                     'model.data_preprocessor.size=(112,112)', 'train_dataloader.dataset.split=test',
                     'val_dataloader.dataset.split=test', 'train_dataloader.dataset.video_list.every=3',
                     'val_dataloader.dataset.video_list.every=3',
                     *[f'{loader}_dataloader.{option}' for loader in ('train', 'val', 'test')
                       for option in ('num_workers=0', 'persistent_workers=False')]]


@pytest.mark.slow
def test_ws2_evolve_and_predict_on_the_yto_miniature(workspace, trained_classifier, monkeypatch,  # noqa: F811
                                                     one_torch_thread):
    """README: PA.v0 from the class classifier alone (``make_pa.py``), then ``evolve.py`` with the YTO segmenter
    config and the selection (threshold 0: a frame is selected iff its PA is not empty, see
    tests/test_real_configs_ws2.py), two versions: v0 selected, trained, scored (val RIC, PA quality on the masked
    frames, Table 5's object mIoU on the test frames), PA.v1 predicted over background and the shot's tag; then
    ``predict.py`` and the stock ``tools/test.py`` with v0's best checkpoint give the same test scores."""
    monkeypatch.chdir(workspace)
    pa_v0 = osp.join(workspace, 'data', 'YouTube-Objects', 'ws2', 'pa_v0')
    _tool('ws2/make_pa').main([osp.join(REPO, YTO_ACTOR), trained_classifier, '--out-dir', pa_v0,
                               '--frames-per-video', '2', '--device', 'cpu', '--split', 'test'])
    work_dir = osp.join(workspace, 'work_dirs', 'ws2_yto')
    log = run_tool([osp.join(REPO, 'tools', 'ws2', 'evolve.py'), osp.join(REPO, YTO_SEGMENTER), '--pa-v0', 'ws2/pa_v0',
                    '--work-dir', work_dir, '--actor-config', osp.join(REPO, YTO_ACTOR), '--actor-checkpoint',
                    trained_classifier, '--max-versions', '2', '--cfg-options', *SEGMENTER_OPTIONS,
                    'ws2_select.epochs=1', 'ws2_select.patch_size=32', 'ws2_select.actor_patch_size=112',
                    'ws2_select.threshold=0'], env_extra=ENV, cwd=str(workspace))
    with open(osp.join(work_dir, 'ws2_state.json')) as f:
        state = json.load(f)
    v0 = state['versions'][0]
    assert v0['done'] == ['select', 'train', 'score', 'predict'], log[-3000:]
    assert osp.realpath(v0['pa_dir']) == osp.realpath(pa_v0) and v0['frames'] == 4  # 2 train shots x 2 PA frames
    # threshold 0: exactly the non-empty PA.v0 frames of the train shots are selected
    train_shots = ('aeroplane_0002_001', 'car_0001_004')
    non_empty = [f'{s}/{f[:-4]}' for s in train_shots for f in sorted(os.listdir(osp.join(pa_v0, s)))
                 if load_label_png(osp.join(pa_v0, s, f)).any()]
    with open(v0['selection']) as f:
        assert f.read().split() == non_empty and v0['selected'] == len(non_empty) >= 1
    assert set(v0['scores']) == {'RIC', 'mIoU_PA', 'RII'}
    assert v0['scores']['RIC'] == pytest.approx(v0['scores']['mIoU_PA'] + 0.5 * v0['scores']['RII'])
    # PA quality on the masked PA frames: frame 1 of each test shot and frame 11 of the 21- and 20-frame ones
    assert v0['pa_quality']['frames'] == 4 and 0 <= v0['pa_quality']['object_mIoU'] <= 100
    assert set(v0['test']) == {'object_mIoU', 'mIoU', 'class_acc', 'global_acc'} and 'test_aligned' not in v0
    assert 0 <= v0['test']['object_mIoU'] <= 100
    # PA.v1: every PA.v0 frame of the train and val shots, background or the shot's tag + 1 only (tags_only)
    pa_v1 = osp.join(work_dir, 'pa_v1')
    tags = {'aeroplane_0002_001': 1, 'car_0001_004': 4, 'dog_0004_001': 7}
    assert {s: sorted(os.listdir(osp.join(pa_v1, s))) for s in tags} == \
        {s: sorted(os.listdir(osp.join(pa_v0, s))) for s in tags}
    for shot, tag in tags.items():
        for name in os.listdir(osp.join(pa_v1, shot)):
            label = load_label_png(osp.join(pa_v1, shot, name))
            assert label.shape == (120, 160) and set(np.unique(label).tolist()) <= {0, tag}
    v1 = state['versions'][1]
    assert v1['done'][0] == 'select' and state['stop'] and state['final_version'] in (0, 1)
    assert ('v1 test' in log) == ('train' in v1['done'])
    # README: predict.py with a version's best checkpoint scores the masked test frames as evolve did
    out_dir = osp.join(work_dir, 'test_v0')
    log = run_tool([osp.join(REPO, 'tools', 'ws2', 'predict.py'), osp.join(REPO, YTO_SEGMENTER), v0['checkpoint'],
                    '--out-dir', out_dir, '--cfg-options', *SEGMENTER_OPTIONS], env_extra=ENV, cwd=str(workspace))
    with open(osp.join(out_dir, 'scores.json')) as f:
        scores = json.load(f)
    assert scores['frames'] == 7 and scores['test'] == pytest.approx(v0['test'])
    assert sorted(os.listdir(osp.join(out_dir, 'dog_0004_001'))) == ['00001.png', '00011.png']
    # and the stock tools/test.py with the config's test evaluator (ObjectIoUMetric) gives the same figure
    log = run_tool([osp.join(REPO, 'tools', 'test.py'), osp.join(REPO, YTO_SEGMENTER), v0['checkpoint'],
                    '--cfg-options', *SEGMENTER_OPTIONS], env_extra=ENV, cwd=str(workspace))
    found = re.search(r'Epoch\(test\) \[7/7\].*object_mIoU: ([\d.]+)', log)
    assert found and float(found.group(1)) == pytest.approx(v0['test']['object_mIoU'], abs=1e-3), log[-2000:]
