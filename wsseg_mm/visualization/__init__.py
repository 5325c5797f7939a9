from .bbam import bbam_figure, match_instance
from .figure import (
                     Box,
                     LegendEntry,
                     Panel,
                     blank_panel,
                     displacement_picture,
                     display_scale,
                     enlarge,
                     figure_png,
                     flow_key,
                     label_palette,
                     legend_entries,
                     paint_labels,
                     panel_figure,
                     present_values,
                     resize_nearest,
                     save_figure,
)
from .irnet import irnet_figure
from .overlay import colorize_label, draw_boxes, flow_to_rgb, heatmap, label_instances, make_grid, overlay_label
from .psi import PSIRow, label_quality, psi_figure
from .samples import sample_kind, sample_panels, samples_figure
from .ws2 import WS2Row, pa_quality_text, superpixel_picture, ws2_figure

__all__ = [
    'colorize_label', 'overlay_label', 'heatmap', 'draw_boxes', 'make_grid', 'flow_to_rgb', 'label_instances', 'Box',
    'LegendEntry', 'Panel', 'blank_panel', 'display_scale', 'displacement_picture', 'enlarge', 'figure_png',
    'flow_key', 'label_palette', 'legend_entries', 'paint_labels', 'panel_figure', 'present_values', 'resize_nearest',
    'save_figure', 'irnet_figure', 'bbam_figure', 'match_instance',
    'PSIRow', 'label_quality', 'psi_figure', 'sample_kind', 'sample_panels', 'samples_figure', 'WS2Row',
    'pa_quality_text', 'superpixel_picture', 'ws2_figure'
]
