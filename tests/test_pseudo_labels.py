"""Pseudo-label formats: PNG and COCO JSON round trips, atomic writes, loading by stock mmseg / mmdet datasets."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import DefaultScope

import wsseg_mm  # noqa: F401
from wsseg_mm.datasets.converters import voc_instances_to_coco
from wsseg_mm.fileio.labels import (
    CocoInstanceWriter,
    atomic_write_bytes,
    decode_mask,
    encode_mask,
    load_coco_instances,
    load_label_png,
    save_label_png,
)
from wsseg_mm.metainfo import TOY_CLASSES


def test_label_png_round_trip_keeps_ignore(tmp_path):
    label = np.array([[0, 1, 255], [20, 3, 0]], np.uint8)
    path = str(tmp_path / 'sub' / 'x.png')
    save_label_png(path, label)
    np.testing.assert_array_equal(load_label_png(path), label)
    assert os.listdir(tmp_path / 'sub') == ['x.png']  # no temporary file left behind
    with pytest.raises(ValueError):
        save_label_png(path, label.astype(np.int32))


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = str(tmp_path / 'a.bin')
    atomic_write_bytes(path, b'old')

    with pytest.raises(TypeError):
        atomic_write_bytes(path, object())  # fails mid-write
    assert open(path, 'rb').read() == b'old' and os.listdir(tmp_path) == ['a.bin']


def test_rle_round_trip_both_count_forms():
    rng = np.random.default_rng(0)
    mask = rng.random((7, 9)) > 0.5
    np.testing.assert_array_equal(decode_mask(encode_mask(mask)), mask)
    json_rle = json.loads(json.dumps(encode_mask(mask)))
    np.testing.assert_array_equal(decode_mask(json_rle), mask)


def test_coco_writer_round_trip_and_bbox(tmp_path):
    writer = CocoInstanceWriter(['cat', 'dog'])
    image_id = writer.add_image('a.jpg', 4, 5)
    mask = np.zeros((4, 5), bool)
    mask[1:3, 2:5] = True
    ignore = np.zeros((4, 5), bool)
    ignore[0, 2:5] = True
    writer.add_instance(image_id, mask, 2, score=0.7, ignore=ignore)
    writer.add_instance(image_id, np.zeros((4, 5), bool), 1)  # empty masks are not written
    with pytest.raises(ValueError):
        writer.add_instance(image_id, mask, 3)
    path = str(tmp_path / 'ins.json')
    writer.dump(path)
    coco = json.load(open(path))
    assert coco['annotations'][0]['bbox'] == [2.0, 1.0, 3.0, 2.0] and coco['annotations'][0]['area'] == 6
    loaded = load_coco_instances(path)['a.jpg']
    assert len(loaded) == 1 and loaded[0]['category_id'] == 2 and loaded[0]['score'] == 0.7
    np.testing.assert_array_equal(loaded[0]['mask'], mask)
    np.testing.assert_array_equal(loaded[0]['ignore'], ignore)


@pytest.fixture(scope='module')
def toy_voc(tmp_path_factory):
    from wsseg_mm.toy import generate_toy_benchmark
    root = str(tmp_path_factory.mktemp('toy'))
    generate_toy_benchmark(root, seed=3, image_size=48, num_train=3, num_val=2, videos=False, progress=False)
    return osp.join(root, 'VOCdevkit', 'VOC2012')


def test_voc_instances_to_coco_matches_masks(toy_voc, tmp_path):
    writer = voc_instances_to_coco(toy_voc, 'train', TOY_CLASSES, progress=False)
    path = str(tmp_path / 'gt.json')
    writer.dump(path)
    loaded = load_coco_instances(path)
    for name, instances in loaded.items():
        objects = load_label_png(osp.join(toy_voc, 'SegmentationObject', name.replace('.jpg', '.png')))
        semantic = load_label_png(osp.join(toy_voc, 'SegmentationClass', name.replace('.jpg', '.png')))
        assert len(instances) == len(set(np.unique(objects)) - {0, 255})
        for inst in instances:
            assert (semantic[inst['mask']] == inst['category_id']).all()
            assert not (inst['mask'] & (objects == 255)).any()


def test_stock_datasets_load_pseudo_labels(toy_voc, tmp_path):
    from mmdet.datasets import CocoDataset
    from mmseg.datasets import BaseSegDataset
    sem_dir = tmp_path / 'sem'
    label = np.full((48, 48), 255, np.uint8)
    label[10:20, 10:20] = 2
    save_label_png(str(sem_dir / 'toy_000000.png'), label)
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = BaseSegDataset(data_root=toy_voc, data_prefix=dict(img_path='JPEGImages', seg_map_path=str(sem_dir)),
                            img_suffix='.jpg', seg_map_suffix='.png', metainfo=dict(classes=TOY_CLASSES),
                            pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                      dict(type='PackSegInputs')])
        gt = [ds[i] for i in range(len(ds)) if 'toy_000000' in ds.get_data_info(i)['img_path']][0]
    np.testing.assert_array_equal(gt['data_samples'].gt_sem_seg.data[0].numpy(), label)

    ins_path = str(tmp_path / 'ins.json')
    voc_instances_to_coco(toy_voc, 'train', TOY_CLASSES, progress=False).dump(ins_path)
    with DefaultScope.overwrite_default_scope('mmdet'):
        ds = CocoDataset(data_root=toy_voc, ann_file=ins_path, data_prefix=dict(img='JPEGImages/'),
                         metainfo=dict(classes=TOY_CLASSES[1:]),
                         pipeline=[dict(type='LoadImageFromFile'),
                                   dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                                   dict(type='PackDetInputs')])
        sample = ds[0]['data_samples']
    assert len(sample.gt_instances) > 0 and sample.gt_instances.masks.masks.shape[1:] == (48, 48)
