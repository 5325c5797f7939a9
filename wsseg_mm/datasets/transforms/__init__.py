from .binary_mask import LoadBinaryMaskAnnotation
from .formatting import PackWeakSegInputs
from .loading import (
                      LoadA2DAnnotation,
                      LoadScribbleAnnotation,
                      LoadSLDLabels,
                      LoadSuperpixels,
                      a2d_label_map,
                      load_a2d_label_map,
                      rasterise_scribbles,
)
from .pseudo_instance import LoadPseudoInstanceMasks

__all__ = ['PackWeakSegInputs', 'LoadScribbleAnnotation', 'LoadA2DAnnotation', 'rasterise_scribbles',
           'a2d_label_map', 'load_a2d_label_map', 'LoadPseudoInstanceMasks', 'LoadSLDLabels', 'LoadSuperpixels',
           'LoadBinaryMaskAnnotation']
