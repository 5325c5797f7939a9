"""The stack workarounds of wsseg_mm.compat: DRN shim, checkpoint resume under torch's weights_only, CPU dist;
which of them act, and turning them off with WSSEG_MM_PATCHES."""
import copy
import os
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

import wsseg_mm  # noqa: F401
from wsseg_mm import compat
from wsseg_mm.compat import adapt_cfg_to_device, replace_sync_bn

from conftest import REPO


def test_mmaction_models_import_and_drn_refuses_to_build():
    import mmaction.models  # noqa: F401  (fails without the shim)
    from mmaction.models.localizers.drn.drn import DRN
    with pytest.raises(RuntimeError, match='without mmaction/models/localizers/drn'):
        DRN()


def test_replace_sync_bn_recurses_without_touching_other_types():
    cfg = dict(model=dict(backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
                          heads=[dict(norm_cfg=dict(type='SyncBN')), dict(norm_cfg=dict(type='GN'))]))
    out = replace_sync_bn(copy.deepcopy(cfg))
    assert out['model']['backbone']['norm_cfg'] == dict(type='BN', requires_grad=True)
    assert [h['norm_cfg']['type'] for h in out['model']['heads']] == ['BN', 'GN']


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU adaptation is a no-op where CUDA exists')
def test_adapt_cfg_to_cpu_sets_gloo():
    cfg = Config(dict(model=dict(norm_cfg=dict(type='SyncBN')), env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    adapt_cfg_to_device(cfg)
    assert cfg.model.norm_cfg.type == 'BN' and cfg.env_cfg.dist_cfg.backend == 'gloo'


class ToyRegressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        targets = torch.stack(targets) if isinstance(targets, (list, tuple)) else targets
        pred = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((pred - targets) ** 2).mean())
        return pred


class ToyData(torch.utils.data.Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        x = torch.tensor([float(i), 1.0])
        return dict(inputs=x, targets=x[:1] * 2)


def make_runner(work_dir, max_iters, resume=False):
    return Runner(model=ToyRegressor(), work_dir=str(work_dir),
                  train_dataloader=dict(dataset=ToyData(), sampler=dict(type='DefaultSampler', shuffle=False),
                                        batch_size=4, collate_fn=dict(type='default_collate')),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
                  train_cfg=dict(by_epoch=False, max_iters=max_iters),
                  default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
                  resume=resume, default_scope='mmengine', experiment_name=f'resume_{max_iters}_{resume}')


def test_save_and_resume_round_trip(tmp_path):
    first = make_runner(tmp_path, max_iters=2)
    first.train()
    weights = first.model.linear.weight.detach().clone()
    ckpt = torch.load(tmp_path / 'iter_2.pth', map_location='cpu')  # weights_only=True by default in torch>=2.6
    assert 'message_hub' in ckpt and ckpt['meta']['iter'] == 2
    second = make_runner(tmp_path, max_iters=4, resume=True)
    second.load_or_resume()  # what train() does first
    assert second.iter == 2
    assert torch.equal(second.model.linear.weight, weights)
    second.train()
    assert second.iter == 4 and (tmp_path / 'iter_4.pth').exists()
    assert second.message_hub.get_scalar('train/loss').data[0].size == 4  # loss history of iters 1..4 restored


def test_patch_selection():
    every = ['pkg_resources_warning', 'torch_load', 'cpu_distributed', 'mmaction_drn', 'default_checks']
    assert list(compat.PATCHES) == every
    assert compat.selected_patches('all') == compat.selected_patches('') == every
    assert compat.selected_patches('none') == []
    assert compat.selected_patches('mmaction_drn, torch_load') == ['torch_load', 'mmaction_drn']  # applied in order
    assert compat.selected_patches('-cpu_distributed,-torch_load') == ['pkg_resources_warning', 'mmaction_drn',
                                                                       'default_checks']
    for bad in ('torch-load', '-nope', 'torch_load,-mmaction_drn'):
        with pytest.raises(ValueError, match='WSSEG_MM_PATCHES'):
            compat.selected_patches(bad)


@pytest.mark.skipif(os.environ.get(compat.PATCHES_ENV, 'all') != 'all', reason='patches selected by the environment')
def test_import_applies_every_patch_the_stack_needs():
    import mmaction
    drn_missing = not os.path.isdir(os.path.join(os.path.dirname(mmaction.__file__), 'models', 'localizers', 'drn'))
    expected = ['pkg_resources_warning'] + ['torch_load'] * compat.torch_loads_weights_only() + ['cpu_distributed'] + \
        ['mmaction_drn'] * drn_missing + ['default_checks']
    assert compat.applied_patches() == expected


def test_torch_load_patch_only_where_torch_loads_weights_only(monkeypatch):
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    monkeypatch.setattr(torch, '__version__', '2.5.1+cpu')
    assert not compat.torch_loads_weights_only()
    monkeypatch.setattr(torch, '__version__', '2.6.0')
    assert compat.torch_loads_weights_only()
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')  # torch then unpickles everything: nothing to fix
    assert not compat.torch_loads_weights_only()
    assert compat.patch_torch_load.__wrapped__() is False


def test_drn_stub_only_where_mmaction_lacks_drn(monkeypatch):
    monkeypatch.setattr(compat.importlib.util, 'find_spec', lambda name: None)  # mmaction2 not installed
    assert compat.patch_mmaction_drn.__wrapped__() is False


def test_init_dist_defers_to_mmengine_where_cuda_exists(monkeypatch):
    calls = []
    wrapped = compat._init_dist_pytorch_cpu_aware(lambda backend, **kwargs: calls.append(('mmengine', backend)))
    monkeypatch.setattr(torch.distributed, 'init_process_group',
                        lambda backend, **kwargs: calls.append(('torch', backend)))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    wrapped('nccl')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    wrapped('nccl')
    assert calls == [('mmengine', 'nccl'), ('torch', 'gloo')]


def test_ddp_keeps_device_ids_of_modules_off_the_cpu():
    kwargs = dict(device_ids=[0], broadcast_buffers=False)
    assert compat._ddp_kwargs_for(nn.Linear(2, 2), kwargs) == dict(device_ids=None, broadcast_buffers=False)
    assert compat._ddp_kwargs_for(nn.Linear(2, 2, device='meta'), kwargs) == kwargs
    assert kwargs['device_ids'] == [0]  # the caller's dict is left alone


PROBE = """
import sys, tempfile, torch
import wsseg_mm
from wsseg_mm import compat
import mmengine.dist.utils as dist_utils
from mmengine.logging import HistoryBuffer
from mmengine.model.wrappers import MMDistributedDataParallel
print('applied', ','.join(compat.applied_patches()))
print('init_dist', hasattr(dist_utils._init_dist_pytorch, '__wrapped__'))
print('ddp', hasattr(MMDistributedDataParallel.__init__, '__wrapped__'))
path = tempfile.mktemp(suffix='.pth')
buffer = HistoryBuffer()
buffer.update(1.0)
torch.save(dict(buffer=buffer), path)
try:
    torch.load(path)
    print('load ok')
except Exception as e:
    print('load failed', type(e).__name__)
try:
    import mmaction.models
    print('mmaction.models ok')
except ImportError:
    print('mmaction.models failed')
"""


def probe(spec):
    env = dict(os.environ, WSSEG_MM_PATCHES=spec, PYTHONPATH=REPO)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.slow  # three fresh interpreters import the stack
@pytest.mark.skipif(not compat.torch_loads_weights_only() or 'mmaction_drn' not in compat.applied_patches(),
                    reason='the breakages the patches fix are absent from this stack')
def test_patches_can_be_turned_off():
    rc, out, err = probe('none')
    assert rc == 0, err
    assert 'applied \n' in out and 'init_dist False' in out and 'ddp False' in out
    assert 'load failed UnpicklingError' in out  # mmengine state under weights_only, unpatched
    assert 'mmaction.models failed' in out  # the DRN stub is what lets mmaction2 1.2.0 import its models
    rc, out, err = probe('-cpu_distributed,-pkg_resources_warning')
    assert rc == 0, err
    assert 'applied torch_load,mmaction_drn,default_checks' in out
    assert 'init_dist False' in out and 'ddp False' in out
    assert 'load ok' in out and 'mmaction.models ok' in out
    rc, out, err = probe('torch_laod')
    assert rc != 0 and 'unknown: torch_laod' in err
