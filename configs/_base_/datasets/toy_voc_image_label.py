# Toy benchmark: image-level labels from the VOC-layout XML (mmseg scope), for CAM classifiers.
_base_ = ['./voc12_aug_image_label.py', './toy_metainfo.py']
num_classes = {{_base_.toy_num_classes}}
crop_size = {{_base_.toy_size}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs', num_classes=num_classes),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs', num_classes=num_classes),
]
train_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root={{_base_.toy_voc_root}}, metainfo=dict(classes={{_base_.toy_classes}}),
                 ann_file='ImageSets/Segmentation/train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root={{_base_.toy_voc_root}}, metainfo=dict(classes={{_base_.toy_classes}}),
                 ann_file='ImageSets/Segmentation/train.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
