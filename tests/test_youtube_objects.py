"""YouTube-Objects (WS^2, Table 5): the shot and masked-frame datasets on the miniature of the real layout (exact
counts, labels, paths; masks read by hand, the > 15 threshold; clear errors), the class classifier config trained
and tested with the stock tools, and Stage 1 with actor maps only (``with_action=False``): by hand, on toy A2D clips
with a tiny random actor recognizer, and ``tools/ws2/make_pa.py`` on the miniature with the trained classifier."""
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import wsseg_mm  # noqa: F401  (registration, mmaction compat)
from wsseg_mm.apis import build_pa_dataset, generate_pa, pa_frame_labels, ws2_pa_settings
from wsseg_mm.apis.ws2 import tagged_actors
from wsseg_mm.datasets import YouTubeObjectsFrameDataset, YouTubeObjectsVideoDataset
from wsseg_mm.datasets.transforms import LoadBinaryMaskAnnotation
from wsseg_mm.fileio.labels import load_label_png
from wsseg_mm.fileio.youtube_objects import read_yto_mask, scan_youtube_objects
from wsseg_mm.functional.superpixel import slic_superpixels
from wsseg_mm.metainfo import A2D_ACTORS, YTO_CLASSES, YTO_SEG_CLASSES
from wsseg_mm.toy.miniature_yto import YTO_MINIATURE_SHOTS, generate_yto_miniature, render_yto_shot

from conftest import REPO

YTO_ACTOR = 'configs/ws2/tsn_r50-os16_100e_yto-actor.py'
TRAIN_SHOTS = [s for s in YTO_MINIATURE_SHOTS if not s[4]]
TEST_SHOTS = [s for s in YTO_MINIATURE_SHOTS if s[4]]


def shot_id(shot):
    return '_'.join(shot[:3])


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """A scratch folder whose ``data/YouTube-Objects`` is the miniature (seed 0), as the configs read it."""
    root = tmp_path_factory.mktemp('yto')
    summary = generate_yto_miniature(str(root / 'data'), seed=0)
    assert summary == dict(yto_train_shots=8, yto_test_shots=3, yto_frames=sum(s[3] for s in YTO_MINIATURE_SHOTS),
                           yto_masked_frames=3 + 2 + 2)  # every 10th frame: 21 -> 1, 11, 21; 20 / 12 -> 1, 11
    return root


@pytest.fixture(scope='module')
def data_root(workspace):
    return str(workspace / 'data' / 'YouTube-Objects')


# ------------------------------------------------------------------------------------------------------ datasets
def test_video_dataset_splits_labels_and_frames(data_root):
    pipeline = [dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
                dict(type='RawFrameDecode'), dict(type='FormatShape', input_format='NCHW'),
                dict(type='PackActionInputs')]
    for split, shots in (('train', TRAIN_SHOTS), ('test', TEST_SHOTS), ('all', YTO_MINIATURE_SHOTS)):
        dataset = YouTubeObjectsVideoDataset(data_root=data_root, pipeline=pipeline, split=split)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        # class by class in YTO_CLASSES order, then video and shot folders
        expected = sorted(shots, key=lambda s: (YTO_CLASSES.index(s[0]), s[1], s[2]))
        assert [i['video_id'] for i in infos] == [shot_id(s) for s in expected]
        assert [i['label'] for i in infos] == [YTO_CLASSES.index(s[0]) for s in expected]
        assert [i['total_frames'] for i in infos] == [s[3] for s in expected]
        assert all(i['start_index'] == 1 and i['filename_tmpl'] == 'frame{:04d}.jpg' for i in infos)
        assert all(i['actor_labels'] == [i['label']] for i in infos)
        assert [bool(i['masks']) for i in infos] == [s[4] for s in expected]
    info = infos[0]  # aeroplane 0001 001
    assert info['frame_dir'] == osp.join(data_root, 'v1', 'aeroplane', 'data', '0001', 'shots', '001')
    assert dataset.metainfo['classes'] == YTO_CLASSES and dataset.metainfo['actors'] == YTO_CLASSES
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 3, 120, 160) and sample['data_samples'].gt_label.item() == 0
    test = YouTubeObjectsVideoDataset(data_root=data_root, pipeline=[], split='test')
    assert test.get_data_info(0)['masks'] == [
        (f, osp.join(data_root, 'youtube_masks', 'aeroplane', 'data', '0002', 'shots', '001', 'labels', f'{f:05d}.jpg'))
        for f in (1, 11, 21)]
    # video_list restricts by shot id; a dict splits regularly
    some = YouTubeObjectsVideoDataset(data_root=data_root, pipeline=[], video_list=['dog_0002_001', 'car_0001_001'])
    assert [some.get_data_info(i)['video_id'] for i in range(len(some))] == ['car_0001_001', 'dog_0002_001']
    val = YouTubeObjectsVideoDataset(data_root=data_root, pipeline=[], video_list=dict(every=4, part='val'))
    assert [val.get_data_info(i)['video_id'] for i in range(len(val))] == ['bird_0003_002', 'dog_0002_002']
    with pytest.raises(ValueError, match='split must be one of'):
        YouTubeObjectsVideoDataset(data_root=data_root, pipeline=[], split='val')


def test_frame_dataset_reads_masks_as_the_shot_class(data_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadBinaryMaskAnnotation'),
                dict(type='PackWeakSegInputs')]
    dataset = YouTubeObjectsFrameDataset(data_root=data_root, pipeline=pipeline)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [(i['video_id'], i['frame_index']) for i in infos] == [
        ('aeroplane_0002_001', 1), ('aeroplane_0002_001', 11), ('aeroplane_0002_001', 21), ('car_0001_004', 1),
        ('car_0001_004', 11), ('dog_0004_001', 1), ('dog_0004_001', 11)]
    assert [i['mask_label'] for i in infos] == [1, 1, 1, 4, 4, 7, 7]  # aeroplane, car, dog + 1
    assert dataset.metainfo['classes'] == YTO_SEG_CLASSES and len(YTO_SEG_CLASSES) == 11
    info = infos[3]
    assert info['img_path'] == osp.join(data_root, 'v1', 'car', 'data', '0001', 'shots', '004', 'frame0001.jpg')
    assert info['seg_map_path'] == osp.join(data_root, 'youtube_masks', 'car', 'data', '0001', 'shots', '004',
                                            'labels', '00001.jpg')
    assert info['frame_id'] == 'car_0001_004/00001'
    for index in (0, 3, 6):
        sample = dataset[index]
        label = sample['data_samples'].gt_sem_seg.data[0].numpy()
        raw = cv2.imread(infos[index]['seg_map_path'], cv2.IMREAD_GRAYSCALE)  # by hand: > 15 is the object
        np.testing.assert_array_equal(label, np.where(raw > 15, infos[index]['mask_label'], 0))
        assert label.shape == (120, 160) and (label > 0).mean() > 0.01
        assert ((raw > 0) & (raw <= 15)).any()  # JPEG ringing the threshold removes


def test_mask_threshold_by_hand(tmp_path):
    grey = np.array([[0, 15, 16, 255], [3, 200, 14, 17]], np.uint8)
    path = str(tmp_path / '00001.jpg')
    cv2.imwrite(str(tmp_path / 'm.png'), grey)  # lossless content under the .jpg name: exact values
    os.rename(tmp_path / 'm.png', path)
    np.testing.assert_array_equal(read_yto_mask(path), [[False, False, True, True], [False, True, False, True]])
    out = LoadBinaryMaskAnnotation()(dict(seg_map_path=path, mask_label=4, img_shape=(2, 4)))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 0, 4, 4], [0, 4, 0, 4]])
    assert out['gt_seg_map'].dtype == np.uint8 and out['seg_fields'] == ['gt_seg_map']
    with pytest.raises(ValueError, match='00001.jpg is 2x4'):
        LoadBinaryMaskAnnotation()(dict(seg_map_path=path, mask_label=4, img_shape=(4, 4), img_path='f.jpg'))
    with pytest.raises(ValueError, match='mask_label'):
        LoadBinaryMaskAnnotation()(dict(seg_map_path=path, mask_label=0))


def _layout(root, shots):
    """A hand-made layout: ``shots`` = {(class, video, shot): (frames, masked frames)} of 8x8 images."""
    for (cls, video, shot), (frames, masked) in shots.items():
        folder = osp.join(root, 'v1', cls, 'data', video, 'shots', shot)
        os.makedirs(folder, exist_ok=True)
        for t in frames:
            cv2.imwrite(osp.join(folder, f'frame{t:04d}.jpg'), np.full((8, 8, 3), 90, np.uint8))
        labels = osp.join(root, 'youtube_masks', cls, 'data', video, 'shots', shot, 'labels')
        for t in masked:
            os.makedirs(labels, exist_ok=True)
            cv2.imwrite(osp.join(labels, f'{t:05d}.jpg'), np.full((8, 8), 255, np.uint8))
    return str(root)


def test_clear_errors(tmp_path, data_root):
    with pytest.raises(FileNotFoundError, match='no class folder'):
        scan_youtube_objects(str(tmp_path / 'nothing'))
    frameless = _layout(tmp_path / 'a', {('cat', '0001', '001'): ([1, 2], [1]), ('cat', '0001', '002'): ([], [])})
    with pytest.raises(ValueError, match=r'shot .*/v1/cat/data/0001/shots/002 has no frames'):
        YouTubeObjectsVideoDataset(data_root=frameless, pipeline=[])
    gap = _layout(tmp_path / 'b', {('cow', '0001', '001'): ([1, 2, 4], [])})
    with pytest.raises(ValueError, match=r'shots/001: .*frame0003.jpg is missing'):
        scan_youtube_objects(gap)
    orphan = _layout(tmp_path / 'c', {('cow', '0001', '001'): ([1], [])})
    _layout(tmp_path / 'c_masks', {('cow', '0002', '001'): ([], [1])})
    shutil.copytree(tmp_path / 'c_masks' / 'youtube_masks', tmp_path / 'c' / 'youtube_masks')
    with pytest.raises(ValueError, match=r'youtube_masks/cow/data/0002/shots/001/labels belong to no shot'):
        scan_youtube_objects(orphan)
    beyond = _layout(tmp_path / 'd', {('cow', '0001', '001'): ([1, 2], [11])})
    with pytest.raises(ValueError, match='00011.jpg is of frame 11, the shot'):
        scan_youtube_objects(beyond)
    unmasked = _layout(tmp_path / 'e', {('cow', '0001', '001'): ([1], [])})
    with pytest.raises(ValueError, match='no test shot'):
        YouTubeObjectsVideoDataset(data_root=unmasked, pipeline=[], split='test')
    with pytest.raises(ValueError, match='no masked frame'):
        YouTubeObjectsFrameDataset(data_root=unmasked, pipeline=[])
    # a corrupt mask: the error names the file (through the dataset's pipeline too)
    corrupt = _layout(tmp_path / 'f', {('horse', '0001', '001'): ([1, 2], [1])})
    mask = osp.join(corrupt, 'youtube_masks', 'horse', 'data', '0001', 'shots', '001', 'labels', '00001.jpg')
    with open(mask, 'wb') as f:
        f.write(b'not a jpeg')
    with pytest.raises(OSError, match=re.escape(f'cannot read the YouTube-Objects mask {mask}')):
        read_yto_mask(mask)
    frames = YouTubeObjectsFrameDataset(data_root=corrupt, pipeline=[dict(type='LoadImageFromFile'),
                                                                     dict(type='LoadBinaryMaskAnnotation')])
    with pytest.raises(OSError, match='00001.jpg'):
        frames[0]
    with pytest.raises(FileNotFoundError, match='mask not found'):
        read_yto_mask(mask + '.missing')


def test_miniature_is_deterministic():
    shots = [render_yto_shot(np.random.default_rng([0, 200, 0]), 'aeroplane', 4) for _ in range(2)]
    np.testing.assert_array_equal(shots[0]['frames'], shots[1]['frames'])
    assert shots[0]['frames'].shape == (4, 120, 160, 3) and shots[0]['masks'].shape == (4, 120, 160)
    assert all(m.any() for m in shots[0]['masks'])


# ------------------------------------------------------------------------------------ Stage 1, actor maps only
def quadrant_frame():
    """20x20 frame of four flat colours: SLIC with 4 segments gives the quadrants."""
    colours = np.array([[(200, 30, 30), (30, 200, 30)], [(30, 30, 200), (220, 220, 40)]], np.uint8)
    return np.repeat(np.repeat(colours, 10, axis=0), 10, axis=1)


def test_pa_frame_labels_actor_maps_only_by_hand():
    frame = quadrant_frame()
    superpixels = slic_superpixels(frame, 4, 10.0)
    assert len(np.unique(superpixels)) == 4
    # tagged: car (3) and dog (6); car's map on the top-left, dog's on the bottom-right, weakly on the top-left
    car, dog = np.zeros((20, 20)), np.zeros((20, 20))
    car[:8, :10] = 0.5  # 80 of the quadrant's 100 pixels; max 0.5 -> normalised 1.0: mean 0.8
    dog[10:18, 12:20] = 1.0  # 64 of the bottom-right quadrant
    dog[:8, :10] = 0.6  # normalised 0.6 on the top-left: mean 0.48 < car's 0.8
    pairs = tagged_actors([3, 6])
    assert pairs == [(0, None, 4), (1, None, 7)]
    settings = ws2_pa_settings(n_segments=4, compactness=10.0, with_action=False)
    out = pa_frame_labels(frame, np.stack([car, dog]), np.zeros((0, 20, 20)), pairs, settings)
    expected = np.zeros((20, 20), np.uint8)
    expected[:10, :10] = 4  # car + 1
    expected[10:, 10:] = 7  # dog + 1
    np.testing.assert_array_equal(out['labels'], expected)
    init = np.zeros((20, 20), bool)
    init[:8, :10] = init[10:18, 12:20] = True  # M_init = M_actor: Otsu of each map, their union
    np.testing.assert_array_equal(out['init'], init)
    assert out['action_masks'].shape == (0, 20, 20) and out['constant_action_maps'] == 0
    with pytest.raises(ValueError, match='with_action must be True or False'):
        ws2_pa_settings(with_action='no')
    with pytest.raises(ValueError, match='at least one tagged class'):
        tagged_actors([])


ACTOR_CONFIG = """_base_ = ['{repo}/configs/ws2/toy/tsn_r18-quarter-os8_60e_toy-actor.py']
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}'))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}'))
test_dataloader = val_dataloader
ws2_pa = dict(frames_per_video=4, n_segments=30, with_action=False)
"""


def random_actor(cfg, seed):
    """The tiny toy actor recognizer with PyTorch's random initial weights, in eval mode."""
    from mmaction.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg.model).eval()


def test_generate_pa_actor_maps_only_on_toy_a2d_clips(tmp_path, one_torch_thread):
    """with_action=False on the toy A2D clips (the tiny toy actor recognizer, random weights): PNGs hold only the
    video's tagged actors (+ 1) and background; resume; and the errors of a mismatched setting."""
    from wsseg_mm.toy import generate_a2d_videos
    generate_a2d_videos(str(tmp_path / 'toy'), seed=0, image_size=48, num_train_videos=3, num_test_videos=1,
                        progress=False)
    root = str(tmp_path / 'toy' / 'A2D' / 'Release')
    (tmp_path / 'actor.py').write_text(ACTOR_CONFIG.format(repo=REPO, root=root))
    cfg = Config.fromfile(str(tmp_path / 'actor.py'))
    actor = random_actor(cfg, 0)
    settings = ws2_pa_settings(cfg)
    assert settings['with_action'] is False
    dataset = build_pa_dataset(cfg, 'train')
    out_dir = str(tmp_path / 'pa')
    result = generate_pa(actor, None, dataset, out_dir, settings)
    assert result['counts']['done'] == 3 and result['summary']['frames'] == 12
    assert result['summary']['action_clips'] == 0 and result['summary']['constant_action_maps'] == 0
    foreground = 0
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        allowed = {0} | {a + 1 for a in info['actor_labels']}
        names = sorted(os.listdir(osp.join(out_dir, info['video_id'])))
        assert names == ['00001.png', '00005.png', '00009.png', '00013.png']
        for name in names:
            label = load_label_png(osp.join(out_dir, info['video_id'], name))
            assert label.shape == (48, 48) and set(np.unique(label).tolist()) <= allowed
            foreground += int(label.any())
    assert foreground == 12 - result['summary']['empty_frames'] and foreground > 0
    with open(osp.join(out_dir, 'manifest.json')) as f:
        assert json.load(f)['stages']['gradcam']['action'] is None
    assert generate_pa(actor, None, dataset, out_dir, settings)['counts']['done'] == 0  # resumes
    with pytest.raises(ValueError, match='with_action is False .* but an action recognizer was given'):
        generate_pa(actor, actor, dataset, out_dir, settings)
    with pytest.raises(ValueError, match='with_action is True but no action recognizer'):
        generate_pa(actor, None, dataset, out_dir, dict(settings, with_action=True))
    assert len(A2D_ACTORS) == actor.cls_head.num_classes


# --------------------------------------------------------------------- the YTO classifier config, stock tools
def _tool(name):
    """``tools/<name>.py`` as a module (its ``main(argv)`` is what the command line runs)."""
    spec = importlib.util.spec_from_file_location(f'yto_{name.replace("/", "_")}', osp.join(REPO, 'tools',
                                                                                           f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# cost only: no ImageNet download, 1 epoch of batch 4 (2 iterations on the 8 train shots), 2-3 segments at
# 112 px, no worker processes
def _workers(*loaders):
    return [f'{loader}_dataloader.{option}' for loader in loaders
            for option in ('num_workers=0', 'persistent_workers=False')]


OPTIONS = ['model.backbone.pretrained=None', 'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
           'train_dataloader.dataset.pipeline.0.num_clips=2', 'train_dataloader.dataset.pipeline.2.scale=(-1,112)',
           'train_dataloader.dataset.pipeline.3.input_size=112', 'train_dataloader.dataset.pipeline.4.scale=(112,112)',
           'val_dataloader.dataset.pipeline.0.num_clips=2', 'val_dataloader.dataset.pipeline.2.scale=(-1,112)',
           'val_dataloader.dataset.pipeline.3.crop_size=112', 'test_dataloader.dataset.pipeline.0.num_clips=2',
           'test_dataloader.dataset.pipeline.2.scale=(-1,112)', 'test_dataloader.dataset.pipeline.3.crop_size=112',
           *_workers('train', 'val', 'test')]


@pytest.fixture(scope='module')
def trained_classifier(workspace):
    """README: ``python tools/train.py configs/ws2/tsn_r50-os16_100e_yto-actor.py`` from the folder holding
    ``data/YouTube-Objects`` (the miniature), run in this process; returns its checkpoint."""
    cwd, threads = os.getcwd(), torch.get_num_threads()
    os.chdir(workspace)
    torch.set_num_threads(1)
    try:
        _tool('train').main([osp.join(REPO, YTO_ACTOR), '--cfg-options', *OPTIONS])
    finally:
        os.chdir(cwd)
        torch.set_num_threads(threads)
    work_dir = osp.join(workspace, 'work_dirs', 'tsn_r50-os16_100e_yto-actor')
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(logs[0]) as f:
        log = f.read()
    # 8 train shots in batches of 4; validation on the 3 test shots (one batch)
    assert re.search(r'Epoch\(train\)\s+\[1\]\[2/2\]', log), log[-2000:]
    assert re.search(r'Epoch\(val\) \[1\]\[1/1\]\s+acc/top1', log), log[-2000:]
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(checkpoint)
    return checkpoint


def test_yto_classifier_config(workspace, trained_classifier, monkeypatch, one_torch_thread):
    from mmengine.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO, YTO_ACTOR))
    a2d = Config.fromfile(osp.join(REPO, 'configs/ws2/tsn_r50-os16_100e_a2d-actor.py'))
    # a small diff of the A2D actor classifier: its model (ImageNet R-50 at OS16), recipe and pipelines
    assert cfg.model.cls_head.num_classes == 10 and cfg.ws2_pa == dict(with_action=False)
    assert cfg.model.backbone == a2d.model.backbone and cfg.model.backbone.pretrained.startswith('https://')
    assert cfg.optim_wrapper == a2d.optim_wrapper and cfg.train_cfg == a2d.train_cfg
    monkeypatch.chdir(workspace)
    for loader, split, shots in (('train', 'train', TRAIN_SHOTS), ('val', 'test', TEST_SHOTS),
                                 ('test', 'test', TEST_SHOTS)):
        spec = cfg[f'{loader}_dataloader'].dataset
        assert (spec.type, spec.data_root, spec.split) == ('YouTubeObjectsVideoDataset', 'data/YouTube-Objects', split)
        assert spec.pipeline == a2d[f'{loader}_dataloader'].dataset.pipeline
        with DefaultScope.overwrite_default_scope('mmaction'):
            dataset = DATASETS.build(spec)
        assert sorted(dataset.get_data_info(i)['video_id'] for i in range(len(dataset))) == \
            sorted(shot_id(s) for s in shots)
    # the trained checkpoint: the stock tools/test.py scores the 3 test shots
    metrics = _tool('test').main([osp.join(REPO, YTO_ACTOR), trained_classifier, '--cfg-options', *OPTIONS])
    assert 0 <= metrics['acc/top1'] <= 1


def test_make_pa_actor_maps_only_on_the_miniature(workspace, trained_classifier, monkeypatch, one_torch_thread):
    """README: ``tools/ws2/make_pa.py`` with the YTO classifier alone (its config sets ws2_pa.with_action=False):
    PNGs of the shots' frames hold only the shot's tag + 1 or background. Cost only: 2 frames per shot."""
    monkeypatch.chdir(workspace)
    make_pa = _tool('ws2/make_pa')
    out = str(workspace / 'pa_v0')
    make_pa.main([osp.join(REPO, YTO_ACTOR), trained_classifier, '--out-dir', out, '--frames-per-video', '2',
                  '--device', 'cpu', '--split', 'all'])
    with open(osp.join(out, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['videos'] == len(YTO_MINIATURE_SHOTS) and summary['frames'] == 2 * len(YTO_MINIATURE_SHOTS)
    for cls, video, shot, num_frames, _ in YTO_MINIATURE_SHOTS:
        folder = osp.join(out, f'{cls}_{video}_{shot}')
        assert sorted(os.listdir(folder)) == ['00001.png', f'{num_frames // 2 + 1:05d}.png']
        for name in os.listdir(folder):
            label = load_label_png(osp.join(folder, name))
            assert label.shape == (120, 160)
            assert set(np.unique(label).tolist()) <= {0, YTO_CLASSES.index(cls) + 1}
    # an action model where the config says actor maps only, and the reverse, are refused with the fix
    with pytest.raises(SystemExit):
        make_pa.parse_args([YTO_ACTOR, 'a.pth', 'b.py', 'b.pth', '--out-dir', out, '--no-action'])
    with pytest.raises(SystemExit, match='with_action is True .* give them, or pass --no-action'):
        make_pa.main([osp.join(REPO, 'configs/ws2/tsn_r50-os16_100e_a2d-actor.py'), trained_classifier,
                      '--out-dir', out])
