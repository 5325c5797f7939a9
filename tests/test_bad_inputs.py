"""Bad inputs never turn into wrong labels or nameless errors (issue 14, input side).

* objects ``WeakVOCDataset`` cannot train on become counted ignore regions, or a clear error, never silent background;
* a corrupt image, XML, coordinate or an empty split names its file;
* the scikit-image proposals take memory independent of their number, with the same results;
* the launch scripts pass arguments with spaces through; the BBAM hook logs what it will really do.
"""
import json
import os
import os.path as osp
import shutil
import stat
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from wsseg_mm.datasets import VOCImageLabelDataset, VOCScribbleDataset, WeakVOCDataset
from wsseg_mm.fileio.annotations import read_image_list, read_scribbles
from wsseg_mm.functional.box_masks import (
    SegmentProposals,
    refine_with_proposals,
    skimage_mask_proposals,
    skimage_segment_proposals,
)

from conftest import REPO, write_scribble_xml, write_voc_xml

SPLIT = 'VOC2012/ImageSets/Segmentation/train.txt'


@pytest.fixture
def devkit(voc_root, tmp_path):
    """A writable copy of the 3-image ``voc_root`` (a: cat + dog, b: person, c: nothing; 20 x 30 images)."""
    root = tmp_path / 'VOCdevkit'
    shutil.copytree(osp.dirname(voc_root), root)
    return root


def boxes_dataset(devkit, **kwargs):
    from mmengine.registry import DefaultScope
    kwargs.setdefault('pipeline', [])
    with DefaultScope.overwrite_default_scope('mmdet'):  # mmdet's transforms
        return WeakVOCDataset(data_root=str(devkit), ann_file=SPLIT, data_prefix=dict(sub_data_root='VOC2012/'),
                              **kwargs)


def write_b(devkit, objects):
    write_voc_xml(str(devkit / 'VOC2012' / 'Annotations' / 'b.xml'), 'b', (30, 20), objects)


def build_quietly(factory, *args, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        dataset = factory(*args, **kwargs)
    return dataset, ' '.join(str(w.message) for w in record)


# ------------------------------------------------------------------------- objects never silently background
def test_unknown_class_is_an_error_naming_file_and_class(devkit):
    write_b(devkit, [('unicorn', (2, 2, 8, 8))])
    with pytest.raises(ValueError, match=r"b\.xml: object 0 has class 'unicorn'.*unknown_classes='ignore'"):
        boxes_dataset(devkit)
    with pytest.raises(ValueError, match='unknown_classes must be one of'):
        boxes_dataset(devkit, unknown_classes='drop')


def test_unknown_class_ignored_on_request_is_a_counted_ignore_region(devkit):
    write_b(devkit, [('unicorn', (2, 2, 8, 8)), ('person', (6, 6, 25, 15))])
    dataset, messages = build_quietly(boxes_dataset, devkit, unknown_classes='ignore')
    assert dataset.get_data_info(1)['instances'] == [
        dict(bbox=[1.0, 1.0, 7.0, 7.0], bbox_label=-1, ignore_flag=1),  # no class of the dataset claims it
        dict(bbox=[5.0, 5.0, 24.0, 14.0], bbox_label=14, ignore_flag=0)]
    assert "kept 1 objects as ignore regions" in messages and "1 of an unknown class ('unicorn')" in messages
    assert dataset.num_ignored_boxes == 1 and dataset.get_cat_ids(1) == [14]


def test_class_left_out_of_a_selection_is_an_ignore_region(devkit):
    dataset, messages = build_quietly(boxes_dataset, devkit, metainfo=dict(classes=('person', 'dog')))
    # a: the cat (not selected) is an ignore region, the dog (clipped at the border) is trained on
    assert dataset.get_data_info(0)['instances'] == [dict(bbox=[3.0, 2.0, 11.0, 9.0], bbox_label=-1, ignore_flag=1),
                                                     dict(bbox=[20.0, 12.0, 30.0, 19.0], bbox_label=1, ignore_flag=0)]
    assert "1 of a class not selected in metainfo ('cat')" in messages and 'clipped 1 boxes' in messages


def test_inverted_box_is_an_ignore_region_with_swapped_corners(devkit):
    write_b(devkit, [('person', (12, 10, 4, 3))])  # xmin > xmax and ymin > ymax
    dataset, messages = build_quietly(boxes_dataset, devkit)
    assert dataset.get_data_info(1)['instances'] == [dict(bbox=[3.0, 2.0, 11.0, 9.0], bbox_label=14, ignore_flag=1)]
    assert '1 with inverted corners' in messages
    assert dataset.box_issues['with inverted corners'] == 1


def test_every_dropped_object_is_counted_with_its_reason(devkit):
    write_b(devkit, [('person', (40, 2, 50, 10)), ('person', (5, 3, 5, 9)), ('person', (2, 2, 8, 8))])
    dataset, messages = build_quietly(boxes_dataset, devkit)
    assert [i['bbox'] for i in dataset.get_data_info(1)['instances']] == [[1.0, 1.0, 7.0, 7.0]]
    assert 'dropped 2 with no pixel inside it (1 outside the image, 1 with zero width or height)' in messages
    assert dataset.num_dropped_boxes == 2


def test_ignore_regions_reach_ignored_instances_through_mmdet_pipeline(devkit):
    write_b(devkit, [('person', (12, 10, 4, 3)), ('person', (6, 6, 25, 15))])
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')]
    dataset, _ = build_quietly(boxes_dataset, devkit, pipeline=pipeline)
    sample = dataset[1]['data_samples']
    assert sample.gt_instances.bboxes.tensor.tolist() == [[5.0, 5.0, 24.0, 14.0]]
    assert sample.ignored_instances.bboxes.tensor.tolist() == [[3.0, 2.0, 11.0, 9.0]]


def test_bbam_writes_ignored_boxes_as_ignore():
    """BBAM explains ``gt_instances`` only; an ignore region (a difficult box, one under ``bbox_min_size``, one
    of the ignore regions above) must be 255 in the semantic pseudo label, where no explained object claims it
    (``explain_sample`` saves ``ignored_boxes`` (K, 4) in original pixels next to ``boxes``)."""
    from wsseg_mm.apis.bbam import bbam_image_labels
    shape = (16, 20)
    attributions = np.zeros((1, ) + shape, np.float32)
    attributions[0, 2:6, 2:6] = 1.0
    result = dict(attributions=attributions, boxes=np.array([[2, 2, 6, 6]], np.float32), labels=np.array([0]),
                  num_positives=np.array([3]), scores=np.array([0.9], np.float32),
                  ignored_boxes=np.array([[10, 8, 18, 14]], np.float32))
    image = np.zeros(shape + (3, ), np.uint8)
    semantic = bbam_image_labels(result, image, dict(crf=None, fg_thr=0.8, bg_thr=0.2))['semantic']
    assert (semantic[2:6, 2:6] == 1).all()
    assert (semantic[8:14, 10:18] == 255).all() and semantic[0, 19] == 0


# ------------------------------------------------------------------------- errors name the file
def test_zero_byte_image_names_the_file(devkit):
    (devkit / 'VOC2012' / 'JPEGImages' / 'b.jpg').write_bytes(b'')
    dataset, _ = build_quietly(boxes_dataset, devkit, pipeline=[dict(type='LoadImageFromFile')])
    with pytest.raises(OSError, match=r'image .*b\.jpg is empty \(0 bytes\).*train\.txt'):
        dataset[1]


@pytest.mark.parametrize('kind', ['scribble', 'image_label'])
def test_corrupt_image_names_the_file_in_the_seg_datasets(devkit, kind):
    voc = devkit / 'VOC2012'
    (voc / 'JPEGImages' / 'a.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    kwargs = dict(data_root=str(voc), ann_file='ImageSets/Segmentation/train.txt', pipeline=[
        dict(type='LoadImageFromFile')])
    if kind == 'scribble':
        dataset = VOCScribbleDataset(data_prefix=dict(img_path='JPEGImages',
                                                      scribble_path=str(voc / 'ScribbleAnnotation/pascal_2012')),
                                     **kwargs)
    else:
        dataset, _ = build_quietly(VOCImageLabelDataset, data_prefix=dict(img_path='JPEGImages'), **kwargs)
    with pytest.raises(OSError, match=r'a\.jpg cannot be decoded \(\d+ bytes'):
        dataset[0]


def test_other_pipeline_errors_keep_their_type_and_name_the_image(devkit):
    dataset, _ = build_quietly(boxes_dataset, devkit, pipeline=[dict(type='ImageToTensor', keys=['img'])])  # no img
    with pytest.raises(KeyError) as info:
        dataset[0]
    assert any('a.jpg' in note for note in getattr(info.value, '__notes__', []))


def test_image_without_size_and_undecodable_names_both_files(devkit):
    path = devkit / 'VOC2012' / 'Annotations' / 'b.xml'
    path.write_text('<annotation><object><name>person</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>8</xmax>'
                    '<ymax>8</ymax></bndbox></object></annotation>')
    (devkit / 'VOC2012' / 'JPEGImages' / 'b.jpg').write_bytes(b'')
    with pytest.raises(OSError, match=r'b\.xml has no <size>, and its image .*b\.jpg cannot be decoded \(0 bytes'):
        build_quietly(boxes_dataset, devkit)


@pytest.mark.parametrize('text, match', [
    ('<annotation><object><name>person</name>', r'corrupt XML annotation .*b\.xml'),
    ('<annotation><size><width>30</width><height>20</height></size><object><name>person</name><bndbox><xmin>'
     '</xmin><ymin>2</ymin><xmax>8</xmax><ymax>8</ymax></bndbox></object></annotation>',
     r"b\.xml: object 0 \('person'\): <xmin> is empty"),
    ('<annotation><size><width>30</width><height>20</height></size><object><name>person</name><bndbox><xmin>2'
     '</xmin><ymin>2</ymin><xmax>8,5</xmax><ymax>8</ymax></bndbox></object></annotation>',
     r"b\.xml: object 0 \('person'\): <xmax> is '8,5', not a number"),
    ('<annotation><size><width>30</width><height>20</height></size><object><name>person</name></object>'
     '</annotation>', r"b\.xml: object 0 \('person'\) has no <bndbox>"),
])
def test_broken_box_xml_names_the_file_and_the_field(devkit, text, match):
    (devkit / 'VOC2012' / 'Annotations' / 'b.xml').write_text(text)
    with pytest.raises(ValueError, match=match):
        build_quietly(boxes_dataset, devkit)


def test_empty_split_file_names_the_file(devkit):
    voc = devkit / 'VOC2012'
    (voc / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('\n')
    match = r'ImageSets/Segmentation/train\.txt names no image'
    with pytest.raises(ValueError, match=match):
        boxes_dataset(devkit)
    kwargs = dict(data_root=str(voc), ann_file='ImageSets/Segmentation/train.txt', pipeline=[])
    with pytest.raises(ValueError, match=match):
        VOCImageLabelDataset(data_prefix=dict(img_path='JPEGImages'), **kwargs)
    with pytest.raises(ValueError, match=match):
        VOCScribbleDataset(data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/pascal_2012'),
                           **kwargs)
    with pytest.raises(ValueError, match=r'list .*train\.txt names nothing \(an empty file\)'):
        read_image_list(str(voc / 'ImageSets' / 'Segmentation' / 'train.txt'))


def test_datasets_left_empty_by_their_filters_say_so(devkit):
    voc = devkit / 'VOC2012'
    (voc / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('c\n')  # the image without objects
    with pytest.raises(ValueError, match=r"filter_cfg=.*leaves none of the 1 images of .*train\.txt"):
        build_quietly(boxes_dataset, devkit, filter_cfg=dict(filter_empty_gt=True))
    with pytest.raises(ValueError, match=r'none of the 1 images of .*train\.txt has an object'):
        build_quietly(VOCImageLabelDataset, data_root=str(voc), ann_file='ImageSets/Segmentation/train.txt',
                      data_prefix=dict(img_path='JPEGImages'), pipeline=[])


def test_non_numeric_scribble_coordinate_names_file_stroke_and_point(tmp_path):
    path = str(tmp_path / 'bad.xml')
    write_scribble_xml(path, 'bad', [('cat', [(1, 1), (2, 2)]), ('background', [(3, 4), ('x7', 5)])])
    with pytest.raises(ValueError, match=r"bad\.xml: stroke 1 \('background'\), point 1: <X> is 'x7', not a number"):
        read_scribbles(path)
    write_scribble_xml(path, 'bad', [('cat', [(1, '')])])
    with pytest.raises(ValueError, match=r"bad\.xml: stroke 0 \('cat'\), point 0: <Y> is empty"):
        read_scribbles(path)


# ------------------------------------------------------------------------- proposals: memory independent of N
def _former_skimage_mask_proposals(image, scales=(50, 150, 400), sigma=0.8, min_size=20):
    """The implementation before issue 14 (a mask per segment, a list of masks, a stack): the slow reference."""
    from skimage.segmentation import felzenszwalb
    shape = image.shape[:2]
    proposals = []
    for scale in scales:
        segments = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size,
                                channel_axis=-1 if image.ndim == 3 else None)
        singles = {int(i): segments == i for i in np.unique(segments)}
        proposals.extend(mask for mask in singles.values() if mask.sum() >= min_size)
        pairs = [np.stack([segments[:, :-1].ravel(), segments[:, 1:].ravel()], axis=1),
                 np.stack([segments[:-1, :].ravel(), segments[1:, :].ravel()], axis=1)]
        pairs = np.concatenate(pairs)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        for a, b in (np.unique(np.sort(pairs, axis=1), axis=0) if len(pairs) else []):
            union = singles[int(a)] | singles[int(b)]
            if union.sum() >= min_size:
                proposals.append(union)
    seen, kept = set(), []
    for mask in proposals:
        key = np.packbits(mask).tobytes()
        if key not in seen:
            seen.add(key)
            kept.append(mask)
    return np.stack(kept) if kept else np.zeros((0, ) + shape, bool)


def _textured(shape, seed):
    import cv2
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (shape[0] // 12 + 1, shape[1] // 12 + 1, 3)).astype(np.float32)
    image = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 8, shape + (3, ))
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.mark.parametrize('shape, seed, scales', [((48, 64), 0, (50, 150, 400)), ((37, 29), 1, (20, 100)),
                                                 ((40, 40), 2, (400, 400))])
def test_segment_proposals_equal_the_former_mask_stack(shape, seed, scales):
    image = _textured(shape, seed)
    if seed == 2:
        image[:] = 40
        image[8:30, 5:20] = 200  # two regions: the same three proposals at every scale (duplicates dropped)
    former = _former_skimage_mask_proposals(image, scales)
    segmented = skimage_segment_proposals(image, scales)
    assert isinstance(segmented, SegmentProposals) and segmented.shape == former.shape
    np.testing.assert_array_equal(segmented.to_masks(), former)
    np.testing.assert_array_equal(skimage_mask_proposals(image, scales), former)
    assert segmented.segments.nbytes == 4 * len(scales) * shape[0] * shape[1]  # whatever N
    rng = np.random.default_rng(seed)
    for _ in range(6):
        y, x = rng.integers(0, shape[0] // 2), rng.integers(0, shape[1] // 2)
        mask = np.zeros(shape, bool)
        mask[y:y + shape[0] // 3, x:x + shape[1] // 3] = True
        box = (x - 1.5, y - 1, x + shape[1] // 3 + 2, y + shape[0] // 3 + 0.5)
        for b in (None, box):
            np.testing.assert_array_equal(refine_with_proposals(mask, segmented, b),
                                          refine_with_proposals(mask, former, b))


def test_bbam_post_processing_takes_segment_proposals_unchanged():
    """``apis.bbam`` (``postprocess_image`` via ``bbam_image_labels``) gives the same labels with the compact
    proposals as with their stack, so its ``load_proposals`` can hand them over as they are."""
    import cv2

    from wsseg_mm.apis.bbam import bbam_image_labels
    image = _textured((60, 80), 3)
    noise = np.random.default_rng(0).random((60, 80, 2)).astype(np.float32)
    attributions = np.clip(cv2.GaussianBlur(noise, (9, 9), 3).transpose(2, 0, 1) * 1.6 - 0.3, 0, 1)
    result = dict(attributions=attributions, boxes=np.array([[5, 5, 40, 30], [30, 20, 75, 55]], np.float32),
                  labels=np.array([0, 1]), num_positives=np.array([3, 3]), scores=np.array([0.9, 0.8], np.float32))
    settings = dict(crf=None, fg_thr=0.5, bg_thr=0.2)
    dense = bbam_image_labels(result, image, settings, skimage_mask_proposals(image))
    compact = bbam_image_labels(result, image, settings, skimage_segment_proposals(image))
    np.testing.assert_array_equal(dense['semantic'], compact['semantic'])
    assert len(np.unique(dense['semantic'])) >= 3  # both classes and background / ignore: a real comparison
    for a, b in zip(dense['instances'], compact['instances']):
        np.testing.assert_array_equal(a['mask'], b['mask'])
        np.testing.assert_array_equal(a['ignore'], b['ignore'])


_PEAK = """
import resource, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_bad_inputs import _textured
from wsseg_mm.functional.box_masks import skimage_segment_proposals
image = _textured((375, 500), 0)
skimage_segment_proposals(image[:20, :20])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
proposals = skimage_segment_proposals(image)
print(len(proposals), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)
"""


@pytest.mark.slow  # Felzenszwalb at three scales on a 500 x 375 image in a subprocess (~10 s)
def test_segment_proposals_peak_memory_is_far_below_the_mask_stack():
    code = _PEAK.format(tests=osp.dirname(osp.abspath(__file__)))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=REPO,
                         env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    count, peak = (int(v) for v in out.stdout.split())
    stack = count * 375 * 500  # bytes of the (N, H, W) bool stack: 0.45 GB for about 2,400 proposals
    assert count > 1000 and peak < stack / 4, (count, peak)


# ------------------------------------------------------------------------- launch scripts
def _fake(path, name):
    """An executable ``name`` that prints its arguments as JSON."""
    exe = path / name
    exe.write_text(f'#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n')
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


@pytest.mark.parametrize('script, positional', [('dist_train.sh', ['my config.py', '2']),
                                                ('dist_test.sh', ['my config.py', 'the ckpt.pth', '2']),
                                                ('dist_bbam.sh', ['my config.py', 'the ckpt.pth', '2'])])
def test_dist_scripts_pass_arguments_with_spaces(tmp_path, script, positional):
    python = _fake(tmp_path, 'python')
    extra = ['--work-dir', 'work dir/a b', '--cfg-options', 'custom_hooks.0.out_dir=out dir']
    out = subprocess.run(['bash', osp.join(REPO, 'tools', script), *positional, *extra], capture_output=True,
                         text=True, env=dict(os.environ, PYTHON=python), timeout=60)
    assert out.returncode == 0, out.stderr
    argv = json.loads(out.stdout.strip().splitlines()[-1])
    assert argv[:2] == ['-m', 'torch.distributed.run'] and '--nproc_per_node=2' in argv
    expected = [osp.join(REPO, 'tools', script.replace('dist_', '').replace('.sh', '.py')), *positional[:-1],
                '--launcher', 'pytorch', *extra]
    assert argv[-len(expected):] == expected


def test_slurm_train_passes_arguments_with_spaces(tmp_path):
    python = _fake(tmp_path, 'python')
    _fake(tmp_path, 'srun')
    env = dict(os.environ, PYTHON=python, PATH=f'{tmp_path}{os.pathsep}{os.environ["PATH"]}',
               SRUN_ARGS='--quotatype=auto --time 10')
    out = subprocess.run(['bash', osp.join(REPO, 'tools', 'slurm_train.sh'), 'part', 'job', 'my config.py',
                          'work dir', '--cfg-options', 'a=b c'], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    argv = json.loads(out.stdout.strip().splitlines()[-1])  # srun's
    assert argv[:2] == ['-p', 'part'] and argv[-12:-8] == ['--kill-on-bad-exit=1', '--quotatype=auto', '--time', '10']
    assert argv[-8:] == [python, '-u', osp.join(REPO, 'tools', 'train.py'), 'my config.py', '--work-dir=work dir',
                         '--launcher=slurm', '--cfg-options', 'a=b c']


# ------------------------------------------------------------------------- BBAM hook
def _hook_runner(voc_root, logged):
    from mmengine.config import Config
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')]
    cfg = Config(dict(default_scope='mmdet', train_dataloader=dict(dataset=dict(
        type='WeakVOCDataset', data_root=osp.dirname(voc_root), ann_file=SPLIT,
        data_prefix=dict(sub_data_root='VOC2012/'), pipeline=pipeline))))
    return SimpleNamespace(cfg=cfg, model=None, work_dir=None, logger=SimpleNamespace(info=logged.append))


@pytest.mark.parametrize('limit', [0, -3, 1.5, True])
def test_bbam_hook_rejects_a_limit_that_is_not_a_positive_integer(limit):
    from wsseg_mm.engine.hooks.bbam_hook import BBAMHook
    with pytest.raises(ValueError, match=f'limit={limit!r}'):
        BBAMHook(limit=limit)
    hook = BBAMHook()
    hook.settings['limit'] = limit  # changed after the hook was built: before_train checks again
    with pytest.raises(ValueError, match='limit'):
        hook.before_train(SimpleNamespace(cfg=None, model=None, work_dir=None, logger=None))


def test_bbam_hook_logs_the_true_count_and_runs_on_its_share_of_the_cores(voc_root, tmp_path, monkeypatch):
    import torch

    from wsseg_mm.engine.hooks import bbam_hook
    logged, seen = [], {}
    runner = _hook_runner(voc_root, logged)
    hook = bbam_hook.BBAMHook(limit=2, out_dir=str(tmp_path / 'out'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        hook.before_train(runner)
    assert 'explains 2 training images (the first 2 of 3: limit=2)' in logged[-1]

    def fake_generate(detector, dataset, out_dir, settings):
        seen['threads'] = torch.get_num_threads()
    monkeypatch.setattr(bbam_hook, 'generate_bbam_pseudo_labels', fake_generate)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        hook.after_train(runner)
        assert seen['threads'] == 1 and torch.get_num_threads() == 2  # the training's count restored
    finally:
        torch.set_num_threads(threads)
    assert 'explaining 2 training images' in logged[-1] and '1 CPU threads' in logged[-1]


def test_zero_byte_image_read_by_the_per_image_tools_names_the_file(tmp_path):
    """The per-image tools read originals with ``apis.common.read_rgb`` (BBAM's ``load_sample``): an empty file
    is an error naming it, not cv2's ``!buf.empty()``."""
    from wsseg_mm.apis.common import read_rgb
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(OSError, match=r'empty\.jpg \(0 bytes\): the file is empty'):
        read_rgb(str(empty))
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'\xff\xd8 not a jpeg')
    with pytest.raises(OSError, match=r'broken\.jpg \(\d+ bytes\): it cannot be decoded'):
        read_rgb(str(broken))
