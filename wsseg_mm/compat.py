"""Every workaround wsseg_mm needs for its pinned OpenMMLab stack, in one place.

Imported first by ``wsseg_mm/__init__.py``; each fix is idempotent and guarded so that it only acts where the
breakage exists. See ``shared/ENVIRONMENT.md`` (and the README) for the measured breakages:

1. mmaction2 1.2.0 ships without ``mmaction/models/localizers/drn``: ``import mmaction.models`` fails. A stub
   module with a ``DRN`` class that refuses to be built takes its place.
2. torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 saves message-hub state
   (``HistoryBuffer``, numpy arrays and dtypes) that the safe unpickler rejects, so ``--resume`` fails. The few
   globals such checkpoints hold are allow-listed, nothing else.
3. Distributed training on CPU (gloo): mmengine's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally and
   ``Runner.wrap_model`` passes ``device_ids=[rank]``, which DDP rejects for CPU modules; SyncBN has no CPU kernel.
"""
import importlib.util
import os
import sys
import types
from typing import Any

import warnings

# mmengine and mmcv import pkg_resources, whose deprecation warning would open every log; it is not actionable.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

import torch  # noqa: E402

_APPLIED = set()


def _once(func):
    """Run a patch function at most once per process."""

    def wrapper():
        if func.__name__ not in _APPLIED:
            func()
            _APPLIED.add(func.__name__)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@_once
def patch_mmaction_drn() -> None:
    """Provide ``mmaction.models.localizers.drn.drn.DRN`` when the installed mmaction2 lacks it."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:  # mmaction2 not installed: nothing to fix
        return
    if os.path.isdir(os.path.join(os.path.dirname(spec.origin), 'models', 'localizers', 'drn')):
        return

    class DRN:
        """Placeholder for mmaction2's DRN localizer, missing from the mmaction2 1.2.0 release (upstream #2714)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError('mmaction2 1.2.0 was released without mmaction/models/localizers/drn; DRN cannot be '
                               'built with this installation (wsseg_mm only stubs it so mmaction.models imports).')

    package = types.ModuleType('mmaction.models.localizers.drn')
    package.__path__ = []  # mark it as a package so ``from .drn.drn import DRN`` resolves
    module = types.ModuleType('mmaction.models.localizers.drn.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules.setdefault('mmaction.models.localizers.drn', package)
    sys.modules.setdefault('mmaction.models.localizers.drn.drn', module)


def _history_buffer_getstate(self) -> dict:
    # mmengine pickles the class-wide statistics methods with every buffer; they pickle as ``getattr(cls, name)``,
    # which a weights_only unpickler must refuse. They are registered again on import, so leave them out.
    return {key: value for key, value in self.__dict__.items() if key != 'statistics_methods'}


@_once
def patch_torch_load() -> None:
    """Make mmengine checkpoints loadable by torch's ``weights_only`` unpickler (the default since torch 2.6).

    Only plain data is allow-listed (HistoryBuffer and numpy arrays / dtypes / scalars); ``getattr`` stays
    forbidden, so HistoryBuffer is made to pickle without the bound statistics methods that needed it.
    """
    from mmengine.logging import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads everything anyway
        return
    import codecs

    import numpy as np
    multiarray = getattr(np, '_core', np.core).multiarray
    safe = [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
            codecs.encode]  # numpy pickles array bytes through codecs.encode(str, 'latin1')
    # numpy >= 1.25 pickles dtypes by their class (np.dtypes.Float64DType ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    add_safe_globals(safe)


def _init_dist_pytorch_cpu_aware(original):

    def init_dist_pytorch(backend: str, init_backend: str = 'torch', **kwargs: Any) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        # No accelerator: no device to select, and NCCL cannot run, so fall back to gloo.
        torch.distributed.init_process_group(backend='gloo' if backend == 'nccl' else backend, **kwargs)

    init_dist_pytorch.__wrapped__ = original
    return init_dist_pytorch


@_once
def patch_cpu_distributed() -> None:
    """Make mmengine's ``init_dist`` and ``MMDistributedDataParallel`` work on CPU-only machines."""
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware(dist_utils._init_dist_pytorch)

    original_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, detect_anomalous_params: bool = False, **kwargs: Any) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu and kwargs.get('device_ids') is not None:
            # DDP rejects device_ids for CPU modules; Runner.wrap_model always passes [LOCAL_RANK].
            kwargs['device_ids'] = None
        original_init(self, module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init


def replace_sync_bn(cfg: Any) -> Any:
    """Replace every ``SyncBN`` norm type in a config (dict / list tree) with ``BN``, in place.

    SyncBN has no CPU implementation; with one process per CPU core, plain BN is what a CPU run can do.
    """
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'type' and value in ('SyncBN', 'MMSyncBN'):
                cfg[key] = 'BN'
            else:
                replace_sync_bn(value)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            replace_sync_bn(item)
    return cfg


def adapt_cfg_to_device(cfg: Any) -> Any:
    """Adjust a runner config in place for the machine it runs on (no-op when CUDA is available).

    On CPU: SyncBN -> BN, gloo as the distributed backend, and no automatic mixed precision.
    """
    if torch.cuda.is_available():
        return cfg
    replace_sync_bn(cfg.get('model', {}))
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    return cfg


def apply_all() -> None:
    """Apply every patch (called once when ``wsseg_mm`` is imported)."""
    patch_torch_load()
    patch_cpu_distributed()
    patch_mmaction_drn()


apply_all()
