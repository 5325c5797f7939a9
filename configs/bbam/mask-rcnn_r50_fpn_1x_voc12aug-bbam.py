# Mask R-CNN (R-50-FPN) trained on BBAM's instance pseudo labels of VOC 2012 train_aug (COCO JSON with an
# ``ignore_rle`` per instance): the masks are loaded as 0/1/2 maps (background / foreground / ignore) and the mask
# head leaves the ignored pixels out of its loss, letting confident ones back in (BBAM Sec. 3.4). Scored like the
# IRNet one: mask AP on the VOC val instances and AP^r_50 / AP^r_70.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py', '../_base_/datasets/voc12_pseudo_ins.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 20
pseudo_label_file = 'bbam/instances.json'
model = dict(roi_head=dict(bbox_head=dict(num_classes=num_classes),
                           mask_head=dict(type='IgnoreFCNMaskHead', num_classes=num_classes)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPseudoInstanceMasks'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(type='PseudoCocoDataset', ann_file=pseudo_label_file, pipeline=train_pipeline))
val_evaluator = [
    dict(type='CocoMetric', ann_file='data/VOCdevkit/VOC2012/annotations/voc12_val_instances.json',
         metric=['bbox', 'segm']),
    dict(type='InstanceAPMetric', iou_thrs=(0.5, 0.7)),
]
test_evaluator = val_evaluator
