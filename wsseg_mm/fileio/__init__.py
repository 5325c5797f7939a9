"""Ground floor: readers and writers of every file format the project touches (no registry, no model).

* :mod:`.annotations`: the published annotation formats (VOC XML, ScribbleSup XML, A2D ``.mat`` and
  ``videoset.csv``, ImageSets lists);
* :mod:`.labels`: pseudo labels (palette PNG, COCO RLE JSON) and atomic writes;
* :mod:`.matlab`: the one MATLAB reader (v7.3 / HDF5 and v5);
* :mod:`.proposals`: MCG ``.mat`` and COCO-RLE mask proposals.
"""
from .annotations import (
                          read_a2d_mat,
                          read_a2d_videoset,
                          read_image_list,
                          read_scribbles,
                          read_voc_object_names,
                          read_voc_objects,
                          scan_a2d,
)
from .labels import (
                          CocoInstanceWriter,
                          atomic_save_npz,
                          atomic_write_bytes,
                          decode_mask,
                          encode_mask,
                          load_coco_instances,
                          load_label_png,
                          merge_coco,
                          save_label_png,
)
from .matlab import read_mat
from .proposals import load_mcg_proposals, load_rle_proposals

__all__ = [
    'read_image_list', 'read_voc_object_names', 'read_voc_objects', 'read_scribbles', 'read_a2d_mat',
    'read_a2d_videoset', 'scan_a2d',
    'atomic_write_bytes', 'atomic_save_npz', 'save_label_png', 'load_label_png', 'encode_mask', 'decode_mask',
    'CocoInstanceWriter', 'load_coco_instances', 'merge_coco', 'read_mat', 'load_mcg_proposals', 'load_rle_proposals'
]
