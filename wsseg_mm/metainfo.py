"""Class names, palettes and id tables shared by the datasets, metrics and the toy generator.

Everything here is plain data (no registry, no I/O) so every layer can import it.
"""
from typing import Dict, List, Tuple

VOC_CLASSES: Tuple[str, ...] = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
    'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')


def voc_palette(num: int = 256) -> List[List[int]]:
    """The PASCAL VOC colour map: entry ``i`` is the RGB colour of label ``i`` (255 = ignore is cream)."""
    palette = []
    for label in range(num):
        r = g = b = 0
        c = label
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette.append([r, g, b])
    return palette


VOC_PALETTE = voc_palette()

# The embedded toy benchmark: object classes told apart by shape and texture (see wsseg_mm/toy/).
TOY_CLASSES: Tuple[str, ...] = ('background', 'disc', 'square', 'triangle', 'star', 'cross', 'ring')
# The object-centred pretraining images of the WS^2 toy (make_toy_data.py --object-classes videos): the six shapes
# plus the hexagon that only the videos draw (the A2D 'dog'), so that its stand-in for ImageNet knows every toy
# actor, as ImageNet holds A2D's people, dogs, cats, birds, cars and balls.
TOY_VIDEO_OBJECT_CLASSES: Tuple[str, ...] = TOY_CLASSES + ('hexagon', )

# A2D (Xu et al., CVPR 2015): 7 actors x 9 actions, 43 valid pairs; annotation id = actor * 10 + action.
A2D_ACTORS: Tuple[str, ...] = ('adult', 'baby', 'ball', 'bird', 'car', 'cat', 'dog')
A2D_ACTIONS: Tuple[str, ...] = ('climbing', 'crawling', 'eating', 'flying', 'jumping', 'rolling', 'running',
                                'walking', 'none')
A2D_VALID_PAIRS: Dict[str, Tuple[str, ...]] = {
    'adult': ('climbing', 'crawling', 'eating', 'jumping', 'rolling', 'running', 'walking', 'none'),
    'baby': ('climbing', 'crawling', 'rolling', 'walking', 'none'),
    'ball': ('flying', 'jumping', 'rolling', 'none'),
    'bird': ('climbing', 'eating', 'flying', 'jumping', 'rolling', 'walking', 'none'),
    'car': ('flying', 'jumping', 'rolling', 'running', 'none'),
    'cat': ('climbing', 'eating', 'jumping', 'rolling', 'running', 'walking', 'none'),
    'dog': ('crawling', 'eating', 'jumping', 'rolling', 'running', 'walking', 'none'),
}
# A2D ids (actor 1..7, action 1..9) of the 43 valid pairs, sorted; index 0 of the label maps is background.
A2D_PAIR_IDS: Tuple[int, ...] = tuple(sorted(
    (A2D_ACTORS.index(actor) + 1) * 10 + A2D_ACTIONS.index(action) + 1
    for actor, actions in A2D_VALID_PAIRS.items() for action in actions))
A2D_PAIR_NAMES: Tuple[str, ...] = tuple(
    f'{A2D_ACTORS[i // 10 - 1]}-{A2D_ACTIONS[i % 10 - 1]}' for i in A2D_PAIR_IDS)
# Classes of the per-pixel actor-action label maps: 0 = background, k = A2D_PAIR_IDS[k - 1].
A2D_SEG_CLASSES: Tuple[str, ...] = ('background', ) + A2D_PAIR_NAMES
assert len(A2D_PAIR_IDS) == 43


# YouTube-Objects (Prest et al., CVPR 2012; v1.0 + the segmentation ground truth of Jain & Grauman, ECCV 2014):
# 10 object classes, one video-level tag per shot; the per-pixel label maps add background as label 0.
YTO_CLASSES: Tuple[str, ...] = ('aeroplane', 'bird', 'boat', 'car', 'cat', 'cow', 'dog', 'horse', 'motorbike',
                                'train')
YTO_SEG_CLASSES: Tuple[str, ...] = ('background', ) + YTO_CLASSES


def a2d_id_to_label(a2d_id: int) -> int:
    """A2D annotation id (actor * 10 + action) -> index in :data:`A2D_SEG_CLASSES`; raises on an invalid pair."""
    try:
        return A2D_PAIR_IDS.index(int(a2d_id)) + 1
    except ValueError:
        raise ValueError(f'{a2d_id} is not a valid A2D actor-action id') from None
