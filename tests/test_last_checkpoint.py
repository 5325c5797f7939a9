"""``last://WORK_DIR`` resolves through mmengine's ``last_checkpoint`` file, with clear errors."""
import pytest
import torch
from mmengine.runner import CheckpointLoader

import wsseg_mm  # noqa: F401  (registers the scheme)
from wsseg_mm.engine.last_checkpoint import resolve_last_checkpoint


def test_last_scheme_loads_the_checkpoint_the_run_saved_last(tmp_path):
    work = tmp_path / 'run'
    work.mkdir()
    torch.save(dict(state_dict=dict(w=torch.arange(3.0))), work / 'epoch_2.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    assert resolve_last_checkpoint(f'last://{work}') == str(work / 'epoch_2.pth')
    loaded = CheckpointLoader.load_checkpoint(f'last://{work}', map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3.0))


def test_last_scheme_errors_name_the_run(tmp_path):
    with pytest.raises(FileNotFoundError, match='has not saved a checkpoint yet'):
        resolve_last_checkpoint(f'last://{tmp_path}')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        resolve_last_checkpoint(f'last://{tmp_path}')
