# PASCAL VOC 2012 + SBD train_aug (10,582 images) with image-level labels (mmseg scope), for CAM classifiers.
# Layout: data/VOCdevkit/VOC2012/{JPEGImages,Annotations,SegmentationClass,ImageSets/Segmentation/train_aug.txt}
# (train_aug.txt: the usual SBD+VOC list, e.g. from mmseg's tools/dataset_converters/voc_aug.py).
dataset_type = 'VOCImageLabelDataset'
data_root = 'data/VOCdevkit/VOC2012'
num_classes = 21
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.625, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs', num_classes=num_classes),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs', num_classes=num_classes),
]
# The images a method's per-image stages cover (IRNet: CAMs, relation mining, label synthesis; the tools'
# default `--split label`): the training list, read without annotations (train_aug has no SegmentationClass).
train_ann_file = 'ImageSets/Segmentation/train_aug.txt'
label_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackWeakSegInputs', num_classes=num_classes)]
label_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages'),
        ann_file=train_ann_file,
        pipeline=label_pipeline))
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages'),
        ann_file=train_ann_file,
        pipeline=train_pipeline))
# CAMs are scored on the labelled training images themselves (pseudo-label quality), as in the IRNet paper.
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
