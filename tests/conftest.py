"""Shared test helpers: tiny datasets in the real published layouts, written by the tests themselves, and
``run_tool``, which runs a repository tool in a subprocess.

Test modules use the plain functions with ``from conftest import REPO, run_tool`` (pytest puts ``tests/`` on
``sys.path``); test modules never import each other.
"""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from wsseg_mm.metainfo import VOC_PALETTE
from wsseg_mm.toy import write_a2d_mat

# Writes from tests and tools must never reach the network or a GPU.
os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_tool(args, env_extra=None, cwd=REPO, timeout=600):
    """Run ``args`` in a subprocess from ``cwd`` (the repository) and return its stdout + stderr.

    A first argument ending in ``.py`` (``'tools/train.py'``) is run with this interpreter; anything else
    (``[sys.executable, ...]``, ``['bash', 'tools/dist_train.sh', ...]``) as given. The repository and
    ``tests/helpers`` (probe modules for ``custom_imports``) are the subprocess's ``PYTHONPATH``; ``env_extra``
    adds variables (e.g. ``OMP_NUM_THREADS='1'``, ``PORT``). A non-zero exit fails the test with the output's tail.
    """
    args = [str(a) for a in args]
    if args[0].endswith('.py'):
        args = [sys.executable, *args]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, osp.join(REPO, 'tests', 'helpers')]))
    env.update(env_extra or {})
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(args)} exited {proc.returncode}\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-5000:]}')
    return proc.stdout + proc.stderr


def write_palette_png(path, label):
    image = Image.fromarray(label.astype(np.uint8), mode='P')
    image.putpalette([v for rgb in VOC_PALETTE for v in rgb])
    os.makedirs(osp.dirname(path), exist_ok=True)
    image.save(path)


def write_voc_xml(path, name, size, objects):
    """objects: list of (class name, (xmin, ymin, xmax, ymax)) in VOC 1-based coordinates."""
    w, h = size
    body = ''.join(
        f'<object><name>{cls}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>'
        f'<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>'
        for cls, b in objects)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'<annotation><folder>VOC2012</folder><filename>{name}.jpg</filename><size><width>{w}</width>'
                f'<height>{h}</height><depth>3</depth></size>{body}</annotation>')


def write_scribble_xml(path, name, strokes):
    """strokes: list of (tag, [(x, y), ...])."""
    body = ''.join('<polygon><tag>%s</tag>%s</polygon>' % (tag, ''.join(
        f'<point><X>{x}</X><Y>{y}</Y></point>' for x, y in pts)) for tag, pts in strokes)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'<annotation><filename>{name}.jpg</filename><folder>VOC2012</folder>{body}</annotation>')


@pytest.fixture(scope='session')
def voc_root(tmp_path_factory):
    """A 3-image VOC 2012 layout (20x30 images): ``a`` has a cat and a dog (the dog's box leaves the image),
    ``b`` a person, ``c`` nothing. Scribbles for a and b; ``bad`` scribbles with an unknown tag."""
    root = tmp_path_factory.mktemp('voc') / 'VOCdevkit' / 'VOC2012'
    rng = np.random.default_rng(0)
    h, w = 20, 30
    seg = {
        'a': np.zeros((h, w), np.uint8),
        'b': np.zeros((h, w), np.uint8),
        'c': np.zeros((h, w), np.uint8),
    }
    seg['a'][2:10, 3:12] = 8  # cat
    seg['a'][12:20, 20:30] = 12  # dog
    seg['b'][5:15, 5:25] = 15  # person
    seg['b'][4, 5:25] = 255
    objects = {
        'a': [('cat', (4, 3, 12, 10)), ('dog', (21, 13, 35, 20))],  # dog xmax 35 > width 30
        'b': [('person', (6, 6, 25, 15))],
        'c': [],
    }
    for name in seg:
        img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        os.makedirs(root / 'JPEGImages', exist_ok=True)
        Image.fromarray(img).save(root / 'JPEGImages' / f'{name}.jpg')
        write_palette_png(str(root / 'SegmentationClass' / f'{name}.png'), seg[name])
        write_voc_xml(str(root / 'Annotations' / f'{name}.xml'), name, (w, h), objects[name])
    scribbles = root / 'ScribbleAnnotation' / 'pascal_2012'
    write_scribble_xml(str(scribbles / 'a.xml'), 'a', [('cat', [(4, 5), (10, 5)]), ('background', [(0, 0), (0, 18)]),
                                                       ('dog', [(25, 15)])])
    write_scribble_xml(str(scribbles / 'b.xml'), 'b', [('person', [(6, 10), (20, 10)])])
    write_scribble_xml(str(scribbles / 'c.xml'), 'c', [('background', [(1, 1), (1, 3)])])
    sets = root / 'ImageSets' / 'Segmentation'
    os.makedirs(sets, exist_ok=True)
    (sets / 'train.txt').write_text('a\nb\nc\n')
    (sets / 'val.txt').write_text('a\nb\n')
    return str(root)


@pytest.fixture(scope='session')
def a2d_root(tmp_path_factory):
    """A2D ``Release`` layout: v_train (adult-walking + dog-running, frames 1..4 annotated at 1 and 3) and v_test
    (ball-rolling, annotated at 2); frames are 12x16 PNGs."""
    root = tmp_path_factory.mktemp('a2d') / 'Release'
    h, w = 12, 16
    rng = np.random.default_rng(1)
    adult = np.zeros((h, w), bool)
    adult[2:6, 1:5] = True
    dog = np.zeros((h, w), bool)
    dog[6:11, 8:15] = True
    ball = np.zeros((h, w), bool)
    ball[3:9, 3:9] = True
    videos = {'v_train': (0, {1: ([adult, dog], [18, 77]), 3: ([adult], [18])}),
              'v_test': (1, {2: ([ball], [36])})}
    rows = []
    for vid, (usage, anns) in videos.items():
        for frame in range(1, 5):
            os.makedirs(root / 'pngs320H' / vid, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(
                root / 'pngs320H' / vid / f'{frame:05d}.png')
        os.makedirs(root / 'Annotations' / 'mat' / vid, exist_ok=True)
        for frame, (masks, ids) in anns.items():
            write_a2d_mat(str(root / 'Annotations' / 'mat' / vid / f'{frame:05d}.mat'), masks, ids)
        rows.append(f'{vid},{list(anns.values())[0][1][0]},0,1,{h},{w},4,{len(anns)},{usage}')
    (root / 'videoset.csv').write_text('\n'.join(rows) + '\n')
    return str(root)


def tiny_psi_model(num_classes=21, loss_decode=None, **preprocessor):
    """A PSISegmentor small enough for CPU tests: ResNetV1c-18 at 8 base channels (OS16), the CPP neck and head.

    ``preprocessor``: ``SegDataPreProcessor`` arguments besides mean / pads (default: std 255, size 32 x 32);
    ``loss_decode``: the head's losses (default: the head's own)."""
    head = dict(type='CPPSepASPPHead', in_channels=64, in_index=3, channels=8, dilations=(1, 2, 3, 4),
                c1_in_channels=8, c1_channels=4, cpp_channels=8, dropout_ratio=0.1, num_classes=num_classes,
                norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)
    if loss_decode is not None:
        head['loss_decode'] = loss_decode
    return dict(
        type='PSISegmentor',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], pad_val=0, seg_pad_val=255,
                               **(preprocessor or dict(std=[255, 255, 255], size=(32, 32)))),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, out_indices=(0, 1, 2, 3),
                      strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2), norm_cfg=dict(type='BN', requires_grad=True),
                      contract_dilation=True, init_cfg=None),
        neck=dict(type='CPPNeck', in_channels=(8, 16, 32, 64), channels=8),
        decode_head=head,
        sld_base_radius=2,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


@pytest.fixture(scope='module')
def one_torch_thread():
    """Tiny tensors: on shared, busy cores each multi-threaded op waits for a time slice (~100x slower)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def output_contents(folder, manifest: bool = False) -> dict:
    """``{relative path: content}`` of a per-image tool's outputs under ``folder``, less what records the time a run
    took (BBAM's ``seconds`` per image and ``seconds_per_object``) and the logs: an ``.npz`` as ``{array: (dtype,
    shape, bytes)}``, ``summary.json`` as a dict, any other file as bytes. ``manifest``: keep ``manifest.json``
    (less its ``info``: paths and times, for people), else leave it out."""
    import glob
    import json

    from wsseg_mm.fileio.labels import load_npz
    found = {}
    for path in sorted(glob.glob(osp.join(str(folder), '**', '*'), recursive=True)):
        rel = osp.relpath(path, str(folder))
        if not osp.isfile(path) or rel.endswith('.log') or (rel == 'manifest.json' and not manifest):
            continue
        if rel.endswith('.npz'):
            found[rel] = {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in load_npz(path).items() if k != 'seconds'}
        elif rel == 'summary.json':
            with open(path) as f:
                found[rel] = {k: v for k, v in json.load(f).items() if k != 'seconds_per_object'}
        elif rel == 'manifest.json':
            with open(path) as f:
                found[rel] = {k: v for k, v in json.load(f).items() if k != 'info'}
        else:
            with open(path, 'rb') as f:
                found[rel] = f.read()
    return found
