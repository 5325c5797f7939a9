"""A hook for the distributed-training test: each rank records its iterations and a weight checksum."""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """After training, write ``rank<r>.json`` with the iterations this rank ran and the sum of its weights."""

    def __init__(self):
        self.iters = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.iters += 1

    def after_train(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        checksum = sum(float(p.detach().double().sum()) for p in model.parameters())
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.json'), 'w') as f:
            json.dump(dict(rank=get_rank(), world_size=get_world_size(), iters=self.iters, checksum=checksum,
                           device=str(next(model.parameters()).device),
                           ddp=type(runner.model).__name__, cuda=torch.cuda.is_available()), f)
