"""The embedded toy benchmark generator: determinism, the VOC 2012 / ScribbleSup / A2D layouts and the content."""
import csv
import os
import os.path as osp
import xml.etree.ElementTree as ET

import cv2
import h5py
import numpy as np
import pytest
from PIL import Image

from wsseg_mm.metainfo import A2D_ACTIONS, A2D_PAIR_IDS, TOY_CLASSES, a2d_id_to_label
from wsseg_mm.toy import generate_a2d_videos, generate_toy_benchmark, render_toy_image, sample_rng, write_a2d_mat

SIZE = 64
SMALL = dict(image_size=SIZE, num_train=4, num_val=2, num_train_videos=1, num_test_videos=1, num_frames=8,
             progress=False)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """Two runs with seed 0 and one with seed 1 of the small benchmark: {name: out_dir}."""
    dirs = {}
    for name, seed in (('a', 0), ('b', 0), ('other', 1)):
        dirs[name] = str(tmp_path_factory.mktemp(f'toy_{name}'))
        generate_toy_benchmark(dirs[name], seed=seed, **SMALL)
    return dirs


def _voc(out_dir):
    return osp.join(out_dir, 'VOCdevkit', 'VOC2012')


def _a2d(out_dir):
    return osp.join(out_dir, 'A2D', 'Release')


def _files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _names(out_dir, split):
    with open(osp.join(_voc(out_dir), 'ImageSets', 'Segmentation', f'{split}.txt')) as f:
        return f.read().split()


def _palette_png(path):
    image = Image.open(path)
    assert image.mode == 'P'
    return np.array(image)


def test_deterministic(toy):
    files = _files(toy['a'])
    assert files == _files(toy['b'])
    for rel in files:
        assert _read(osp.join(toy['a'], rel)) == _read(osp.join(toy['b'], rel)), rel
    for rel in ('VOCdevkit/VOC2012/JPEGImages/toy_000000.jpg', 'A2D/Release/Annotations/mat/toyv_00000/00001.mat'):
        assert _read(osp.join(toy['a'], rel)) != _read(osp.join(toy['other'], rel))


def test_sample_independent_of_count(toy, tmp_path):
    generate_toy_benchmark(str(tmp_path), seed=0, **dict(SMALL, num_train=2, num_val=0, videos=False))
    rel = 'VOCdevkit/VOC2012/SegmentationObject/toy_000001.png'
    assert _read(osp.join(toy['a'], rel)) == _read(osp.join(str(tmp_path), rel))


def test_voc_layout(toy):
    root = _voc(toy['a'])
    train, val = _names(toy['a'], 'train'), _names(toy['a'], 'val')
    assert (len(train), len(val)) == (4, 2) and not set(train) & set(val)
    for split, names in (('train', train), ('val', val)):
        with open(osp.join(root, 'ImageSets', 'Main', f'{split}.txt')) as f:
            assert f.read().split() == names
    assert Image.open(osp.join(root, 'preview.jpg')).size[0] > 2 * SIZE
    for name in train + val:
        assert Image.open(osp.join(root, 'JPEGImages', f'{name}.jpg')).size == (SIZE, SIZE)
        semantic = _palette_png(osp.join(root, 'SegmentationClass', f'{name}.png'))
        instance = _palette_png(osp.join(root, 'SegmentationObject', f'{name}.png'))
        xml = ET.parse(osp.join(root, 'Annotations', f'{name}.xml')).getroot()
        assert xml.findtext('filename') == f'{name}.jpg'
        assert [int(xml.findtext(f'size/{k}')) for k in ('width', 'height', 'depth')] == [SIZE, SIZE, 3]
        objects = xml.findall('object')
        assert objects and instance[instance != 255].max() == len(objects)
        np.testing.assert_array_equal(semantic == 255, instance == 255)
        np.testing.assert_array_equal(semantic == 0, instance == 0)
        assert (semantic == 255).any()
        for k, obj in enumerate(objects, 1):
            x1, y1, x2, y2 = (int(obj.findtext(f'bndbox/{t}')) for t in ('xmin', 'ymin', 'xmax', 'ymax'))
            assert 1 <= x1 <= x2 <= SIZE and 1 <= y1 <= y2 <= SIZE
            ys, xs = np.nonzero(instance == k)
            assert len(xs) and x1 - 1 <= xs.min() and xs.max() <= x2 - 1 and y1 - 1 <= ys.min() and ys.max() <= y2 - 1
            assert set(semantic[instance == k].tolist()) == {TOY_CLASSES.index(obj.findtext('name'))}
            assert obj.findtext('pose') == 'Unspecified' and obj.findtext('difficult') == '0'
            assert obj.findtext('truncated') in ('0', '1') and obj.findtext('occluded') in ('0', '1')


def test_void_band_is_thin():
    """Every void pixel lies within 2 px of two differently labelled regions (a 1-2 px boundary band)."""
    instance = render_toy_image(sample_rng(0, 'train', 3), SIZE)['instance']
    kernel = np.ones((5, 5), np.uint8)
    near = sum(cv2.dilate((instance == v).astype(np.uint8), kernel) for v in np.unique(instance) if v != 255)
    band = instance == 255
    assert band.any() and (near[band] >= 2).all()


def test_scribbles(toy):
    root = _voc(toy['a'])
    for name in _names(toy['a'], 'train') + _names(toy['a'], 'val'):
        semantic = _palette_png(osp.join(root, 'SegmentationClass', f'{name}.png'))
        instance = _palette_png(osp.join(root, 'SegmentationObject', f'{name}.png'))
        xml = ET.parse(osp.join(root, 'ScribbleAnnotation', 'pascal_2012', f'{name}.xml')).getroot()
        assert xml.findtext('filename') == f'{name}.jpg' and xml.findtext('folder') == 'VOC2012'
        assert (int(xml.findtext('size/width')), int(xml.findtext('size/height'))) == (SIZE, SIZE)
        num_objects = len(ET.parse(osp.join(root, 'Annotations', f'{name}.xml')).getroot().findall('object'))
        tags = [p.findtext('tag') for p in xml.findall('polygon')]
        assert tags[:num_objects] == [TOY_CLASSES[semantic[instance == k][0]] for k in range(1, num_objects + 1)]
        assert 2 <= tags.count('background') <= 4 and len(tags) == num_objects + tags.count('background')
        scribbled = 0
        for k, polygon in enumerate(xml.findall('polygon'), 1):
            points = np.array([(int(p.findtext('X')), int(p.findtext('Y'))) for p in polygon.findall('point')])
            assert 5 <= len(points) <= 15
            if k <= num_objects:
                assert (instance[points[:, 1], points[:, 0]] == k).all()
                scribbled += len(points)
            else:
                assert (semantic[points[:, 1], points[:, 0]] == 0).all()
        assert scribbled < 0.25 * ((instance > 0) & (instance < 255)).sum()  # scribbles are sparse


def test_image_statistics():
    """Over a larger sample: touching same-class instances occur, all classes appear, some objects are occluded
    or truncated, and object sizes span the intended range."""
    touching, classes, flags, extents = 0, set(), set(), []
    for index in range(40):
        sample = render_toy_image(sample_rng(7, 'train', index), SIZE)
        touching += _has_touching_same_class(sample)
        for obj in sample['objects']:
            classes.add(obj['label'])
            flags.update(key for key in ('truncated', 'occluded') if obj[key])
            extents.append(max(obj['bbox'][2] - obj['bbox'][0], obj['bbox'][3] - obj['bbox'][1]) + 1)
    assert touching >= 4
    assert len(classes) >= 5 and flags == {'truncated', 'occluded'}
    assert 0.12 * SIZE < np.median(extents) < 0.5 * SIZE


def _has_touching_same_class(sample):
    """Two same-class instances 3 px apart or closer (the 2 px void band separates them on disk)."""
    instance, objects = sample['instance'], sample['objects']
    kernel = np.ones((7, 7), np.uint8)
    return any(a['label'] == b['label'] and
               (cv2.dilate((instance == a['instance_id']).astype(np.uint8), kernel).astype(bool)
                & (instance == b['instance_id'])).any()
               for i, a in enumerate(objects) for b in objects[i + 1:])


def test_a2d_layout(toy):
    root = _a2d(toy['a'])
    with open(osp.join(root, 'videoset.csv'), newline='') as f:
        rows = list(csv.reader(f))
    assert [len(r) for r in rows] == [9, 9]
    assert [r[0] for r in rows] == ['toyv_00000', 'toyv_00001'] and [r[-1] for r in rows] == ['0', '1']
    for video_id, label, start, end, height, width, num_frames, num_annotated, _ in rows:
        assert int(label) in A2D_PAIR_IDS and float(start) == 0 and float(end) == pytest.approx(8 / 24, abs=1e-3)
        assert (int(height), int(width), int(num_frames), int(num_annotated)) == (SIZE, SIZE, 8, 2)
        for frame in range(1, 9):
            assert Image.open(osp.join(root, 'pngs320H', video_id, f'{frame:05d}.png')).size == (SIZE, SIZE)
        mats = sorted(os.listdir(osp.join(root, 'Annotations', 'mat', video_id)))
        assert mats == ['00001.mat', '00005.mat']
        for mat in mats:
            path = osp.join(root, 'Annotations', 'mat', video_id, mat)
            masks, ids = _check_mat(path)
            colour = _palette_png(osp.join(root, 'Annotations', 'col', video_id, mat.replace('.mat', '.png')))
            expected = np.zeros((SIZE, SIZE), np.uint8)
            for mask, a2d_id in zip(masks, ids):
                expected[mask] = a2d_id_to_label(a2d_id)
            np.testing.assert_array_equal(colour, expected)
        assert int(label) == ids[0]


def _check_mat(path):
    """Read an A2D .mat as MATLAB lays it out; check header, shapes, boxes; return masks (N, H, W), ids (N,)."""
    assert _read(path)[:19] == b'MATLAB 7.3 MAT-file'
    with h5py.File(path, 'r') as f:
        stored, boxes, ids = f['reMask'][()], f['reBBox'][()], f['id'][()]
    assert stored.dtype == np.uint8 and boxes.dtype == ids.dtype == np.float64
    masks = (stored[None] if stored.ndim == 2 else stored).transpose(0, 2, 1).astype(bool)
    assert boxes.shape == (len(masks), 4) and ids.shape == (len(masks), 1)
    assert set(ids[:, 0].astype(int)) <= set(A2D_PAIR_IDS)
    assert not (masks.sum(0) > 1).any()
    for mask, (x1, y1, x2, y2) in zip(masks, boxes):
        ys, xs = np.nonzero(mask)
        assert (xs.min() + 1, ys.min() + 1, xs.max() + 1, ys.max() + 1) == (x1, y1, x2, y2)
    return masks, ids[:, 0].astype(int)


@pytest.mark.parametrize('num', [1, 3])
def test_write_a2d_mat_roundtrip(tmp_path, num):
    labels = np.arange(12 * 20).reshape(12, 20) % (num + 1)
    masks = np.stack([labels == k for k in range(1, num + 1)])
    ids = list(A2D_PAIR_IDS[:num])
    path = str(tmp_path / 'a.mat')
    write_a2d_mat(path, masks, ids)
    with h5py.File(path, 'r') as f:
        stored = f['reMask'][()]
        assert stored.shape == ((20, 12) if num == 1 else (num, 20, 12))
        np.testing.assert_array_equal((stored if num > 1 else stored[None]).transpose(0, 2, 1), masks)
        np.testing.assert_array_equal(f['id'][()], np.array(ids, np.float64).reshape(-1, 1))
    assert _check_mat(path)[1].tolist() == ids


def test_every_action_appears(tmp_path):
    summary = generate_a2d_videos(str(tmp_path), seed=3, image_size=32, num_train_videos=6, num_test_videos=0,
                                  num_frames=4, progress=False)
    actions = {A2D_ACTIONS[a2d_id % 10 - 1] for d, _, files in os.walk(_a2d(str(tmp_path)) + '/Annotations/mat')
               for f in files for a2d_id in _check_mat(osp.join(d, f))[1]}
    assert {'none', 'walking', 'running', 'jumping', 'rolling'} <= actions
    assert summary['num_train_videos'] == 6 and summary['num_annotated_frames'] == 6


def test_object_images(tmp_path):
    from wsseg_mm.datasets import VOCImageLabelDataset
    from wsseg_mm.toy import render_object_image
    sample = render_object_image(sample_rng(0, 'objects', 3), SIZE)
    assert sample['image'].shape == (SIZE, SIZE, 3) and len(sample['objects']) == 1
    label = sample['objects'][0]['label']
    assert 1 <= label < len(TOY_CLASSES) and set(np.unique(sample['semantic'])) == {0, label}
    x1, y1, x2, y2 = sample['objects'][0]['bbox']
    ys, xs = np.nonzero(sample['semantic'])
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (x1, y1, x2, y2)
    assert sample['semantic'].mean() > 0  # object-centred: radius 12-30% of the side
    summary = generate_toy_benchmark(str(tmp_path / 'a'), images=False, videos=False, num_object_images=12,
                                     image_size=SIZE, progress=False)
    generate_toy_benchmark(str(tmp_path / 'b'), images=False, videos=False, num_object_images=12, image_size=SIZE,
                           progress=False)
    root = tmp_path / 'a' / 'ToyObjects'
    assert _files(str(root)) == _files(str(tmp_path / 'b' / 'ToyObjects'))
    assert all(_read(str(root / f)) == _read(str(tmp_path / 'b' / 'ToyObjects' / f)) for f in _files(str(root)))
    assert summary['num_object_images'] == 12 and sum(summary['object_class_counts'].values()) == 12
    assert not (tmp_path / 'a' / 'VOCdevkit').exists()
    dataset = VOCImageLabelDataset(data_root=str(root), data_prefix=dict(img_path='JPEGImages'),
                                   ann_file='ImageSets/Main/train.txt', metainfo=dict(classes=TOY_CLASSES),
                                   pipeline=[])
    assert len(dataset) == 12 and all(len(dataset.get_data_info(i)['img_labels']) == 1 for i in range(12))
    first = render_object_image(sample_rng(0, 'objects', 0), SIZE)
    assert dataset.get_data_info(0)['img_labels'] == [first['objects'][0]['label']]


def test_object_images_of_the_video_shapes(tmp_path):
    """--object-classes videos (the WS^2 toy actor's pretraining): the seven shapes of the videos' actors, the
    hexagon included, named in the XML and read back by VOCImageLabelDataset; the default set is unchanged."""
    from wsseg_mm.datasets import VOCImageLabelDataset
    from wsseg_mm.metainfo import TOY_VIDEO_OBJECT_CLASSES
    from wsseg_mm.toy import render_object_image
    from wsseg_mm.toy.writers import generate_object_images
    assert TOY_VIDEO_OBJECT_CLASSES == TOY_CLASSES + ('hexagon', )
    default = render_object_image(sample_rng(0, 'objects', 5), SIZE)
    same = render_object_image(sample_rng(0, 'objects', 5), SIZE, TOY_CLASSES, (0.12, 0.3))
    assert np.array_equal(default['image'], same['image']) and default['objects'] == same['objects']
    summary = generate_object_images(str(tmp_path), num_images=40, image_size=SIZE, progress=False,
                                     object_classes='videos')
    assert list(summary['object_class_counts']) == list(TOY_VIDEO_OBJECT_CLASSES[1:])
    assert summary['object_class_counts']['hexagon'] > 0 and sum(summary['object_class_counts'].values()) == 40
    dataset = VOCImageLabelDataset(data_root=str(tmp_path / 'ToyObjects'), data_prefix=dict(img_path='JPEGImages'),
                                   ann_file='ImageSets/Main/train.txt',
                                   metainfo=dict(classes=TOY_VIDEO_OBJECT_CLASSES), pipeline=[])
    labels = [dataset.get_data_info(i)['img_labels'] for i in range(40)]
    assert sum(label == [len(TOY_VIDEO_OBJECT_CLASSES) - 1] for label in labels) == summary['object_class_counts'][
        'hexagon']
    # radius down to 8% of the side (the videos' smallest actors)
    areas = [(render_object_image(sample_rng(0, 'objects', i), SIZE, TOY_VIDEO_OBJECT_CLASSES,
                                  (0.08, 0.3))['semantic'] > 0).mean() for i in range(40)]
    assert min(areas) < 0.03
    with pytest.raises(ValueError, match='object_classes'):
        generate_object_images(str(tmp_path), num_images=1, object_classes='actors')
    # the command tools/ws2/run_toy.sh runs, on 8 images
    from conftest import REPO, run_tool
    out = run_tool([osp.join(REPO, 'tools', 'make_toy_data.py'), '--out', tmp_path / 'cli', '--no-images', '--no-video',
                    '--num-objects', '8', '--object-classes', 'videos', '--size', SIZE])
    assert 'object-centred pretraining images: 8' in out and 'hexagon' in out
    assert len((tmp_path / 'cli' / 'ToyObjects' / 'ImageSets' / 'Main' / 'train.txt').read_text().split()) == 8
