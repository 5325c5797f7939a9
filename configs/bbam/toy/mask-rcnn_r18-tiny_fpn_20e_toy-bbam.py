# The toy Mask R-CNN trained on BBAM's toy instance pseudo labels: 0/1/2 masks (background / foreground / ignore)
# and the ignore-aware mask head with seed growing.
_base_ = ['../../toy/mask-rcnn_r18-tiny_fpn_20e_toy-pseudo.py']
model = dict(roi_head=dict(mask_head=dict(type='IgnoreFCNMaskHead')))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPseudoInstanceMasks'),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(type='PseudoCocoDataset', ann_file='bbam/instances.json', pipeline=pipeline))
work_dir = 'work_dirs/bbam_toy/mask_rcnn'
