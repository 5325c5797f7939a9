"""Every workaround wsseg_mm needs for its pinned OpenMMLab stack, in one place.

Imported first by ``wsseg_mm/__init__.py``. Each patch has a name, is idempotent and acts only where its breakage
exists; the README's "What `import wsseg_mm` changes" section documents them, and ``shared/ENVIRONMENT.md`` the
measured breakages:

``pkg_resources_warning``
    Hides the "pkg_resources is deprecated" UserWarning that mmengine / mmcv imports raise (not actionable).
``torch_load``
    torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 saves message-hub state
    (``HistoryBuffer``, numpy arrays and dtypes) that the safe unpickler rejects, so ``--resume`` fails. The few
    globals such checkpoints hold are allow-listed, nothing else. Only applied where torch defaults to weights_only.
``cpu_distributed``
    Distributed training on CPU (gloo): mmengine's ``init_dist`` (``pytorch`` and ``slurm`` launchers) calls
    ``torch.cuda.set_device`` unconditionally and
    ``Runner.wrap_model`` passes ``device_ids=[rank]``, which DDP rejects for CPU modules, as it rejects SyncBN
    layers there (a stock SyncBN config run by mmseg's / mmdet's own ``train.py``): ``MMDistributedDataParallel``
    drops the device ids and reverts SyncBN to BN (``mmengine.model.revert_sync_batchnorm``). The wrappers act at
    call time only without CUDA / for modules whose parameters are all on the CPU, and defer to mmengine otherwise.
``mmaction_drn``
    mmaction2 1.2.0 ships without ``mmaction/models/localizers/drn``: ``import mmaction.models`` fails. A stub
    module with a ``DRN`` class that refuses to be built takes its place. Required to build any mmaction model
    (the A2D video configs) with that release; a no-op where mmaction2 is absent or complete.
``default_checks``
    Adds ``WeakLabelChecksHook`` (:mod:`wsseg_mm.engine.hooks.checks`) to every mmengine ``Runner``, so that the
    stock ``train.py`` of mmseg / mmdet with ``custom_imports=['wsseg_mm']`` warns, before training, about partial
    labels trained with a loss averaged over all pixels and about a ``data_root`` that reaches no dataset. The hook
    only warns; it is named by its registry key, so this module imports nothing of wsseg_mm.

``WSSEG_MM_PATCHES`` selects them, read once at import: unset or ``all`` (every patch), ``none`` (no patch), a comma
list of names to apply only those (``mmaction_drn,torch_load``), or of ``-name`` to apply all but those
(``-cpu_distributed``). ``applied_patches()`` tells which acted. ``adapt_cfg_to_device`` and ``replace_sync_bn``
below are no patches: the tools call them on the config, and they do nothing where CUDA is available.
"""
import importlib.util
import logging
import os
import sys
import types
import warnings
from typing import Any, Callable, Dict, List, Optional

import torch

PATCHES_ENV = 'WSSEG_MM_PATCHES'

_APPLIED = set()


def _once(func):
    """Run a patch function at most once per process; a patch that returns False did not act (not applicable)."""

    def wrapper():
        if func.__name__ not in _APPLIED:
            if func() is not False:
                _APPLIED.add(func.__name__)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func
    return wrapper


@_once
def patch_pkg_resources_warning() -> None:
    """Hide setuptools' "pkg_resources is deprecated" warning, raised by mmengine and mmcv imports."""
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)


@_once
def patch_mmaction_drn() -> Optional[bool]:
    """Provide ``mmaction.models.localizers.drn.drn.DRN`` when the installed mmaction2 lacks it."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:  # mmaction2 not installed: nothing to fix
        return False
    if os.path.isdir(os.path.join(os.path.dirname(spec.origin), 'models', 'localizers', 'drn')):
        return False

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


def _torch_version() -> tuple:
    return tuple(int(part) for part in torch.__version__.split('+')[0].split('.')[:2])


def torch_loads_weights_only() -> bool:
    """Whether ``torch.load`` without ``weights_only`` uses the safe unpickler: torch >= 2.6, unless the user set
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``."""
    if os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower() in ('1', 'true', 'y', 'yes'):
        return False
    return _torch_version() >= (2, 6) and hasattr(torch.serialization, 'add_safe_globals')


@_once
def patch_torch_load() -> Optional[bool]:
    """Make mmengine checkpoints loadable by torch's ``weights_only`` unpickler (the default since torch 2.6).

    Only plain data is allow-listed (HistoryBuffer and numpy arrays / dtypes / scalars); ``getattr`` stays
    forbidden, so HistoryBuffer is made to pickle without the bound statistics methods that needed it. Nothing is
    changed where ``torch.load`` still unpickles everything (torch < 2.6, or ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``).
    """
    if not torch_loads_weights_only():
        return False
    from mmengine.logging import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    add_safe_globals = torch.serialization.add_safe_globals
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


def _destroy_process_group_at_exit() -> None:
    """Destroy the gloo process group when the interpreter exits, if the script did not. Stock ``train.py`` scripts
    never do, and a gloo group left to the interpreter's teardown sometimes aborts the process after the run has
    finished ("terminate called without an active exception", SIGABRT: a failed exit code for a good run)."""
    import atexit
    import datetime

    def destroy() -> None:
        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            return
        try:  # every rank reaches its exit before any tears the group down (a peer gone mid-exchange aborts gloo)
            torch.distributed.monitored_barrier(timeout=datetime.timedelta(seconds=60))
        except Exception:  # a rank that failed or left already: tear down what is left
            pass
        torch.distributed.destroy_process_group()

    atexit.register(destroy)


def _init_dist_pytorch_cpu_aware(original):

    def init_dist_pytorch(backend: str, init_backend: str = 'torch', **kwargs: Any) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        # No accelerator: no device to select, and NCCL cannot run, so fall back to gloo.
        torch.distributed.init_process_group(backend='gloo' if backend == 'nccl' else backend, **kwargs)
        _destroy_process_group_at_exit()

    init_dist_pytorch.__wrapped__ = original
    return init_dist_pytorch


def _init_dist_slurm_cpu_aware(original):

    def init_dist_slurm(backend: str, port: Optional[int] = None, init_backend: str = 'torch', **kwargs: Any) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, port=port, init_backend=init_backend, **kwargs)
        # No accelerator: mmengine's environment set-up (ranks, master address and port) as it is, without the
        # device selection (no device; without SLURM_LOCALID it would divide by a GPU count of 0), and gloo.
        set_device, device_count = torch.cuda.set_device, torch.cuda.device_count
        torch.cuda.set_device, torch.cuda.device_count = (lambda *args, **kw: None), (lambda: 1)
        try:
            original('gloo' if backend == 'nccl' else backend, port=port, init_backend=init_backend, **kwargs)
        finally:
            torch.cuda.set_device, torch.cuda.device_count = set_device, device_count
        _destroy_process_group_at_exit()

    init_dist_slurm.__wrapped__ = original
    return init_dist_slurm


@_once
def patch_cpu_distributed() -> None:
    """Make mmengine's ``init_dist`` and ``MMDistributedDataParallel`` work on CPU-only machines."""
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware(dist_utils._init_dist_pytorch)
    dist_utils._init_dist_slurm = _init_dist_slurm_cpu_aware(dist_utils._init_dist_slurm)

    original_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, detect_anomalous_params: bool = False, **kwargs: Any) -> None:
        module = _revert_sync_bn_on_cpu(module)
        original_init(self, module, detect_anomalous_params=detect_anomalous_params,
                      **_ddp_kwargs_for(module, kwargs))

    ddp_init.__wrapped__ = original_init
    MMDistributedDataParallel.__init__ = ddp_init


def _ddp_kwargs_for(module: torch.nn.Module, kwargs: dict) -> dict:
    """DDP's keyword arguments for ``module``: ``device_ids`` dropped when every parameter is on the CPU (DDP
    rejects them there; ``Runner.wrap_model`` always passes ``[LOCAL_RANK]``), unchanged otherwise."""
    on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
    if on_cpu and kwargs.get('device_ids') is not None:
        kwargs = dict(kwargs, device_ids=None)
    return kwargs


def _revert_sync_bn_on_cpu(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with its SyncBN layers (torch's and mmcv's) turned into plain BN when there is no CUDA and every
    parameter is on the CPU (DDP refuses SyncBN there: "SyncBatchNorm layers only work with GPU modules"); the same
    module otherwise. This is where the stock ``train.py`` of mmseg / mmdet meets a SyncBN config on CPU processes
    (``Runner.wrap_model`` builds ``MMDistributedDataParallel``); our tools already replace SyncBN in the config."""
    if torch.cuda.is_available() or not all(p.device.type == 'cpu' for p in module.parameters()):
        return module
    from mmengine.model import revert_sync_batchnorm
    sync = [name for name, layer in module.named_modules() if 'SyncBatchNorm' in type(layer).__name__]
    if not sync:
        return module
    from mmengine.logging import print_log
    print_log(f'wsseg_mm: no CUDA, so the {len(sync)} SyncBN layers of the model are plain BN in each CPU process '
              '(per-process batch statistics; set norm_cfg=dict(type=\'BN\') in the config to silence this)',
              logger='current', level=logging.WARNING)
    return revert_sync_batchnorm(module)


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


CHECKS_HOOK = 'WeakLabelChecksHook'


@_once
def patch_default_checks() -> None:
    """Register :data:`CHECKS_HOOK` (when registered in mmengine's ``HOOKS``) in every ``Runner``, once."""
    from mmengine.runner import Runner

    original = Runner.register_hooks

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        original(self, default_hooks, custom_hooks)
        from mmengine.registry import HOOKS
        if HOOKS.get(CHECKS_HOOK) is not None and all(type(h).__name__ != CHECKS_HOOK for h in self._hooks):
            self.register_hook(dict(type=CHECKS_HOOK))

    register_hooks.__wrapped__ = original
    Runner.register_hooks = register_hooks


# In the order they are applied.
PATCHES: Dict[str, Callable[[], None]] = {
    'pkg_resources_warning': patch_pkg_resources_warning,
    'torch_load': patch_torch_load,
    'cpu_distributed': patch_cpu_distributed,
    'mmaction_drn': patch_mmaction_drn,
    'default_checks': patch_default_checks,
}


def selected_patches(spec: Optional[str] = None) -> List[str]:
    """The patch names a ``WSSEG_MM_PATCHES`` value selects (``spec=None`` reads the environment), in order.

    ``all`` (or empty) selects every patch, ``none`` none; ``a,b`` only those; ``-a,-b`` all but those.
    """
    spec = os.environ.get(PATCHES_ENV, 'all') if spec is None else spec
    items = [item.strip() for item in spec.split(',') if item.strip()]
    if not items or items == ['all']:
        return list(PATCHES)
    if items == ['none']:
        return []
    skips = [item[1:] for item in items if item.startswith('-')]
    picks = [item for item in items if not item.startswith('-')]
    unknown = [name for name in skips + picks if name not in PATCHES]
    if unknown or (skips and picks):
        raise ValueError(f'{PATCHES_ENV}={spec!r}: expected all, none, a comma list of patch names to apply, or of '
                         f'-name to skip; patches: {", ".join(PATCHES)}' +
                         (f' (unknown: {", ".join(unknown)})' if unknown else ''))
    if skips:
        return [name for name in PATCHES if name not in skips]
    return [name for name in PATCHES if name in picks]


def applied_patches() -> List[str]:
    """The patches that acted in this process (selected, and applicable to the installed stack)."""
    return [name for name, func in PATCHES.items() if func.__name__ in _APPLIED]


def apply_patches(names: Optional[List[str]] = None) -> None:
    """Apply the named patches (default: those ``WSSEG_MM_PATCHES`` selects; called when ``wsseg_mm`` is
    imported). Each acts at most once per process and only where its breakage exists."""
    for name in selected_patches() if names is None else names:
        PATCHES[name]()


def apply_all() -> None:
    """Apply every patch, whatever ``WSSEG_MM_PATCHES`` says."""
    apply_patches(list(PATCHES))


apply_patches()
