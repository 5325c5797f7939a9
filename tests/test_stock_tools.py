"""The tools as users of mmseg / mmdet know them: the slurm wrappers (their command lines, checked with a fake
``srun``), a stock SyncBN config trained by mmseg's own ``train.py`` in CPU processes, and ``tools/test.py --out``
/ ``--tta`` doing what each library's own ``test.py`` does (prediction PNGs for mmseg; a compact
``DumpDetResults`` pickle for mmdet, which ``InstanceAPMetric`` scores offline to the online figure)."""
import importlib.util
import os
import os.path as osp
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import wsseg_mm  # noqa: F401

from conftest import REPO, run_tool

SEG_CFG = osp.join(REPO, 'configs/toy/fcn_r18-tiny_1k_toy-scribble.py')
MASK_CFG = osp.join(REPO, 'configs/toy/mask-rcnn_r18-tiny_fpn_20e_toy-pseudo.py')
DET_CFG = osp.join(REPO, 'configs/toy/faster-rcnn_r18-tiny_fpn_20e_toy-boxes.py')
STOCK_MMSEG_TRAIN = osp.join(osp.dirname(__import__('mmseg').__file__), '.mim', 'tools', 'train.py')


# ---------------------------------------------------------------- slurm wrappers, with a fake srun on PATH

FAKE_SRUN = """#!/usr/bin/env bash
# prints its arguments one per line between < >, then the PYTHONPATH it was given
for arg in "$@"; do printf '<%s>\\n' "$arg"; done
printf 'PYTHONPATH=%s\\n' "$PYTHONPATH"
"""


@pytest.fixture
def fake_srun(tmp_path):
    """Run a script with a fake ``srun`` first on PATH; returns ``run(script, *args, **env) -> (argv, pythonpath)``
    (``argv``: the arguments srun received) or the CompletedProcess when ``expect_fail``."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)

    def run(script, *args, expect_fail=False, **env):
        full_env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', **env)
        full_env.pop('PYTHONPATH', None)
        for var in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'GRES', 'SRUN_ARGS', 'PYTHON'):
            if var not in env:
                full_env.pop(var, None)
        proc = subprocess.run(['bash', script, *args], cwd=REPO, env=full_env, capture_output=True, text=True,
                              timeout=60)
        if expect_fail:
            assert proc.returncode != 0
            return proc
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        argv = [line[1:-1] for line in lines if line.startswith('<')]
        return argv, [line for line in lines if line.startswith('PYTHONPATH=')][0][len('PYTHONPATH='):]

    return run


def test_slurm_test_passes_every_argument_through(fake_srun):
    argv, pythonpath = fake_srun('tools/slurm_test.sh', 'gpu', 'my job', 'configs/a b.py', 'ckpt.pth', '--out',
                                 'out dir', '--cfg-options', 'work_dir=/tmp/with space', SRUN_ARGS='--qos=high -x n1',
                                 GPUS='2', GPUS_PER_NODE='2')
    assert argv == ['-p', 'gpu', '--job-name=my job', '--gres=gpu:2', '--ntasks=2', '--ntasks-per-node=2',
                    '--cpus-per-task=5', '--kill-on-bad-exit=1', '--qos=high', '-x', 'n1', 'python', '-u',
                    'tools/test.py', 'configs/a b.py', 'ckpt.pth', '--out', 'out dir', '--cfg-options',
                    'work_dir=/tmp/with space', '--launcher=slurm']
    assert pythonpath == 'tools/..'


def test_slurm_per_image_tools_on_gpu_and_cpu_nodes(fake_srun):
    argv, _ = fake_srun('tools/slurm_bbam.sh', 'gpu', 'bbam', 'cfg.py', 'det.pth', '--out-dir', 'pseudo masks',
                        PYTHON='.venv/bin/python')
    assert argv == ['-p', 'gpu', '--job-name=bbam', '--gres=gpu:8', '--ntasks=8', '--ntasks-per-node=8',
                    '--cpus-per-task=5', '--kill-on-bad-exit=1', '.venv/bin/python', '-u', 'tools/bbam.py',
                    'cfg.py', 'det.pth', '--out-dir', 'pseudo masks', '--launcher=slurm']
    # a CPU-only partition: GRES empty -> no --gres; the tool from a path under tools/
    argv, _ = fake_srun('tools/slurm_tool.sh', 'cpu', 'cams', 'irnet/make_cams.py', 'cfg.py', 'cam.pth',
                        '--out-dir', 'cams', GRES='', GPUS='4', GPUS_PER_NODE='2', CPUS_PER_TASK='1')
    assert argv == ['-p', 'cpu', '--job-name=cams', '--ntasks=4', '--ntasks-per-node=2', '--cpus-per-task=1',
                    '--kill-on-bad-exit=1', 'python', '-u', 'tools/irnet/make_cams.py', 'cfg.py', 'cam.pth',
                    '--out-dir', 'cams', '--launcher=slurm']
    argv, _ = fake_srun('tools/slurm_tool.sh', 'p', 'j', 'tools/irnet/mine_relations.py', 'cfg.py', '--cam-dir',
                        'c', '--out-dir', 'r')
    assert argv[argv.index('-u') + 1:] == ['tools/irnet/mine_relations.py', 'cfg.py', '--cam-dir', 'c',
                                           '--out-dir', 'r', '--launcher=slurm']
    # tools that run in one process, unknown tools and missing arguments are refused before srun
    proc = fake_srun('tools/slurm_tool.sh', 'p', 'j', 'tools/irnet/benchmark.py', 'cfg.py', expect_fail=True)
    assert 'has no --launcher option' in proc.stderr and '<' not in proc.stdout
    proc = fake_srun('tools/slurm_tool.sh', 'p', 'j', 'irnet/nothing.py', expect_fail=True)
    assert 'no tool irnet/nothing.py' in proc.stderr
    proc = fake_srun('tools/slurm_test.sh', 'p', 'j', 'cfg.py', expect_fail=True)
    assert 'usage:' in proc.stderr


SRUN_TASKS = """#!/usr/bin/env bash
# a one-node srun: starts --ntasks copies of the command with the SLURM variables of each task, waits for all
tasks=1
while [ $# -gt 0 ]; do
    case "$1" in
        -p) shift 2 ;;
        --ntasks=*) tasks=${1#--ntasks=}; shift ;;
        -*) shift ;;
        *) break ;;
    esac
done
pids=()
for ((i = 0; i < tasks; i++)); do
    SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$tasks SLURM_NODELIST=localhost MASTER_ADDR=127.0.0.1 "$@" &
    pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
exit $rc
"""


@pytest.mark.slow  # two CPU processes import the stack and test the toy FCN
def test_slurm_test_runs_on_a_cpu_node(toy_voc, tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(SRUN_TASKS)
    (bin_dir / 'srun').chmod(0o755)
    ckpt = random_checkpoint(SEG_CFG, tmp_path / 'fcn.pth')
    log = run_tool(['bash', 'tools/slurm_test.sh', 'cpu', 'toy test', SEG_CFG, ckpt, '--work-dir',
                    str(tmp_path / 'work dir'), '--out', str(tmp_path / 'pngs'), '--cfg-options',
                    *loader_options(toy_voc, ['test'])],
                   env_extra=dict(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GRES='', GPUS='2',
                                  GPUS_PER_NODE='2', CPUS_PER_TASK='1', PYTHON=sys.executable,
                                  MASTER_PORT=str(free_port()), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES=''))
    assert 'mIoU' in log and 'Distributed launcher: slurm' in log and 'GPU number: 2' in log  # 2 gloo ranks
    assert len(list((tmp_path / 'pngs').iterdir())) == 2  # both val images, one per rank


# ---------------------------------------------------------------- SyncBN configs on CPU processes

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_ddp_reverts_sync_bn_on_cpu(monkeypatch):
    """What ``Runner.wrap_model`` builds for a SyncBN model in a gloo process: mmengine's wrapper refuses it,
    the patched one wraps the model with plain BN (weights and statistics kept)."""
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.SyncBatchNorm(4), torch.nn.ReLU())
    model[1].running_mean.fill_(0.5)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0, world_size=1)
    try:
        with pytest.raises(ValueError, match='SyncBatchNorm layers only work with GPU modules'):
            MMDistributedDataParallel.__init__.__wrapped__(MMDistributedDataParallel.__new__(
                MMDistributedDataParallel), module=model, device_ids=None)
        wrapped = MMDistributedDataParallel(module=model, device_ids=[0], broadcast_buffers=False)
    finally:
        dist.destroy_process_group()
    norms = [m for m in wrapped.module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert len(norms) == 1 and not isinstance(norms[0], torch.nn.SyncBatchNorm)
    assert torch.equal(norms[0].running_mean, torch.full((4,), 0.5))
    assert torch.equal(norms[0].weight, model[1].weight)
    assert wrapped.device_ids is None


USER_SYNCBN_CONFIG = """
# a user's config: mmseg's FCN (SyncBN, as mmseg ships it) on the toy scribbles, with wsseg_mm mixed in
_base_ = ['mmseg::_base_/models/fcn_r50-d8.py', '{repo}/configs/_base_/datasets/toy_voc_scribble.py',
          'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py']
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(size=(128, 128)), pretrained=None,
    backbone=dict(depth=18, stem_channels=8, base_channels=8),
    decode_head=dict(in_channels=64, channels=16, num_classes=7, loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(in_channels=32, channels=8, num_classes=7, loss_decode=dict(avg_non_ignore=True)))
"""


@pytest.fixture(scope='module')
def toy_voc(tmp_path_factory):
    """The toy VOC folder (4 train, 2 val images at 64 x 64) with its val instances as COCO JSON."""
    from wsseg_mm.datasets.converters import voc_instances_to_coco
    from wsseg_mm.metainfo import TOY_CLASSES
    from wsseg_mm.toy import generate_toy_benchmark
    root = str(tmp_path_factory.mktemp('toy'))
    generate_toy_benchmark(root, seed=0, image_size=64, num_train=4, num_val=2, videos=False, progress=False)
    voc = osp.join(root, 'VOCdevkit', 'VOC2012')
    voc_instances_to_coco(voc, 'val', TOY_CLASSES, progress=False).dump(osp.join(voc, 'annotations',
                                                                                'val_instances.json'))
    return voc


def loader_options(voc, splits=('train', 'val', 'test')):
    options = []
    for split in splits:
        options += [f'{split}_dataloader.dataset.data_root={voc}', f'{split}_dataloader.num_workers=0',
                    f'{split}_dataloader.persistent_workers=False']
    return options


@pytest.mark.slow  # two fresh interpreters import the stack and train two iterations
def test_stock_mmseg_train_with_sync_bn_in_two_cpu_processes(toy_voc, tmp_path):
    cfg = tmp_path / 'fcn_syncbn_toy.py'
    cfg.write_text(USER_SYNCBN_CONFIG.format(repo=REPO))
    log = run_tool([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                    f'--master_port={free_port()}', STOCK_MMSEG_TRAIN, str(cfg), '--launcher', 'pytorch',
                    '--work-dir', str(tmp_path / 'work'), '--cfg-options', *loader_options(toy_voc),
                    'train_dataloader.batch_size=2', 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
                    'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=100',
                    'default_hooks.logger.interval=1'],
                   env_extra=dict(OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES=''))
    assert 'Iter(train) [2/2]' in log
    assert 'SyncBN layers of the model are plain BN' in log
    assert 'SyncBatchNorm layers only work with GPU modules' not in log


# ---------------------------------------------------------------- tools/test.py --out and --tta

def load_test_tool():
    spec = importlib.util.spec_from_file_location('wsseg_test_tool', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_checkpoint(config, path, seed=0):
    """A checkpoint of the config's model at its (seeded) initialisation: what --out writes is the tool's
    business, not the model's quality."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    cfg = Config.fromfile(config)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
        model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))
    return str(path)


@pytest.mark.slow  # builds and tests two models in this process (~20 s)
def test_out_writes_what_each_library_writes(toy_voc, tmp_path, one_torch_thread):
    import mmengine
    from mmengine.config import Config
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DATASETS, init_default_scope
    tool = load_test_tool()

    # mmseg: --out DIR -> one label PNG per test image, what the metric scored
    ckpt = random_checkpoint(SEG_CFG, tmp_path / 'fcn.pth')
    out_dir = tmp_path / 'pngs'
    metrics = tool.main([SEG_CFG, ckpt, '--work-dir', str(tmp_path / 'w1'), '--out', str(out_dir),
                         '--cfg-options', *loader_options(toy_voc, ['test'])])
    assert 'mIoU' in metrics
    val = open(osp.join(toy_voc, 'ImageSets/Segmentation/val.txt')).read().split()
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f'{name}.png' for name in val)
    for name in val:
        pred = np.asarray(Image.open(out_dir / f'{name}.png'))
        gt = np.asarray(Image.open(osp.join(toy_voc, 'SegmentationClass', f'{name}.png')))
        assert pred.shape == gt.shape and pred.dtype == np.uint8 and pred.max() < 7

    # mmdet: --out x.pkl -> DumpDetResults: predictions only, masks as RLE
    ckpt = random_checkpoint(MASK_CFG, tmp_path / 'mask.pth')
    ann_file = osp.join(toy_voc, 'annotations', 'val_instances.json')
    options = [*loader_options(toy_voc, ['test']), f'test_evaluator.0.ann_file={ann_file}',
               'model.test_cfg.rcnn.score_thr=0.0']
    pkl = str(tmp_path / 'mask.pkl')
    online = tool.main([MASK_CFG, ckpt, '--work-dir', str(tmp_path / 'w2'), '--out', pkl, '--cfg-options',
                        *options])
    with open(pkl, 'rb') as f:
        dumped = pickle.load(f)
    assert len(dumped) == 2
    for sample in dumped:
        assert 'gt_instances' not in sample and 'ignored_instances' not in sample
        masks = sample['pred_instances']['masks']
        assert len(masks) > 0 and all(isinstance(m, dict) and 'counts' in m for m in masks)
    assert online['ins/AP50'] >= 0 and 'coco/segm_mAP' in online

    # scored offline as mmdet's tools/analysis_tools/eval_metric.py does: the online figures
    cfg = Config.fromfile(MASK_CFG)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options if 'ann_file' not in o))
    cfg.test_evaluator[0].ann_file = ann_file
    cfg.test_evaluator[1].ann_file = ann_file
    init_default_scope(cfg.default_scope)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = DATASETS.build(cfg.test_dataloader.dataset).metainfo
    offline = evaluator.offline_evaluate(mmengine.load(pkl))
    assert offline == pytest.approx(online)
    assert set(offline) == set(online) and offline['ins/ABO'] > 0

    # without ann_file the metric says which key to set
    bare = Evaluator(dict(type='InstanceAPMetric'))
    bare.dataset_meta = evaluator.dataset_meta
    with pytest.raises(ValueError, match='set ann_file='):
        bare.offline_evaluate(mmengine.load(pkl))


def test_instance_ap_scores_predictions_without_ground_truth_from_ann_file(toy_voc):
    """The same predictions scored with ``gt_instances`` (online) and from ``ann_file`` by ``img_id`` (a dumped
    pickle: masks as RLE, no ground truth) give the same figures; the ground truth itself scores 100."""
    from mmdet.datasets.api_wrappers import COCO
    from mmdet.structures.mask import BitmapMasks, encode_mask_results

    from wsseg_mm.evaluation import InstanceAPMetric
    from wsseg_mm.metainfo import TOY_CLASSES
    ann_file = osp.join(toy_voc, 'annotations', 'val_instances.json')
    coco = COCO(ann_file)
    cat_ids = coco.get_cat_ids(cat_names=TOY_CLASSES[1:])
    rng = np.random.default_rng(0)
    for shift in (0, 2):
        online, offline = InstanceAPMetric(), InstanceAPMetric(ann_file=ann_file)
        online.dataset_meta = offline.dataset_meta = dict(classes=TOY_CLASSES[1:])
        for img_id, info in coco.imgs.items():
            anns = coco.imgToAnns[img_id]
            gt = np.stack([coco.annToMask(a) for a in anns]).astype(bool)
            labels = torch.tensor([cat_ids.index(a['category_id']) for a in anns])
            pred = np.roll(gt, shift, axis=2)  # shifted copies of the ground truth
            if shift:
                pred = np.concatenate([pred, rng.random((1, *gt.shape[1:])) < 0.3])  # and a false positive
                pred_labels = torch.cat([labels, torch.tensor([0])])
            else:
                pred_labels = labels
            scores = torch.from_numpy(rng.random(len(pred))).float()
            online.process({}, [dict(img_id=img_id, pred_instances=dict(
                masks=torch.from_numpy(pred), labels=pred_labels, scores=scores), gt_instances=dict(
                masks=BitmapMasks(gt.astype(np.uint8), info['height'], info['width']), labels=labels))])
            offline.process({}, [dict(img_id=img_id, img_path=info['file_name'], pred_instances=dict(
                masks=encode_mask_results(pred), labels=pred_labels, scores=scores))])
        figures = online.compute_metrics(online.results)
        assert offline.compute_metrics(offline.results) == figures
        if shift == 0:
            assert figures == dict(AP50=100.0, AP70=100.0, ABO=100.0)
        else:
            assert 0 < figures['ABO'] < 100
    with pytest.raises(KeyError, match='not an image of ann_file'):
        offline.process({}, [dict(img_id=999, img_path='x.jpg', pred_instances=dict(masks=[], labels=[], scores=[]))])


def test_out_folder_is_for_mmseg_models_only(tmp_path):
    tool = load_test_tool()
    args = tool.parse_args([MASK_CFG, 'x.pth', '--out', str(tmp_path / 'folder')])
    with pytest.raises(RuntimeError, match='give a .pkl path'):
        tool.build_cfg(args)
    cfg = tool.build_cfg(tool.parse_args([SEG_CFG, 'x.pth', '--out', str(tmp_path / 'pngs')]))
    assert cfg.test_evaluator.output_dir == str(tmp_path / 'pngs') and cfg.test_evaluator.keep_results
    args = tool.parse_args([osp.join(REPO, 'configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py'), 'x.pth', '--out',
                            str(tmp_path / 'pngs')])
    with pytest.raises(RuntimeError, match='needs a test_evaluator metric with output_dir'):
        tool.build_cfg(args)


def test_tta_on_a_detector_without_tta_model_is_flip_tta(tmp_path):
    tool = load_test_tool()
    with pytest.warns(UserWarning, match='DetTTAModel'):
        cfg = tool.build_cfg(tool.parse_args([DET_CFG, 'x.pth', '--tta']))
    assert cfg.model.type == 'DetTTAModel' and cfg.model.module.type == 'FasterRCNN'
    assert cfg.model.tta_cfg == dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[:-1] == config_test_pipeline(DET_CFG)[:-1]
    assert pipeline[-1]['type'] == 'TestTimeAug'
    assert pipeline[-1]['transforms'][0] == [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)]
    assert 'flip' in pipeline[-1]['transforms'][1][0]['meta_keys']
    with pytest.raises(RuntimeError, match='merges boxes only'):
        tool.build_cfg(tool.parse_args([MASK_CFG, 'x.pth', '--tta']))
    cfg = tool.build_cfg(tool.parse_args([SEG_CFG, 'x.pth', '--tta']))  # mmseg: the config's own
    assert cfg.model.type == 'SegTTAModel' and cfg.model.module.type == 'EncoderDecoder'


def config_test_pipeline(path):
    from mmengine.config import Config
    return Config.fromfile(path).test_dataloader.dataset.pipeline


@pytest.mark.slow  # tests a Faster R-CNN with flip TTA on the toy val images
def test_tta_detector_runs(toy_voc, tmp_path, one_torch_thread):
    tool = load_test_tool()
    ckpt = random_checkpoint(DET_CFG, tmp_path / 'det.pth')
    devkit = osp.dirname(toy_voc)
    with pytest.warns(UserWarning, match='DetTTAModel'):
        metrics = tool.main([DET_CFG, ckpt, '--work-dir', str(tmp_path / 'w'), '--tta', '--cfg-options',
                             f'test_dataloader.dataset.data_root={devkit}', 'test_dataloader.num_workers=0',
                             'test_dataloader.persistent_workers=False'])
    assert 'pascal_voc/mAP' in metrics
