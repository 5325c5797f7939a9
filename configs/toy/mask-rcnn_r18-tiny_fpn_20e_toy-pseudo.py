# Stock mmdet Mask R-CNN (half-width R-18 + FPN, from scratch) trained on instance pseudo labels of the toy train
# images (COCO JSON with RLE masks), scored on the toy val instances. Shared by every method's toy config, which points
# `ann_file` at its own pseudo labels (configs/irnet/toy/mask-rcnn_r18-tiny_fpn_20e_toy-irnet.py, and the BBAM one,
# which also swaps in its ignore-aware mask head).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py', 'mmdet::_base_/datasets/coco_instance.py',
    '../_base_/schedules/toy_detector_20e.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
data_root = 'data/toy/VOCdevkit/VOC2012/'
metainfo = dict(classes=('disc', 'square', 'triangle', 'star', 'cross', 'ring'))
num_classes = 6
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    # from scratch: nothing frozen, BN trained (the base's frozen_stages / norm_eval are for ImageNet weights)
    backbone=dict(depth=18, base_channels=32, init_cfg=None, frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64,
                  anchor_generator=dict(scales=[4], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=num_classes),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=num_classes)),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=300), rcnn=dict(max_per_img=20)))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=8, num_workers=2,
    # ann_file is relative to data_root; each method's config sets its own
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='pseudo/instances.json',
                 data_prefix=dict(img='JPEGImages/'), pipeline=pipeline))
# the toy val instances as COCO JSON: tools/dataset_converters/voc_instances_to_coco.py ... --toy
val_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/val_instances.json',
                 data_prefix=dict(img='JPEGImages/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='CocoMetric', ann_file=data_root + 'annotations/val_instances.json', metric=['segm']),
                 dict(type='InstanceAPMetric', iou_thrs=(0.5, 0.7))]
test_evaluator = val_evaluator
max_epochs = 20  # the schedule's (toy_detector_20e.py: AdamW, warm-up)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
