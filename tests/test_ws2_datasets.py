"""WS^2 data: single-label A2D videos and the train / val video split, the frames of a PA version, SLIC superpixels
through the mmseg pipeline, and their packing as ``gt_superpixels``."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmseg.registry import TRANSFORMS
from PIL import Image

from wsseg_mm.datasets import A2DFrameDataset, A2DPseudoFrameDataset, A2DVideoDataset, a2d_frame_id, select_videos
from wsseg_mm.datasets.transforms import LoadSuperpixels, PackWeakSegInputs
from wsseg_mm.fileio.labels import save_label_png
from wsseg_mm.functional.superpixel import slic_superpixels
from wsseg_mm.toy import write_a2d_mat

from conftest import REPO, run_tool

H, W = 24, 32
# video id -> (usage, {annotated frame: A2D ids}); 6 frames each. Actors / actions (1-based ids: actor*10+action):
#   v0 adult-walking                       one actor, one action
#   v1 adult-walking, dog-running          two actors, two actions
#   v2 dog-running (1), dog-jumping (5)    one actor (over frames), two actions
#   v3 ball-rolling, car-rolling           two actors, one action
#   v4 (no annotated object)               skipped
#   v5 cat-eating                          one actor, one action
#   t0 bird-flying (test)                  one actor, one action
VIDEOS = {'v0': (0, {1: [18]}), 'v1': (0, {1: [18, 77]}), 'v2': (0, {1: [77], 5: [75]}), 'v3': (0, {3: [36, 56]}),
          'v4': (0, {}), 'v5': (0, {2: [63]}), 't0': (1, {1: [44]})}
NUM_FRAMES = 6


@pytest.fixture(scope='module')
def a2d(tmp_path_factory):
    """A2D ``Release`` layout of VIDEOS with random 24x32 frames and one square object per instance."""
    root = tmp_path_factory.mktemp('ws2_a2d') / 'Release'
    rng = np.random.default_rng(0)
    rows = []
    for vid, (usage, anns) in VIDEOS.items():
        os.makedirs(root / 'pngs320H' / vid)
        for t in range(1, NUM_FRAMES + 1):
            image = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
            Image.fromarray(image).save(root / 'pngs320H' / vid / f'{t:05d}.png')
        os.makedirs(root / 'Annotations' / 'mat' / vid)
        for t, ids in anns.items():
            masks = np.zeros((len(ids), H, W), bool)
            for k in range(len(ids)):
                masks[k, 2 + 8 * k:8 + 8 * k, 3:9] = True
            write_a2d_mat(str(root / 'Annotations' / 'mat' / vid / f'{t:05d}.mat'), masks, ids)
        rows.append(f'{vid},{(list(anns.values()) or [[11]])[0][0]},0,1,{H},{W},{NUM_FRAMES},{len(anns)},{usage}')
    (root / 'videoset.csv').write_text('\n'.join(rows) + '\n')
    return str(root)


def _ids(dataset):
    return [dataset.get_data_info(i)['video_id'] for i in range(len(dataset))]


def _labels(dataset):
    return [dataset.get_data_info(i)['label'] for i in range(len(dataset))]


# ----------------------------------------------------------------------------------------------- A2DVideoDataset
def test_single_label_keeps_videos_with_one_class(a2d):
    with pytest.warns(UserWarning, match='skipped 1 of 6 train videos'):
        actors = A2DVideoDataset(data_root=a2d, split='train', label_type='actor', single_label=True, pipeline=[])
    # one actor: v0 (adult), v2 (dog), v5 (cat); v1 and v3 show two actors
    assert _ids(actors) == ['v0', 'v2', 'v5'] and _labels(actors) == [0, 6, 5]
    assert actors.num_multi_label == 2 and actors.num_skipped == 1 and not actors.multi_class
    with pytest.warns(UserWarning):
        actions = A2DVideoDataset(data_root=a2d, split='train', label_type='action', single_label=True, pipeline=[])
    # one action: v0 (walking), v3 (rolling), v5 (eating); v1, v2 show two
    assert _ids(actions) == ['v0', 'v3', 'v5'] and _labels(actions) == [7, 5, 2]
    test = A2DVideoDataset(data_root=a2d, split='test', label_type='actor', single_label=True, pipeline=[])
    assert _labels(test) == [3]  # bird


def test_single_label_packs_an_index_for_cross_entropy(a2d):
    pipeline = [dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=2, test_mode=True),
                dict(type='RawFrameDecode'), dict(type='FormatShape', input_format='NCHW'),
                dict(type='PackActionInputs')]
    with pytest.warns(UserWarning):
        dataset = A2DVideoDataset(data_root=a2d, split='train', label_type='actor', single_label=True,
                                  pipeline=pipeline)
    sample = dataset[1]
    assert sample['inputs'].shape == (2, 3, H, W)
    assert sample['data_samples'].gt_label.tolist() == [6]  # dog, not a multi-hot vector
    with pytest.warns(UserWarning):
        multi = A2DVideoDataset(data_root=a2d, split='train', label_type='actor', pipeline=[])
    assert multi.get_data_info(1)['label'].tolist() == [1, 0, 0, 0, 0, 0, 1]  # v1: adult + dog, multi-hot


def test_single_label_errors(a2d):
    with pytest.raises(ValueError, match="single_label needs label_type='actor' or 'action'"):
        A2DVideoDataset(data_root=a2d, label_type='both', single_label=True, pipeline=[])
    with pytest.raises(ValueError, match=r'no video left .* 2 with several actors'):
        A2DVideoDataset(data_root=a2d, split='train', label_type='actor', single_label=True,
                        video_list=['v1', 'v3'], pipeline=[])


def test_video_list_file_ids_and_regular_split(a2d, tmp_path):
    (tmp_path / 'val.txt').write_text('v5\nv0\n\n')
    from_file = A2DVideoDataset(data_root=a2d, split='train', video_list=str(tmp_path / 'val.txt'), pipeline=[])
    assert _ids(from_file) == ['v0', 'v5']  # videoset.csv order
    from_ids = A2DVideoDataset(data_root=a2d, split='train', video_list=('v2', ), pipeline=[])
    assert _ids(from_ids) == ['v2']
    # every 3rd of the 6 train videos is val: positions 2 and 5 (v2, v5), whatever the label type filters later
    videos = [dict(video_id=f'v{i}') for i in range(6)]
    assert [v['video_id'] for v in select_videos(videos, dict(every=3, part='val'))] == ['v2', 'v5']
    assert [v['video_id'] for v in select_videos(videos, dict(every=3, part='train'))] == ['v0', 'v1', 'v3', 'v4']
    val = A2DVideoDataset(data_root=a2d, split='train', label_type='actor', single_label=True,
                          video_list=dict(every=3, part='val'), pipeline=[])
    assert _ids(val) == ['v2', 'v5']
    with pytest.warns(UserWarning, match='skipped 1 of 4'):
        train = A2DVideoDataset(data_root=a2d, split='train', video_list=dict(every=3, part='train'), pipeline=[])
    assert _ids(train) == ['v0', 'v1', 'v3']
    # a relative list file is read under data_root, as mmengine's ann_file
    with pytest.raises(FileNotFoundError, match=osp.join(a2d, 'lists', 'val.txt')):
        A2DVideoDataset(data_root=a2d, video_list='lists/val.txt', pipeline=[])


def test_video_list_errors(a2d):
    with pytest.raises(ValueError, match=r'1 listed videos are not in this split .* t0'):
        A2DVideoDataset(data_root=a2d, split='train', video_list=['v0', 't0'], pipeline=[])
    for bad in (dict(every=1, part='val'), dict(every=10, part='test'), dict(every=10)):
        with pytest.raises(ValueError, match=r"dict\(every=N, part='val' \| 'train'\)"):
            select_videos([], bad)


@pytest.mark.slow
def test_single_label_counts_on_the_default_toy(tmp_path):
    """The issue's counts for the 60 default toy train clips: 47 show one actor, 51 one action."""
    run_tool([osp.join(REPO, 'tools', 'make_toy_data.py'), '--out', tmp_path, '--no-images'],
             env_extra=dict(OMP_NUM_THREADS='1'))
    root = str(tmp_path / 'A2D' / 'Release')
    counts = {label_type: len(A2DVideoDataset(data_root=root, label_type=label_type, single_label=True, pipeline=[]))
              for label_type in ('actor', 'action')}
    assert counts == dict(actor=47, action=51)
    val = A2DVideoDataset(data_root=root, video_list=dict(every=10, part='val'), pipeline=[])
    assert _ids(val) == [f'toyv_{i:05d}' for i in range(9, 60, 10)]


# ----------------------------------------------------------------------------------------- A2DPseudoFrameDataset
# PA labels of frames 1 and 4 of v0, frame 2 of v5 and frame 1 of t0 (test): class k fills row block k, 255 a band
PA_FRAMES = {('v0', 1): 1, ('v0', 4): 2, ('v5', 2): 30, ('t0', 1): 12}


def _pa_label(cls):
    label = np.zeros((H, W), np.uint8)
    label[4:12, 5:20] = cls
    label[20:, :] = 255
    return label


@pytest.fixture(scope='module')
def pa_dir(a2d):
    for (vid, t), cls in PA_FRAMES.items():
        save_label_png(osp.join(a2d, 'ws2', 'pa_v0', vid, f'{t:05d}.png'), _pa_label(cls))
    return 'ws2/pa_v0'


PA_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackWeakSegInputs')]


def test_pseudo_frame_dataset_loads_the_pa_pngs(a2d, pa_dir):
    dataset = A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, split='train', pipeline=PA_PIPELINE)
    assert len(dataset) == 3 and len(dataset.metainfo['classes']) == 44
    infos = [dataset.get_data_info(i) for i in range(3)]
    assert [i['frame_id'] for i in infos] == ['v0/00001', 'v0/00004', 'v5/00002']
    assert infos[0]['img_path'] == osp.join(a2d, 'pngs320H', 'v0', '00001.png')
    # ground truth exists for v0 frame 1 and v5 frame 2, not for v0 frame 4
    assert [i['a2d_mat_path'] is not None for i in infos] == [True, False, True]
    sample = dataset[2]
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, _pa_label(30))
    assert sample['inputs'].shape == (3, H, W)
    meta = sample['data_samples'].metainfo
    assert meta['frame_id'] == 'v5/00002' and meta['video_id'] == 'v5' and meta['frame_index'] == 2
    test = A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, split='test', pipeline=[])
    assert [test.get_data_info(i)['frame_id'] for i in range(len(test))] == ['t0/00001']
    val = A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, video_list=dict(every=3, part='val'), pipeline=[])
    assert [val.get_data_info(i)['frame_id'] for i in range(len(val))] == ['v5/00002']


def test_pseudo_frame_dataset_selection(a2d, pa_dir, tmp_path):
    selected = A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, selection=['v5/00002', 'v0/00001'], pipeline=[])
    assert [selected.get_data_info(i)['frame_id'] for i in range(len(selected))] == ['v0/00001', 'v5/00002']
    (tmp_path / 'selected.txt').write_text(a2d_frame_id('v0', 4) + '\n')
    from_file = A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, selection=str(tmp_path / 'selected.txt'),
                                      pipeline=[])
    assert len(from_file) == 1 and from_file.get_data_info(0)['frame_index'] == 4
    with pytest.raises(ValueError, match=r'1 selected frames have no PA label .* v0/00002'):
        A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, selection=['v0/00001', 'v0/00002'], pipeline=[])
    with pytest.raises(ValueError, match='no frame of the 6 train videos'):
        A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, selection=[], pipeline=[])


def test_pseudo_frame_dataset_errors(a2d, tmp_path):
    with pytest.raises(FileNotFoundError, match='pa_dir'):
        A2DPseudoFrameDataset(data_root=a2d, pa_dir='ws2/missing', pipeline=[])
    save_label_png(str(tmp_path / 'pa' / 'v0' / '00009.png'), _pa_label(1))  # the clip has 6 frames
    with pytest.raises(FileNotFoundError, match=r'00009.png labels frame .* which does not exist'):
        A2DPseudoFrameDataset(data_root=a2d, pa_dir=str(tmp_path / 'pa'), pipeline=[])


# ------------------------------------------------------------------------------------------------- superpixels
@pytest.fixture(scope='module')
def frame(tmp_path_factory):
    """A 40x56 frame of four flat colour quadrants plus mild noise, saved as PNG."""
    rng = np.random.default_rng(3)
    image = np.zeros((40, 56, 3), np.uint8)
    image[:20, :28] = (200, 30, 30)
    image[:20, 28:] = (30, 200, 30)
    image[20:, :28] = (30, 30, 200)
    image[20:, 28:] = (220, 220, 40)
    image = np.clip(image.astype(int) + rng.integers(-10, 11, image.shape), 0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp('frame') / 'f_0001.png'
    Image.fromarray(image).save(path)
    return str(path)


def _run(pipeline, path, **extra):
    with DefaultScope.overwrite_default_scope('mmseg'):
        results = dict(img_path=path, seg_fields=[], **extra)
        for transform in pipeline:
            results = TRANSFORMS.build(transform)(results) if isinstance(transform, dict) else transform(results)
    return results


def test_load_superpixels_is_slic_of_the_rgb_frame(frame):
    first = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels')], frame)
    again = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels')], frame)
    superpixels = first['superpixels']
    assert superpixels.dtype == np.int32 and superpixels.shape == (40, 56) and 'superpixels' in first['seg_fields']
    np.testing.assert_array_equal(superpixels, again['superpixels'])  # deterministic
    rgb = np.asarray(Image.open(frame).convert('RGB'))
    np.testing.assert_array_equal(superpixels, slic_superpixels(rgb))
    assert superpixels.min() == 0 and len(np.unique(superpixels)) == superpixels.max() + 1
    # no superpixel crosses the colour quadrants' borders
    for quadrant in (superpixels[:20, :28], superpixels[:20, 28:], superpixels[20:, :28], superpixels[20:, 28:]):
        others = np.setdiff1d(superpixels, quadrant)
        assert not np.isin(quadrant, others).any()
    coarse = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels', n_segments=4)], frame)
    assert len(np.unique(coarse['superpixels'])) < len(np.unique(superpixels))


def test_superpixels_move_with_flip_resize_and_crop(frame):
    base = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels')], frame)['superpixels']
    flipped = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels'),
                    dict(type='RandomFlip', prob=1.0, direction='horizontal')], frame)
    np.testing.assert_array_equal(flipped['superpixels'], base[:, ::-1])
    resized = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels'),
                    dict(type='Resize', scale=(112, 80), keep_ratio=False)], frame)['superpixels']
    assert resized.shape == (80, 112)
    np.testing.assert_array_equal(resized, np.repeat(np.repeat(base, 2, axis=0), 2, axis=1))  # nearest, exact x2
    cropped = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels'),
                    dict(type='RandomCrop', crop_size=(16, 16))], frame)
    assert cropped['superpixels'].shape == cropped['img'].shape[:2] == (16, 16)


def test_load_superpixels_cache(frame, tmp_path):
    cache = tmp_path / 'cache'
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels', cache_dir=str(cache))]
    computed = _run(pipeline, frame, frame_id='vid/00001')['superpixels']
    cached = np.load(cache / 'vid' / '00001.npy')
    np.testing.assert_array_equal(cached, computed)
    # a cached file is read, not recomputed: .npy first, else a 16-bit PNG; the key falls back to the file stem
    np.save(cache / 'vid' / '00001.npy', np.full((40, 56), 7, np.int32))
    assert (_run(pipeline, frame, frame_id='vid/00001')['superpixels'] == 7).all()
    Image.fromarray(np.full((40, 56), 300, np.uint16)).save(cache / 'f_0001.png')
    from_png = _run(pipeline, frame)['superpixels']
    assert from_png.dtype == np.int32 and (from_png == 300).all()
    np.save(cache / 'vid' / '00002.npy', np.zeros((4, 4), np.int32))
    with pytest.raises(ValueError, match=r'00002.npy: cached superpixels of shape \(4, 4\), the image is \(40, 56\)'):
        _run(pipeline, frame, frame_id='vid/00002')
    with pytest.raises(ValueError, match='n_segments'):
        LoadSuperpixels(n_segments=0)


def test_pack_weak_seg_inputs_packs_gt_superpixels(frame):
    results = _run([dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels'),
                    dict(type='RandomFlip', prob=1.0)], frame, frame_id='vid/00001')
    expected = results['superpixels'].copy()
    sample = PackWeakSegInputs()(results)['data_samples']
    packed = sample.gt_superpixels.data
    assert packed.shape == (1, 40, 56) and packed.dtype == torch.int64
    np.testing.assert_array_equal(packed[0].numpy(), expected)
    assert sample.to_dict()['gt_superpixels']['data'].shape == (1, 40, 56)  # what a metric's process() sees
    assert sample.metainfo['frame_id'] == 'vid/00001'
    without = PackWeakSegInputs()(_run([dict(type='LoadImageFromFile')], frame))['data_samples']
    assert 'gt_superpixels' not in without


def test_pseudo_frames_with_superpixels_through_the_pipeline(a2d, pa_dir, tmp_path):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels', n_segments=20,
                                                     cache_dir=str(tmp_path / 'sp')),
                dict(type='LoadAnnotations'), dict(type='RandomFlip', prob=1.0), dict(type='PackWeakSegInputs')]
    dataset = A2DPseudoFrameDataset(data_root=a2d, pa_dir=pa_dir, pipeline=pipeline)
    sample = dataset[0]['data_samples']
    assert sample.gt_superpixels.data.shape == sample.gt_sem_seg.data.shape == (1, H, W)
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(), _pa_label(1)[:, ::-1])
    assert osp.isfile(tmp_path / 'sp' / 'v0' / '00001.npy')


def test_ground_truth_frames_cache_superpixels_per_video(a2d, tmp_path):
    """Frame 00001 of v0 and of v1 share a file name: the cache is keyed by frame id, not by name."""
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadSuperpixels', n_segments=20,
                                                     cache_dir=str(tmp_path / 'sp')),
                dict(type='LoadA2DAnnotation'), dict(type='PackWeakSegInputs')]
    dataset = A2DFrameDataset(data_root=a2d, split='train', pipeline=pipeline)
    ids = [dataset.get_data_info(i)['frame_id'] for i in range(len(dataset))]
    assert ids == ['v0/00001', 'v1/00001', 'v2/00001', 'v2/00005', 'v3/00003', 'v5/00002']
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        assert sample.metainfo['frame_id'] == ids[i]
        cached = np.load(tmp_path / 'sp' / f'{ids[i]}.npy')
        np.testing.assert_array_equal(sample.gt_superpixels.data[0].numpy(), cached)
    assert sum(len(files) for _, _, files in os.walk(tmp_path / 'sp')) == len(ids)  # one file per frame

