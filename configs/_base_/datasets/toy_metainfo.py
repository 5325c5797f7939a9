# The embedded toy benchmark (tools/make_toy_data.py): classes and locations, declared once.
toy_root = 'data/toy'
toy_voc_devkit = toy_root + '/VOCdevkit/'
toy_voc_root = toy_root + '/VOCdevkit/VOC2012'
toy_a2d_root = toy_root + '/A2D/Release'
toy_object_classes = ('disc', 'square', 'triangle', 'star', 'cross', 'ring')
toy_classes = ('background', ) + toy_object_classes
toy_num_classes = 7
toy_size = (128, 128)
# object-centred classification images (make_toy_data.py --num-objects N): the toy's stand-in for ImageNet
toy_objects_root = toy_root + '/ToyObjects'
