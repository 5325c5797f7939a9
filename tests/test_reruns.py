"""Reruns of the per-image tools (BBAM, IRNet's CAMs, relations and label synthesis) cannot trust stale or broken
outputs: the manifest (resume / redo post-processing / refuse, ``--overwrite``), strict checkpoint loading, durable
writes with the umask's mode, truncated files redone or named, ``--limit`` checked, CPU threads per process, and the
tools' log files.

Everything runs in-process on 3 toy images of 32 px with randomly initialised models (a few seconds in all).
"""
import argparse
import glob
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

import wsseg_mm  # noqa: F401
from wsseg_mm import apis
from wsseg_mm.apis import common
from wsseg_mm.fileio import labels

from conftest import REPO, output_contents

BBAM_CFG = osp.join(REPO, 'configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py')
CAM_CFG = osp.join(REPO, 'configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py')
IRN_CFG = osp.join(REPO, 'configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py')
EXPLAINER = dict(num_iters=2, num_proposals=8)  # over the config's (paper-like) explainer settings


def build_model(cfg, seed: int):
    """``cfg.model`` with random weights drawn from ``seed``, in eval mode."""
    from mmengine.registry import MODELS, DefaultScope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        torch.manual_seed(seed)
        return MODELS.build(cfg.model).eval()


def save_checkpoint(model, path) -> str:
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))
    return str(path)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, one_torch_thread):
    """3 toy images; two random toy Faster R-CNNs (seeds 0 and 1, the first class favoured, so some boxes have
    positives), a random CAM classifier (one scale, no flip) and IRNet; their configs, datasets and checkpoints."""
    from wsseg_mm.toy import generate_toy_benchmark
    root = tmp_path_factory.mktemp('reruns')
    generate_toy_benchmark(str(root), seed=1, image_size=32, num_train=3, num_val=1, videos=False, progress=False)
    voc = str(root / 'VOCdevkit' / 'VOC2012')
    bbam_options = {'train_dataloader.dataset.data_root': str(root / 'VOCdevkit')}
    bbam_cfg = apis.load_cfg(BBAM_CFG, bbam_options)
    detectors = []
    for seed in (0, 1):
        detector = build_model(bbam_cfg, seed)
        with torch.no_grad():
            detector.roi_head.bbox_head.fc_cls.bias.zero_()
            detector.roi_head.bbox_head.fc_cls.bias[0] = 4.0
        detectors.append(detector)
    settings = apis.bbam_settings(bbam_cfg)
    settings['explainer'].update(EXPLAINER)
    irnet_options = {'label_dataloader.dataset.data_root': voc, 'model.backbone.init_cfg': None,
                     'model.test_cfg.scales': [1.0], 'model.test_cfg.flip': False}
    cam_cfg = apis.load_cfg(CAM_CFG, irnet_options)
    irn_cfg = apis.load_cfg(IRN_CFG, {k: v for k, v in irnet_options.items() if 'scales' not in k})
    cams = [build_model(cam_cfg, seed) for seed in (0, 1)]
    ckpt = tmp_path_factory.mktemp('ckpt')
    return dict(root=root, voc=voc, bbam_cfg=bbam_cfg, bbam_options=bbam_options, settings=settings,
                detectors=detectors, dataset=apis.check_bbam_setup(bbam_cfg, settings, detectors[0]),
                cam_cfg=cam_cfg, cams=cams, irn_cfg=irn_cfg, irnet=build_model(irn_cfg, 2),
                cam_dataset=apis.build_split_dataset(cam_cfg, 'label'),
                irn_dataset=apis.build_split_dataset(irn_cfg, 'label'),
                detector_ckpt=save_checkpoint(detectors[0], ckpt / 'detector.pth'),
                cam_ckpt=save_checkpoint(cams[0], ckpt / 'cam.pth'))


def outputs(folder):
    return output_contents(folder, manifest=False)


def bbam(tiny, out_dir, detector=0, **changes):
    settings = dict(tiny['settings'], **changes)
    return apis.generate_bbam_pseudo_labels(tiny['detectors'][detector], tiny['dataset'], str(out_dir), settings)


# ---------------------------------------------------------------------------------------------- the manifest
def test_bbam_refuses_outputs_of_another_detector_or_explainer(tiny, tmp_path):
    bbam(tiny, tmp_path)
    before = outputs(tmp_path)
    manifest = json.load(open(tmp_path / 'manifest.json'))
    assert manifest['tool'] == 'bbam' and manifest['wsseg_mm'] == wsseg_mm.__version__
    assert manifest['stages']['explain']['model'] == common.model_fingerprint(tiny['detectors'][0])
    assert manifest['stages']['postprocess'] == dict(crf={}, fg_thr=0.8, bg_thr=0.2, proposals=dict(type='skimage'))
    with pytest.raises(ValueError) as error:
        bbam(tiny, tmp_path, detector=1)
    message = str(error.value)
    old, new = (common.model_fingerprint(d) for d in tiny['detectors'])
    assert f'explain.model: {old} -> {new}' in message and '--overwrite' in message
    with pytest.raises(ValueError, match=r'explain\.explainer\.num_iters: 2 -> 3') as error:
        bbam(tiny, tmp_path, explainer=dict(EXPLAINER, num_iters=3), fg_thr=0.5)
    assert 'postprocess.fg_thr: 0.8 -> 0.5' in str(error.value)  # every difference is listed
    assert outputs(tmp_path) == before  # nothing was touched


def test_bbam_post_processing_only_rerun_redoes_stage_two_from_the_saved_maps(tiny, tmp_path, monkeypatch):
    bbam(tiny, tmp_path / 'rerun')
    bbam(tiny, tmp_path / 'fresh', fg_thr=0.5, crf=None)
    attributions = {k: v for k, v in outputs(tmp_path / 'rerun').items() if k.startswith('attributions')}

    def refuse(*args, **kwargs):
        raise AssertionError('the attribution maps were computed again')

    monkeypatch.setattr(apis.bbam, 'explain_sample', refuse)
    summary = bbam(tiny, tmp_path / 'rerun', fg_thr=0.5, crf=None)
    assert summary['images'] == 3
    rerun = outputs(tmp_path / 'rerun')
    assert rerun == outputs(tmp_path / 'fresh')  # byte for byte, the attribution maps kept as they were
    assert {k: v for k, v in rerun.items() if k.startswith('attributions')} == attributions
    manifest = json.load(open(tmp_path / 'rerun' / 'manifest.json'))
    assert manifest['stages']['postprocess']['fg_thr'] == 0.5 and manifest['stages']['postprocess']['crf'] is None


def test_post_processing_reads_the_saved_float16_maps_with_or_without_a_kill_in_between(tiny, tmp_path,
                                                                                        monkeypatch):
    """Maps whose values sit between 0.8 and its nearest float16 (0.79980): from float32 they would be foreground,
    from the saved float16 maps undecided. An uninterrupted run and one killed after the maps were saved agree."""
    explain = apis.bbam.explain_sample
    value = np.float32(0.80003)
    assert float(value) > 0.8 > float(np.float16(value))

    def borderline(*args, **kwargs):
        result = explain(*args, **kwargs)
        maps = np.full(result['attributions'].shape, value, np.float32)
        for b, (x1, y1, x2, y2) in enumerate(result['boxes']):
            maps[b, int((y1 + y2) / 2), int((x1 + x2) / 2)] = 1.0  # the peak inside the box
        return dict(result, attributions=maps, num_positives=np.ones_like(result['num_positives']))

    monkeypatch.setattr(apis.bbam, 'explain_sample', borderline)
    bbam(tiny, tmp_path / 'uninterrupted', crf=None, proposals=None)
    save_png = apis.bbam.save_label_png

    def killed(*args):
        raise KeyboardInterrupt('killed after the attribution maps were saved')

    monkeypatch.setattr(apis.bbam, 'save_label_png', killed)
    with pytest.raises(KeyboardInterrupt):
        bbam(tiny, tmp_path / 'killed', crf=None, proposals=None)
    assert os.listdir(tmp_path / 'killed' / 'attributions') and not os.listdir(tmp_path / 'killed' / 'semantic')
    monkeypatch.setattr(apis.bbam, 'save_label_png', save_png)
    bbam(tiny, tmp_path / 'killed', crf=None, proposals=None)
    assert outputs(tmp_path / 'killed') == outputs(tmp_path / 'uninterrupted')
    for path in glob.glob(str(tmp_path / 'killed' / 'semantic' / '*.png')):  # only the peaks are foreground
        boxes = labels.load_npz(path.replace('semantic', 'attributions')[:-4] + '.npz')['boxes']
        semantic = labels.load_label_png(path)
        assert 0 < ((semantic != 0) & (semantic != 255)).sum() <= len(boxes) < (semantic == 255).sum()


def test_overwrite_starts_over(tiny, tmp_path):
    bbam(tiny, tmp_path / 'stale')
    bbam(tiny, tmp_path / 'fresh', detector=1)
    bbam(tiny, tmp_path / 'stale', detector=1, overwrite=True)
    assert outputs(tmp_path / 'stale') == outputs(tmp_path / 'fresh')
    manifest = json.load(open(tmp_path / 'stale' / 'manifest.json'))
    assert manifest['stages']['explain']['model'] == common.model_fingerprint(tiny['detectors'][1])


def test_outputs_without_a_manifest_are_refused(tiny, tmp_path):
    apis.generate_irnet_cams(tiny['cams'][0], tiny['cam_dataset'], str(tmp_path))
    os.remove(tmp_path / 'manifest.json')  # as an older wsseg_mm left them
    with pytest.raises(ValueError, match='no manifest.json: they were written by an older wsseg_mm'):
        apis.generate_irnet_cams(tiny['cams'][0], tiny['cam_dataset'], str(tmp_path))
    counts = apis.generate_irnet_cams(tiny['cams'][0], tiny['cam_dataset'], str(tmp_path), overwrite=True)
    assert counts['done'] == 3


def test_irnet_stages_resume_redo_and_refuse(tiny, tmp_path):
    cams, rel, pseudo = (str(tmp_path / d) for d in ('cams', 'relations', 'pseudo'))
    model, cam_ds, irn_ds = tiny['cams'][0], tiny['cam_dataset'], tiny['irn_dataset']
    mining = apis.relation_mining_settings(tiny['cam_cfg'], crf_iters=1)
    synthesis = apis.label_synthesis_settings(tiny['irn_cfg'], exp_times=2, iterations=5)
    assert apis.generate_irnet_cams(model, cam_ds, cams)['done'] == 3
    assert apis.generate_irnet_cams(model, cam_ds, cams)['skipped'] == 3  # the same model: resumed
    with pytest.raises(ValueError, match=r'cams\.model: sha256:\w+ -> sha256:\w+'):
        apis.generate_irnet_cams(tiny['cams'][1], cam_ds, cams)
    apis.generate_irnet_relations(cam_ds, cams, rel, mining)
    apis.generate_irnet_pseudo_labels(tiny['irnet'], irn_ds, cams, pseudo, synthesis)
    # other label-synthesis settings: every image redone from the saved CAMs, as a fresh run
    other = dict(synthesis, sem_bg=0.5)
    apis.generate_irnet_pseudo_labels(tiny['irnet'], irn_ds, cams, str(tmp_path / 'fresh'), other)
    apis.generate_irnet_pseudo_labels(tiny['irnet'], irn_ds, cams, pseudo, other)
    assert outputs(pseudo) == outputs(tmp_path / 'fresh')
    # other relation-mining settings: redone likewise
    counts = apis.generate_irnet_relations(cam_ds, cams, rel, dict(mining, bg_threshold=0.2))
    assert (counts['done'], counts['skipped']) == (3, 0)
    # CAMs of another model: what was made from the old ones is refused
    apis.generate_irnet_cams(tiny['cams'][1], cam_ds, cams, overwrite=True)
    with pytest.raises(ValueError, match=r'cams\.cams: "?\w+"? -> "?\w+"?'):
        apis.generate_irnet_relations(cam_ds, cams, rel, mining)
    with pytest.raises(ValueError, match=r'model\.cams: '):
        apis.generate_irnet_pseudo_labels(tiny['irnet'], irn_ds, cams, pseudo, other)


# ----------------------------------------------------------------------------------------- strict checkpoints
@pytest.mark.parametrize('config, wrong', [('cam_cfg', 'detector_ckpt'), ('bbam_cfg', 'cam_ckpt')])
def test_a_checkpoint_of_another_model_is_an_error_naming_the_keys(tiny, config, wrong):
    model = build_model(tiny[config], 0)
    state = torch.load(tiny[wrong], map_location='cpu', weights_only=False)['state_dict']
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state if k not in own]
    with pytest.raises(ValueError, match='does not fit the model') as error:
        apis.init_model(tiny[config], tiny[wrong], 'cpu')
    message = str(error.value)
    assert tiny[wrong] in message and f'{len(missing)} missing keys: {missing[0]}' in message
    assert f'{len(unexpected)} unexpected keys: {unexpected[0]}' in message


def test_the_right_checkpoint_loads_and_is_remembered(tiny):
    model = apis.init_model(tiny['cam_cfg'], tiny['cam_ckpt'], 'cpu')
    assert common.model_fingerprint(model) == common.model_fingerprint(tiny['cams'][0])
    assert common.checkpoint_info(model)['path'] == tiny['cam_ckpt']


# ------------------------------------------------------------------------------------------ durable writes
def test_atomic_writes_fsync_before_rename_and_honour_the_umask(tmp_path, monkeypatch):
    events = []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, 'fsync', lambda fd: events.append('fsync') or fsync(fd))
    monkeypatch.setattr(os, 'replace', lambda a, b: events.append('replace') or replace(a, b))
    old = os.umask(0o022)
    try:
        labels.atomic_write_bytes(str(tmp_path / 'a.bin'), b'data')
        assert events == ['fsync', 'replace', 'fsync']  # the file, the rename, the folder
        assert os.stat(tmp_path / 'a.bin').st_mode & 0o777 == 0o644  # not mkstemp's 0o600
        os.umask(0o027)
        labels.save_label_png(str(tmp_path / 'b.png'), np.zeros((2, 3), np.uint8))
        assert os.stat(tmp_path / 'b.png').st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_npz_bytes_do_not_depend_on_the_time_of_writing(tmp_path, monkeypatch):
    import time
    arrays = dict(a=np.arange(6, dtype=np.float16).reshape(2, 3), k=np.array([3, 1]))
    labels.atomic_save_npz(str(tmp_path / 'a.npz'), compressed=True, **arrays)
    monkeypatch.setattr(time, 'time', lambda: 2e9)  # another day
    labels.atomic_save_npz(str(tmp_path / 'b.npz'), compressed=True, **arrays)
    assert open(tmp_path / 'a.npz', 'rb').read() == open(tmp_path / 'b.npz', 'rb').read()
    loaded = labels.load_npz(str(tmp_path / 'a.npz'))
    assert loaded['a'].dtype == np.float16 and np.array_equal(loaded['a'], arrays['a'])


def truncate(path, keep: float):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_readers_name_a_truncated_file(tmp_path):
    labels.atomic_save_npz(str(tmp_path / 'a.npz'), x=np.zeros(100))
    labels.save_label_png(str(tmp_path / 'a.png'), np.zeros((20, 30), np.uint8))
    labels.atomic_write_bytes(str(tmp_path / 'a.json'), json.dumps(dict(images=[], annotations=[])).encode())
    for name, read in (('a.npz', labels.load_npz), ('a.png', labels.load_label_png),
                       ('a.json', labels.load_coco_instances)):
        path = str(tmp_path / name)
        labels.check_readable(path)
        for keep in (0.5, 0.0):
            truncate(path, keep) if keep else open(path, 'wb').close()
            with pytest.raises(OSError, match=f'cannot read {path}'):
                read(path)
            with pytest.raises(OSError, match=f'cannot read {path}'):
                labels.check_readable(path)


def test_truncated_outputs_are_redone_with_a_warning_naming_them(tiny, tmp_path):
    model, dataset = tiny['cams'][0], tiny['cam_dataset']
    apis.generate_irnet_cams(model, dataset, str(tmp_path))
    names = sorted(f for f in os.listdir(tmp_path) if f.endswith('.npz'))
    before = outputs(tmp_path)
    open(tmp_path / names[0], 'wb').close()  # what a crash without fsync leaves
    truncate(tmp_path / names[1], 0.6)
    with pytest.raises(OSError, match=f'cannot read {tmp_path / names[0]}'):
        apis.load_cams(str(tmp_path), names[0][:-4])
    with apis.tool_log(str(tmp_path / 'log'), 'cams'):
        counts = apis.generate_irnet_cams(model, dataset, str(tmp_path))
    assert (counts['done'], counts['redone'], counts['skipped']) == (2, 2, 1)
    log = open(glob.glob(str(tmp_path / 'log' / 'cams_*.log'))[0]).read()
    assert all(f'cannot read {tmp_path / n}' in log for n in names[:2])
    assert '2 written, 1 already done (of 3); 2 redone because an output did not load' in log
    assert outputs(tmp_path) == before


# --------------------------------------------------------------------------------------------------- --limit
def tool(path):
    """A fresh copy of a tool's module."""
    spec = importlib.util.spec_from_file_location('tool_' + osp.basename(path)[:-3], osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('value', ['0', '-3', 'two'])
def test_limit_must_be_a_positive_number(value, capsys):
    with pytest.raises(SystemExit):
        tool('tools/bbam.py').parse_args(['config.py', 'checkpoint.pth', '--limit', value])
    assert 'argument --limit' in capsys.readouterr().err
    assert tool('tools/bbam.py').parse_args(['c.py', 'k.pth', '--limit', '2']).limit == 2
    with pytest.raises(argparse.ArgumentTypeError, match='not a positive number'):
        apis.positive_int('0')


@pytest.mark.parametrize('limit', [0, -1, 1.5, True, '2'])
def test_the_api_rejects_a_limit_that_is_not_a_positive_integer(limit):
    with pytest.raises(ValueError, match=f'limit={limit!r}'):
        apis.merge_bbam_settings(dict(limit=limit))
    assert apis.merge_bbam_settings(dict(limit=np.int64(2)))['limit'] == 2


# ----------------------------------------------------------------------------------------------- CPU threads
@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_cpu_threads_are_the_cores_of_this_process_over_the_processes_of_its_node(monkeypatch, restore_threads):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: set(range(8)), raising=False)
    for var in ('OMP_NUM_THREADS', 'LOCAL_WORLD_SIZE', 'SLURM_NTASKS_PER_NODE'):
        monkeypatch.delenv(var, raising=False)
    assert common.set_cpu_threads() == 8 == torch.get_num_threads()  # one process, not distributed
    assert common.set_cpu_threads(3) == 2 and common.set_cpu_threads(16) == 1
    monkeypatch.setenv('SLURM_NTASKS_PER_NODE', '4')
    assert common.set_cpu_threads() == 2
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '8')  # torchrun's count wins over slurm's
    assert common.set_cpu_threads() == 1
    monkeypatch.setenv('OMP_NUM_THREADS', '3')  # the user's choice wins
    assert common.set_cpu_threads() == 3
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)  # CUDA in use: left alone
    torch.set_num_threads(5)
    assert common.set_cpu_threads() == 5


# ----------------------------------------------------------------------------------------------- log files
def test_per_image_tools_log_to_their_output_folder(tiny, tmp_path, restore_threads):
    voc = tiny['voc']
    cams = str(tmp_path / 'cams')
    irnet_options = ['--cfg-options', f'label_dataloader.dataset.data_root={voc}', 'model.test_cfg.scales=[1.0]',
                     'model.test_cfg.flip=False']
    tool('tools/irnet/make_cams.py').main([CAM_CFG, tiny['cam_ckpt'], '--out-dir', cams, *irnet_options])
    tool('tools/irnet/make_cams.py').main([CAM_CFG, tiny['cam_ckpt'], '--out-dir', cams, *irnet_options])
    tool('tools/irnet/mine_relations.py').main([CAM_CFG, '--cam-dir', cams, '--out-dir', str(tmp_path / 'rel'),
                                                '--crf-iters', '1', *irnet_options])
    out = str(tmp_path / 'bbam')
    tool('tools/bbam.py').main([BBAM_CFG, tiny['detector_ckpt'], '--out-dir', out, '--limit', '2', '--cfg-options',
                                f'train_dataloader.dataset.data_root={tiny["bbam_options"]["train_dataloader.dataset.data_root"]}',
                                'custom_hooks.0.explainer.num_iters=2', 'custom_hooks.0.explainer.num_proposals=8'])
    logs = sorted(glob.glob(osp.join(cams, 'make_cams_*.log')))
    text = ''.join(open(p).read() for p in logs)  # two runs: two files, or one if both began in the same second
    assert 'make_cams: wsseg_mm' in text and "'out_dir': '" + cams in text and 'torch threads' in text
    assert 'CAMs: rank 0/1: 3 written, 0 already done (of 3)' in text
    assert 'CAMs: rank 0/1: 0 written, 3 already done (of 3)' in text and 'resuming in' in text
    assert text.count('make_cams: finished in') == 2
    rel_log = open(glob.glob(osp.join(tmp_path, 'rel', 'mine_relations_*.log'))[0]).read()
    assert 'relations: rank 0/1: 3 written' in rel_log and "'crf_iters': 1" in rel_log
    bbam_log = open(glob.glob(osp.join(out, 'bbam_*.log'))[0]).read()
    assert 'BBAM: 2 of the 3 images of the dataset (limit 2)' in bbam_log
    assert 'BBAM: rank 0/1: 2 written, 0 already done (of 2)' in bbam_log and 'bbam: finished in' in bbam_log
    assert json.load(open(osp.join(out, 'manifest.json')))['info']['checkpoint']['path'] == tiny['detector_ckpt']


def test_a_refused_run_logs_why(tiny, tmp_path, restore_threads):
    cams = str(tmp_path / 'cams')
    apis.generate_irnet_cams(tiny['cams'][1], tiny['cam_dataset'], cams)  # another model's CAMs
    with pytest.raises(ValueError, match='cams.model'):
        tool('tools/irnet/make_cams.py').main([CAM_CFG, tiny['cam_ckpt'], '--out-dir', cams, '--cfg-options',
                                               f'label_dataloader.dataset.data_root={tiny["voc"]}',
                                               'model.test_cfg.scales=[1.0]', 'model.test_cfg.flip=False'])
    log = open(glob.glob(osp.join(cams, 'make_cams_*.log'))[0]).read()
    assert 'make_cams: stopped after' in log and 'cams.model: sha256:' in log and '--overwrite' in log
