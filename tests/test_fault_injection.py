"""Faults inside the write path of the per-image tools (BBAM, IRNet's CAMs, relations, label synthesis): after any
sequence of runs that fail part-way and a final full run, the outputs are those of an uninterrupted run, byte for
byte, and no temporary file is left behind.

The faults are injected at the n-th call of a step of :func:`wsseg_mm.fileio.labels.atomic_write_bytes`:

* ``fsync``: the data never reaches its file (a crash before the rename; the temporary file is left, half
  written, as a SIGKILL leaves it);
* ``replace``: the same at the rename;
* ``folder``: the rename happened, then the run died (before the folder's fsync);
* ``torn``: the rename happened but the file holds only half its bytes (what a crash leaves on a file system that
  did not keep the data: the resumed run must find it and redo the image). Never applied to the manifest, which is
  written before any output and fsynced.

Each faulty run may also use other post-processing settings (BBAM ``fg_thr``, IRNet ``sem_bg``): a rerun then
redoes post-processing, and may be interrupted while doing so.
"""
import glob
import os
import os.path as osp
import random

import pytest
import torch

import wsseg_mm  # noqa: F401
from wsseg_mm import apis
from wsseg_mm.fileio import labels

from conftest import REPO, output_contents

BBAM_CFG = osp.join(REPO, 'configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py')
CAM_CFG = osp.join(REPO, 'configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py')
IRN_CFG = osp.join(REPO, 'configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py')
KINDS = ('fsync', 'replace', 'folder', 'torn')


class InjectedFault(Exception):
    """What the injected faults raise (no OSError: nothing in the write path may swallow it)."""


def build_model(cfg, seed: int):
    from mmengine.registry import MODELS, DefaultScope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        torch.manual_seed(seed)
        return MODELS.build(cfg.model).eval()


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, one_torch_thread):
    """4 toy images of 32 px, a random toy Faster R-CNN favouring the first class, a random CAM classifier (one
    scale, no flip) and IRNet, with their settings and datasets."""
    from wsseg_mm.toy import generate_toy_benchmark
    root = tmp_path_factory.mktemp('faults')
    generate_toy_benchmark(str(root), seed=2, image_size=32, num_train=4, num_val=1, videos=False, progress=False)
    voc = str(root / 'VOCdevkit' / 'VOC2012')
    bbam_cfg = apis.load_cfg(BBAM_CFG, {'train_dataloader.dataset.data_root': str(root / 'VOCdevkit')})
    detector = build_model(bbam_cfg, 0)
    with torch.no_grad():
        detector.roi_head.bbox_head.fc_cls.bias.zero_()
        detector.roi_head.bbox_head.fc_cls.bias[0] = 4.0
    settings = apis.bbam_settings(bbam_cfg)
    settings['explainer'].update(num_iters=2, num_proposals=8)
    options = {'label_dataloader.dataset.data_root': voc, 'model.backbone.init_cfg': None,
               'model.test_cfg.flip': False}
    cam_cfg = apis.load_cfg(CAM_CFG, dict(options, **{'model.test_cfg.scales': [1.0]}))
    irn_cfg = apis.load_cfg(IRN_CFG, options)
    return dict(detector=detector, settings=settings, dataset=apis.check_bbam_setup(bbam_cfg, settings, detector),
                cam=build_model(cam_cfg, 0), irnet=build_model(irn_cfg, 1),
                cam_dataset=apis.build_split_dataset(cam_cfg, 'label'),
                irn_dataset=apis.build_split_dataset(irn_cfg, 'label'),
                mining=apis.relation_mining_settings(cam_cfg, crf_iters=1),
                synthesis=apis.label_synthesis_settings(irn_cfg, exp_times=2, iterations=5))


@pytest.fixture
def inject(monkeypatch):
    """``inject(kind, n)`` arms a fault at the n-th call (from 1) of that step of the atomic writer, counted from
    the arming; ``inject(None, 0)`` disarms it."""
    state = dict(kind=None, n=0, calls=0, pending=None)
    fsync, replace = os.fsync, os.replace

    def strike(kind) -> bool:
        if state['kind'] != kind:
            return False
        state['calls'] += 1
        return state['calls'] == state['n']

    def leave_half_written(tmp):  # as a SIGKILL would: a temporary file holding part of the data
        data = open(tmp, 'rb').read()
        with open(osp.join(osp.dirname(tmp), '.tmp_killed_' + osp.basename(tmp)[5:]), 'wb') as f:
            f.write(data[:len(data) // 2])

    def faulty_fsync(fd):
        path = os.readlink(f'/proc/self/fd/{fd}') if osp.exists(f'/proc/self/fd/{fd}') else ''
        if osp.isdir(path):  # the folder's fsync, after the rename
            pending, state['pending'] = state['pending'], None
            if pending is not None:
                raise InjectedFault(pending)
            if strike('folder'):
                raise InjectedFault(f'folder fsync of {path}')
        elif strike('fsync'):
            leave_half_written(path)
            raise InjectedFault(f'fsync of {path}')
        return fsync(fd)

    def faulty_replace(src, dst):
        if strike('replace'):
            leave_half_written(src)
            raise InjectedFault(f'rename to {dst}')
        if osp.basename(dst) != apis.common.MANIFEST and strike('torn'):
            data = open(src, 'rb').read()
            replace(src, dst)
            with open(dst, 'wb') as f:
                f.write(data[:len(data) // 2])
            state['pending'] = f'torn {dst}'
            return None
        return replace(src, dst)

    monkeypatch.setattr(os, 'fsync', faulty_fsync)
    monkeypatch.setattr(os, 'replace', faulty_replace)

    def arm(kind, n):
        state.update(kind=kind, n=n, calls=0, pending=None)
    return arm


def outputs(folder):
    return output_contents(folder, manifest=True)


def temporaries(folder):
    return glob.glob(osp.join(str(folder), '**', '.tmp_*'), recursive=True)


def run_with_faults(run, out_dir, inject, seed, runs=6, max_n=4, other=None):
    """``runs`` runs of ``run(out_dir, settings_change)``, each with a fault at a random step among the first
    ``max_n`` of its kind, some with ``other`` post-processing settings, until one ends before its fault (nothing
    is left to write); then a clean full run. Returns the faults that stopped a run."""
    rng = random.Random(seed)
    stopped = []
    for _ in range(runs):
        fault = (rng.choice(KINDS), rng.randint(1, max_n))
        inject(*fault)
        try:
            run(out_dir, other if other is not None and rng.random() < 0.3 else {})
        except InjectedFault:
            stopped.append(fault)
        else:
            break
    inject(None, 0)
    run(out_dir, {})
    return stopped


def test_bbam_after_faults_equals_an_uninterrupted_run(tiny, tmp_path, inject):
    def run(out_dir, change):
        apis.generate_bbam_pseudo_labels(tiny['detector'], tiny['dataset'], str(out_dir),
                                         dict(tiny['settings'], **change))

    run(tmp_path / 'reference', {})
    reference = outputs(tmp_path / 'reference')
    assert len([k for k in reference if k.startswith('semantic/')]) == 4
    for seed in (0, 1):
        out = tmp_path / f'faulty_{seed}'
        stopped = run_with_faults(run, out, inject, seed, other=dict(fg_thr=0.5))
        assert len(stopped) >= 3, stopped  # the faults did strike
        assert outputs(out) == reference, stopped
        assert not temporaries(out)


def test_irnet_after_faults_equals_an_uninterrupted_run(tiny, tmp_path, inject):
    def cams(out_dir, change):
        apis.generate_irnet_cams(tiny['cam'], tiny['cam_dataset'], str(out_dir))

    def relations(out_dir, change):
        apis.generate_irnet_relations(tiny['cam_dataset'], str(tmp_path / 'reference' / 'cams'), str(out_dir),
                                      dict(tiny['mining'], **change))

    def pseudo_labels(out_dir, change):
        apis.generate_irnet_pseudo_labels(tiny['irnet'], tiny['irn_dataset'], str(tmp_path / 'reference' / 'cams'),
                                          str(out_dir), dict(tiny['synthesis'], **change))

    stages = dict(cams=(cams, None), relations=(relations, dict(bg_threshold=0.2)),
                  pseudo=(pseudo_labels, dict(sem_bg=0.5)))
    for name, (run, other) in stages.items():
        run(tmp_path / 'reference' / name, {})
    for seed, (name, (run, other)) in enumerate(stages.items()):
        out = tmp_path / f'faulty_{name}'
        stopped = run_with_faults(run, out, inject, seed, max_n=2, other=other)
        assert len(stopped) >= 3, (name, stopped)
        reference = outputs(tmp_path / 'reference' / name)
        assert outputs(out) == reference and len(reference) >= 5, (name, stopped)
        assert not temporaries(out), name


def test_a_torn_output_is_found_and_redone(tiny, tmp_path, inject):
    """The ``torn`` fault on its own: the rerun names the file, redoes it, and the result is the reference."""
    run = apis.generate_irnet_cams
    run(tiny['cam'], tiny['cam_dataset'], str(tmp_path / 'reference'))
    inject('torn', 1)  # the first image's CAMs (the manifest is never torn)
    with pytest.raises(InjectedFault):
        run(tiny['cam'], tiny['cam_dataset'], str(tmp_path / 'out'))
    torn = glob.glob(str(tmp_path / 'out' / '*.npz'))
    assert len(torn) == 1 and osp.getsize(torn[0]) > 0
    with pytest.raises(OSError, match=f'cannot read {torn[0]}'):
        labels.load_npz(torn[0])
    inject(None, 0)
    counts = run(tiny['cam'], tiny['cam_dataset'], str(tmp_path / 'out'))
    assert (counts['done'], counts['redone'], counts['skipped']) == (4, 1, 0)
    assert outputs(tmp_path / 'out') == outputs(tmp_path / 'reference')
