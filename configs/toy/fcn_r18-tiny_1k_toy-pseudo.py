# The demo's stock FCN (fcn_r18-tiny_1k_toy-scribble.py) trained on semantic pseudo labels of the toy train images
# (palette PNGs, 255 = ignore) instead of scribbles, scored on the toy val masks. Shared by every method's toy
# config, which only points `seg_map_path` at its own pseudo labels
# (e.g. configs/irnet/toy/fcn_r18-tiny_1k_toy-irnet.py).
_base_ = ['./fcn_r18-tiny_1k_toy-scribble.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(128, 128)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root='data/toy/VOCdevkit/VOC2012',
        metainfo=dict(classes=('background', 'disc', 'square', 'triangle', 'star', 'cross', 'ring')),
        # relative to data_root; each method's config sets its own folder of pseudo-label PNGs
        data_prefix=dict(img_path='JPEGImages', seg_map_path='pseudo/sem'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
