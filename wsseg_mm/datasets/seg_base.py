"""What the wsseg_mm mmseg datasets share."""
from typing import Optional, Sequence

from mmseg.datasets import BaseSegDataset

from wsseg_mm.metainfo import VOC_PALETTE


class OwnClassesSegDataset(BaseSegDataset):
    """A :class:`BaseSegDataset` whose ``metainfo['classes']`` may also name a class set of its own.

    mmseg treats a ``classes`` list as a selection of the dataset's default classes and refuses any other. Here a
    subset still selects and remaps as in mmseg, while a list with a name outside the defaults declares a new
    class set (labels in file order), as the toy benchmark does with the same VOC-layout datasets; its palette
    defaults to the VOC colour map.
    """

    def __init__(self, metainfo: Optional[dict] = None, **kwargs) -> None:
        classes = (metainfo or {}).get('classes')
        if classes is not None and self.get_label_map(classes) is None and 'palette' not in metainfo:
            metainfo = dict(metainfo, palette=VOC_PALETTE[:len(classes)])
        super().__init__(metainfo=metainfo, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence] = None) -> Optional[dict]:
        old_classes = cls.METAINFO.get('classes')
        if new_classes is not None and old_classes is not None and not set(new_classes) <= set(old_classes):
            return None
        return super().get_label_map(new_classes)
