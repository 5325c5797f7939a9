"""The algorithms as plain torch / numpy functions (no registry, no config); shapes are in each docstring."""
from .affinity import (
                       boundary_to_affinity,
                       line_offsets,
                       pairwise_affinity,
                       path_offsets,
                       propagate_by_random_walk,
                       propagate_by_random_walk_dense,
)
from .box_masks import (
                       SegmentProposals,
                       box_fill,
                       box_to_mask,
                       grabcut_in_box,
                       instances_to_semantic,
                       refine_with_proposals,
                       skimage_mask_proposals,
                       skimage_segment_proposals,
                       threshold_attribution,
)
from .cam import cams_to_semantic, class_activation_maps, normalize_cams
from .crf import dense_crf_labels, dense_crf_probs
from .gradcam import gradcam_map, gradcam_weights, normalize_maps, resize_maps, slice_frames
from .instance import find_centroids, instance_map, refine_displacement
from .irnet_loss import irnet_losses, relation_pairs
from .label_synthesis import instances_from_semantic, propagate_cams, semantic_from_random_walk, synthesize_irnet_labels
from .metrics import average_best_overlap, confusion_matrix, instance_ap, iou_from_confusion, mask_iou, miou
from .psi import (
                       SLD_BASE_RADIUS,
                       SLD_LABEL_OFFSET,
                       SLD_STEEPNESS,
                       SLDDecisions,
                       cpp_aggregate,
                       cpp_aggregate_dense,
                       cpp_neighbours,
                       cpp_stride,
                       decode_sld_labels,
                       encode_sld_labels,
                       sld_decide,
                       sld_expand,
                       sld_loss,
                       sld_radius,
                       sld_regions,
                       sld_statistics,
                       sld_threshold,
                       smoothness_l1,
                       soft_binarize,
)
from .relation import mine_inter_pixel_relations
from .superpixel import (
                       keep_superpixels,
                       otsu_mask,
                       refine_with_superpixels,
                       region_integrity,
                       ric,
                       ric_confusions,
                       ric_scores,
                       slic_superpixels,
                       superpixel_overlap,
)
from .ws2 import (
                       align_actions,
                       assign_pairs,
                       crop_box,
                       cut_and_paste,
                       find_background_box,
                       region_boxes,
                       region_passes,
                       resize_patch,
                       select_frames,
                       square_box,
)

__all__ = [
    'gradcam_weights', 'gradcam_map', 'slice_frames', 'resize_maps', 'normalize_maps',
    'otsu_mask', 'slic_superpixels', 'superpixel_overlap', 'keep_superpixels', 'refine_with_superpixels',
    'region_integrity', 'ric', 'ric_confusions', 'ric_scores', 'assign_pairs', 'square_box', 'region_boxes',
    'crop_box', 'find_background_box', 'cut_and_paste', 'resize_patch', 'region_passes', 'select_frames',
    'align_actions',
    'path_offsets', 'line_offsets', 'pairwise_affinity', 'boundary_to_affinity', 'propagate_by_random_walk',
    'propagate_by_random_walk_dense', 'class_activation_maps', 'normalize_cams', 'cams_to_semantic',
    'dense_crf_labels', 'dense_crf_probs', 'refine_displacement', 'find_centroids', 'instance_map', 'irnet_losses',
    'relation_pairs', 'propagate_cams', 'semantic_from_random_walk', 'instances_from_semantic',
    'synthesize_irnet_labels', 'confusion_matrix', 'iou_from_confusion', 'miou', 'mask_iou', 'instance_ap',
    'average_best_overlap', 'mine_inter_pixel_relations', 'box_to_mask', 'box_fill', 'grabcut_in_box',
    'skimage_mask_proposals', 'skimage_segment_proposals', 'SegmentProposals', 'refine_with_proposals',
    'instances_to_semantic', 'threshold_attribution', 'cpp_stride', 'cpp_neighbours', 'cpp_aggregate',
    'cpp_aggregate_dense', 'sld_radius', 'sld_regions', 'sld_statistics', 'sld_threshold', 'soft_binarize',
    'sld_decide', 'sld_expand', 'sld_loss', 'smoothness_l1', 'SLDDecisions', 'SLD_STEEPNESS', 'SLD_BASE_RADIUS',
    'SLD_LABEL_OFFSET', 'encode_sld_labels', 'decode_sld_labels'
]
