from .overlay import colorize_label, draw_boxes, flow_to_rgb, heatmap, label_instances, make_grid, overlay_label

__all__ = ['colorize_label', 'overlay_label', 'heatmap', 'draw_boxes', 'make_grid', 'flow_to_rgb', 'label_instances']
