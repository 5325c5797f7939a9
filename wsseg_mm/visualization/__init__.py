from .overlay import colorize_label, draw_boxes, heatmap, make_grid, overlay_label

__all__ = ['colorize_label', 'overlay_label', 'heatmap', 'draw_boxes', 'make_grid']
