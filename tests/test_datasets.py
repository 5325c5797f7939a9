"""Every weak-label dataset on real-layout fixtures; bad input gives clear errors or counted warnings."""
import os.path as osp
import shutil

import numpy as np
import pytest
import torch

import wsseg_mm  # noqa: F401
from wsseg_mm.datasets import A2DFrameDataset, A2DVideoDataset, VOCImageLabelDataset, VOCScribbleDataset, WeakVOCDataset
from wsseg_mm.datasets.transforms import LoadScribbleAnnotation, rasterise_scribbles
from wsseg_mm.fileio.annotations import read_a2d_mat
from wsseg_mm.metainfo import A2D_PAIR_IDS

from conftest import write_scribble_xml


def label_dataset(voc_root, pipeline=(), **kwargs):
    return VOCImageLabelDataset(data_root=voc_root,
                                data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                                ann_file="ImageSets/Segmentation/train.txt", pipeline=list(pipeline), **kwargs)


@pytest.mark.parametrize('source', ['xml', 'seg'])
def test_image_labels_skip_empty_with_one_warning(voc_root, source):
    with pytest.warns(UserWarning, match='skipped 1 of 3 images with no valid object'):
        ds = label_dataset(voc_root, label_source=source)
    assert len(ds) == 2 and ds.num_skipped == 1
    assert [ds[i]['img_labels'] for i in range(2)] == [[8, 12], [15]]  # cat, dog / person


def test_image_labels_packed_as_multi_hot(voc_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackWeakSegInputs', num_classes=21)]
    with pytest.warns(UserWarning):
        ds = label_dataset(voc_root, pipeline=pipeline)
    sample = ds[0]['data_samples']
    expected = torch.zeros(21)
    expected[[8, 12]] = 1
    assert torch.equal(sample.gt_img_labels, expected)
    assert sample.metainfo['img_labels'] == [8, 12]
    assert ds[0]['inputs'].shape == (3, 20, 30)


def test_rasterise_scribbles_by_hand():
    strokes = [('cat', np.array([[1, 2], [5, 2]], np.float32)), ('background', np.array([[3, 0], [3, 4]]))]
    label = rasterise_scribbles(strokes, ('background', 'cat'), (5, 7), stroke_width=1)
    expected = np.full((5, 7), 255, np.uint8)
    expected[:, 3] = 0
    expected[2, 1:6] = 1  # the object stroke is drawn after (over) the background stroke
    np.testing.assert_array_equal(label, expected)


def test_scribble_dataset_rasterises_into_gt(voc_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadScribbleAnnotation', stroke_width=1),
                dict(type='PackWeakSegInputs')]
    ds = VOCScribbleDataset(data_root=voc_root, data_prefix=dict(img_path='JPEGImages',
                                                                  scribble_path='ScribbleAnnotation/pascal_2012'),
                            ann_file='ImageSets/Segmentation/train.txt', pipeline=pipeline)
    gt = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert gt.shape == (20, 30)
    np.testing.assert_array_equal(gt[5, 4:11], 8)  # the cat stroke
    np.testing.assert_array_equal(gt[0:19, 0], 0)  # the background stroke
    assert gt[15, 25] == 12  # the single-point dog scribble
    assert (gt == 255).mean() > 0.9


def test_scribble_unknown_tag_names_file_and_tag(voc_root, tmp_path):
    path = str(tmp_path / 'bad.xml')
    write_scribble_xml(path, 'bad', [('unicorn', [(1, 1), (2, 2)])])
    load = LoadScribbleAnnotation(classes=('background', 'cat'))
    with pytest.raises(ValueError, match=r"bad\.xml.*'unicorn'"):
        load(dict(scribble_path=path, img_shape=(5, 5)))


def test_missing_and_corrupt_image_name_the_file(voc_root, tmp_path):
    from mmcv.transforms import LoadImageFromFile
    with pytest.raises(Exception, match='missing.jpg'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'missing.jpg')))
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'not a jpeg')
    with pytest.raises(Exception, match='corrupt.jpg'):
        LoadImageFromFile()(dict(img_path=str(corrupt)))


def test_boxes_clipped_and_empty_images_counted(voc_root):
    with pytest.warns(UserWarning) as record:
        ds = WeakVOCDataset(data_root=osp.dirname(voc_root), ann_file='VOC2012/ImageSets/Segmentation/train.txt',
                            data_prefix=dict(sub_data_root='VOC2012/'), filter_cfg=dict(filter_empty_gt=True),
                            pipeline=[])
    messages = ' '.join(str(w.message) for w in record)
    assert 'clipped 1 boxes' in messages and 'skipped 1 of 3 images' in messages
    assert len(ds) == 2 and ds.num_clipped_boxes == 1 and ds.num_empty_images == 1
    boxes = [inst['bbox'] for inst in ds.get_data_info(0)['instances']]
    assert boxes == [[3, 2, 11, 9], [20, 12, 30, 19]]  # VOC 1-based -> 0-based; the dog's xmax 34 -> 30


def test_box_fully_outside_is_dropped(voc_root, tmp_path):
    root = tmp_path / 'VOCdevkit'
    shutil.copytree(osp.dirname(voc_root), root)
    from conftest import write_voc_xml
    write_voc_xml(str(root / 'VOC2012' / 'Annotations' / 'b.xml'), 'b', (30, 20),
                  [('person', (40, 2, 50, 10)), ('person', (2, 2, 8, 8))])
    with pytest.warns(UserWarning, match='dropped 1'):
        ds = WeakVOCDataset(data_root=str(root), ann_file='VOC2012/ImageSets/Segmentation/train.txt',
                            data_prefix=dict(sub_data_root='VOC2012/'), pipeline=[])
    assert [i['bbox'] for i in ds.get_data_info(1)['instances']] == [[1, 1, 7, 7]]


def test_voc_metric_names_custom_classes(voc_root):
    kwargs = dict(data_root=osp.dirname(voc_root), ann_file='VOC2012/ImageSets/Segmentation/train.txt',
                  data_prefix=dict(sub_data_root='VOC2012/'), pipeline=[])
    assert WeakVOCDataset(**kwargs).metainfo['dataset_type'] == 'VOC2012'  # VOC's classes: mmdet's behaviour
    custom = WeakVOCDataset(metainfo=dict(classes=('person', 'dog')), **kwargs)
    assert custom.metainfo['dataset_type'] is None and custom.metainfo['classes'] == ('person', 'dog')


def test_a2d_mat_reads_back_matlab_layout(a2d_root):
    ann = read_a2d_mat(osp.join(a2d_root, 'Annotations/mat/v_train/00001.mat'))
    assert ann['masks'].shape == (2, 12, 16)
    assert ann['masks'][0, 2:6, 1:5].all() and ann['masks'][0].sum() == 16
    np.testing.assert_array_equal(ann['ids'], [18, 77])
    np.testing.assert_array_equal(ann['boxes'][0], [1, 2, 5, 6])  # 0-based x1 y1, exclusive-style x2 y2
    single = read_a2d_mat(osp.join(a2d_root, 'Annotations/mat/v_test/00002.mat'))
    assert single['masks'].shape == (1, 12, 16) and single['ids'].tolist() == [36]


def test_a2d_video_dataset_labels(a2d_root):
    ds = A2DVideoDataset(data_root=a2d_root, split='train', pipeline=[])
    info = ds[0]
    assert info['actor_labels'] == [0, 6] and info['action_labels'] == [6, 7]  # adult, dog / running, walking
    expected = torch.zeros(16)
    expected[[0, 6, 7 + 6, 7 + 7]] = 1
    assert torch.equal(info['label'], expected)
    assert info['start_index'] == 1 and info['total_frames'] == 4
    actor_only = A2DVideoDataset(data_root=a2d_root, split='test', label_type='actor', pipeline=[])
    assert actor_only[0]['label'].tolist() == [0, 0, 1, 0, 0, 0, 0]  # ball


def test_a2d_video_dataset_decodes_frames(a2d_root):
    pipeline = [dict(type='SampleFrames', clip_len=4, frame_interval=1, num_clips=1, test_mode=True),
                dict(type='RawFrameDecode'), dict(type='FormatShape', input_format='NCTHW'),
                dict(type='PackActionInputs')]
    ds = A2DVideoDataset(data_root=a2d_root, split='train', pipeline=pipeline)
    assert ds[0]['inputs'].shape == (1, 3, 4, 12, 16)


def test_a2d_frame_dataset_gt(a2d_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadA2DAnnotation'), dict(type='PackWeakSegInputs')]
    ds = A2DFrameDataset(data_root=a2d_root, split='train', pipeline=pipeline)
    assert len(ds) == 2
    gt = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    adult_walking = A2D_PAIR_IDS.index(18) + 1
    dog_running = A2D_PAIR_IDS.index(77) + 1
    assert set(np.unique(gt)) == {0, adult_walking, dog_running}
    assert (gt == adult_walking).sum() == 16 and (gt == dog_running).sum() == 35
    assert ds[0]['data_samples'].metainfo['a2d_ids'].tolist() == [18, 77]
