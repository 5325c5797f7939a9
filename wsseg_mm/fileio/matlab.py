"""The one MATLAB ``.mat`` reader: v7.3 (HDF5, read with h5py) and older (v5, read with ``scipy.io.loadmat``).

Arrays come back in MATLAB's orientation whatever the version: HDF5 stores MATLAB's column-major arrays
transposed, so a v7.3 array is transposed back here. A cell array comes back as an object array (MATLAB's shape)
of its cells, each in MATLAB's orientation too.
"""
import os.path as osp
from typing import Dict, Sequence

import numpy as np


def _h5_value(f, dataset) -> np.ndarray:
    import h5py
    data = np.asarray(dataset)
    if data.dtype == object or h5py.check_dtype(ref=dataset.dtype) is not None:
        cells = np.empty(data.shape, dtype=object)
        for index, ref in np.ndenumerate(data):
            cells[index] = np.asarray(f[ref]).T
        return cells.T
    return data.T


def read_mat(path: str, keys: Sequence[str]) -> Dict[str, np.ndarray]:
    """The variables ``keys`` of a MATLAB file, in MATLAB's orientation.

    Raises:
        FileNotFoundError: no such file. ``KeyError``: a variable is missing (the message names the file and the
        variables it has). ``ValueError``: the file is not a readable MATLAB file (named).
    """
    import h5py
    import scipy.io
    if not osp.isfile(path):
        raise FileNotFoundError(f'MATLAB file not found: {path}')
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, 'r') as f:
                missing = [k for k in keys if k not in f]
                if missing:
                    raise KeyError(f'{path} has no {missing} (variables: {sorted(f.keys())})')
                return {k: _h5_value(f, f[k]) for k in keys}
        mat = scipy.io.loadmat(path)
    except (OSError, ValueError) as err:
        raise ValueError(f'corrupt MATLAB file {path}: {err}') from None
    missing = [k for k in keys if k not in mat]
    if missing:
        raise KeyError(f'{path} has no {missing} (variables: {sorted(k for k in mat if not k.startswith("__"))})')
    return {k: mat[k] for k in keys}
