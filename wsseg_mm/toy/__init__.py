"""The embedded toy benchmark generator: a small synthetic stand-in for PASCAL VOC 2012 (+ ScribbleSup scribbles)
and A2D, written in their published layouts so the real loaders, configs and metrics run on it.

Images show 1-4 objects of the six :data:`~wsseg_mm.metainfo.TOY_CLASSES`. A class is defined by its shape *and* a
texture family; colour, size, rotation, aspect and texture period/phase vary freely within a class, and the
backgrounds are textured and cluttered with distractors that belong to no class, so weak labels (image tags,
boxes, scribbles) leave a real segmentation problem. Videos show the seven A2D actors as textured shapes whose
action can only be told from their motion.

* :mod:`.shapes`: shapes and textures; :mod:`.scenes`: backgrounds, layouts, rendered images;
  :mod:`.scribbles`: scribbles; :mod:`.videos`: clips; :mod:`.writers`: the files on disk;
  :mod:`.miniature`: a miniature of the real datasets' layouts (real names, sizes, classes, splits).

A generator, not a dataset: nothing here is registered; the datasets of :mod:`wsseg_mm.datasets` read its output.
"""
from .miniature import generate_real_miniature
from .scenes import render_object_image, render_toy_image
from .scribbles import sample_scribbles
from .videos import render_toy_video
from .writers import (
                      generate_a2d_videos,
                      generate_object_images,
                      generate_toy_benchmark,
                      generate_voc_images,
                      sample_rng,
                      write_a2d_mat,
)

__all__ = [
    'render_toy_image', 'render_object_image', 'sample_scribbles', 'render_toy_video', 'sample_rng',
    'generate_voc_images', 'generate_object_images', 'generate_a2d_videos', 'generate_toy_benchmark', 'write_a2d_mat',
    'generate_real_miniature'
]
