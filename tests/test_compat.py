"""The stack workarounds of wsseg_mm.compat: DRN shim, checkpoint resume under torch's weights_only, CPU dist."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

import wsseg_mm  # noqa: F401
from wsseg_mm.compat import adapt_cfg_to_device, replace_sync_bn


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
