"""wsseg_mm: weakly supervised segmentation (IRNet, BBAM, PSI, WS^2) as OpenMMLab 2.x components.

Importing the package applies the stack workarounds (:mod:`wsseg_mm.compat`) and registers every component into the
registry of the library it extends.
"""
from . import (  # noqa: F401,E402  (layer 2: registered adapters)  # noqa: F401,E402  (layer 3: the API, and the hooks that run it)
    apis,
    compat,  # noqa: F401  (first: patches must precede any mmaction / checkpoint use)
    datasets,
    engine,
    evaluation,
    models,
)

__version__ = '0.1.0'
__all__ = ['__version__']
