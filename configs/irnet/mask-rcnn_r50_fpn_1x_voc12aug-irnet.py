# Stock mmdet Mask R-CNN (R-50-FPN) trained on IRNet's instance pseudo labels of VOC 2012 train_aug (COCO JSON
# from tools/irnet/make_pseudo_labels.py), scored with mask AP on the VOC val instances
# (tools/dataset_converters/voc_instances_to_coco.py) and with AP^r_50 / AP^r_70 (InstanceAPMetric).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py', '../_base_/datasets/voc12_pseudo_ins.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 20
pseudo_label_file = 'irnet/pseudo/instances.json'
model = dict(roi_head=dict(bbox_head=dict(num_classes=num_classes), mask_head=dict(num_classes=num_classes)))
train_dataloader = dict(dataset=dict(ann_file=pseudo_label_file))
val_evaluator = [
    dict(type='CocoMetric', ann_file='data/VOCdevkit/VOC2012/annotations/voc12_val_instances.json',
         metric=['bbox', 'segm']),
    dict(type='InstanceAPMetric', iou_thrs=(0.5, 0.7)),
]
test_evaluator = val_evaluator
