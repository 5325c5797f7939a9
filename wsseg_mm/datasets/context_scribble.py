"""PASCAL-Context (59 classes + background) with ScribbleSup scribbles (mmseg scope)."""
from mmseg.datasets import PascalContextDataset
from mmseg.registry import DATASETS

from .voc_scribble import VOCScribbleDataset


@DATASETS.register_module()
class ContextScribbleDataset(VOCScribbleDataset):
    """PASCAL-Context images (VOC 2010) with ScribbleSup scribble files and, optionally, full masks.

    The 60 classes of mmseg's :class:`PascalContextDataset` (``background`` = 0 and the 59 most frequent
    classes, the masks of mmseg's ``pascal_context.py`` converter), which is what PSI and ScribbleSup score
    (Xu et al. ICCV 2021, Table 2). A scribble's class name must be one of them. Everything else is
    :class:`VOCScribbleDataset`'s.
    """
    METAINFO = PascalContextDataset.METAINFO
