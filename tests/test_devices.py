"""Where the per-image tools compute (``--device``, ``wsseg_mm.apis.select_device``: CUDA when available, each rank
on its local GPU) and ``--launcher slurm`` on a machine without CUDA (the ``cpu_distributed`` patch). Runs on CPU:
CUDA is simulated where the logic needs it."""
import os
import socket
import subprocess
import sys

import pytest
import torch

from wsseg_mm import compat
from wsseg_mm.apis import common

from conftest import REPO


@pytest.fixture
def fake_cuda(monkeypatch):
    """Pretend to have 2 GPUs; returns the devices ``torch.cuda.set_device`` was given."""
    chosen = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    monkeypatch.setattr(torch.cuda, 'set_device', lambda device: chosen.append(str(device)))
    for var in ('LOCAL_RANK', 'SLURM_LOCALID'):
        monkeypatch.delenv(var, raising=False)
    return chosen


def test_default_device_is_this_ranks_gpu(fake_cuda, monkeypatch):
    assert common.select_device() == 'cuda:0'
    monkeypatch.setenv('SLURM_LOCALID', '1')  # srun, --launcher slurm
    assert common.select_device(None) == 'cuda:1'
    monkeypatch.setenv('LOCAL_RANK', '3')  # torchrun, --launcher pytorch: wins, modulo the GPUs of the node
    assert common.select_device('auto') == 'cuda:1' and common.select_device('cuda') == 'cuda:1'
    assert common.select_device('cuda:0') == 'cuda:0'
    assert common.select_device('cpu') == 'cpu'
    assert fake_cuda == ['cuda:0', 'cuda:1', 'cuda:1', 'cuda:1', 'cuda:0']  # each rank's default CUDA device


def test_without_cuda_the_default_is_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert common.select_device() == 'cpu'
    with pytest.raises(RuntimeError, match='--device cpu'):
        common.select_device('cuda')
    model = torch.nn.Linear(2, 2)
    assert common.select_device(None) == 'cpu' and next(model.to(common.select_device()).parameters()).is_cpu


def test_slurm_init_defers_to_mmengine_where_cuda_exists(monkeypatch):
    calls = []

    def mmengine_slurm(backend, port=None, init_backend='torch', **kwargs):
        calls.append(('mmengine', backend))
        torch.cuda.set_device(0)  # what mmengine's does; harmless while the patch holds it

    wrapped = compat._init_dist_slurm_cpu_aware(mmengine_slurm)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'set_device', lambda device: calls.append(('set_device', device)))
    wrapped('nccl')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    wrapped('nccl')
    assert calls == [('mmengine', 'nccl'), ('set_device', 0), ('mmengine', 'gloo')]
    assert torch.cuda.set_device is not None and ('set_device', 0) == calls[1]  # restored after the call
    torch.cuda.set_device(1)
    assert calls[-1] == ('set_device', 1)


PROBE = """
import wsseg_mm
import torch.distributed as dist
from wsseg_mm.apis import select_device, setup_launcher
setup_launcher('slurm')
print('slurm', dist.get_backend(), dist.get_world_size(), dist.get_rank(), select_device())
dist.destroy_process_group()
"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two fresh interpreters import the stack
def test_slurm_launcher_on_a_cpu_node():
    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='', SLURM_PROCID='0', SLURM_NTASKS='1',
               SLURM_NODELIST='localhost', SLURM_LOCALID='0', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
    proc = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and 'slurm gloo 1 0 cpu' in proc.stdout, proc.stderr[-3000:]
    env['WSSEG_MM_PATCHES'] = '-cpu_distributed'  # mmengine's own: torch.cuda.set_device on a CPU node
    proc = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0
