# Stock mmdet Faster R-CNN (ResNet-18 at half width + FPN, from scratch) trained on the toy boxes: the detector
# BBAM explains. 20 epochs, ~21 minutes on 2 CPU cores (toy val box mAP 49.7).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/toy_voc_boxes.py',
    '../_base_/schedules/toy_detector_20e.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 6
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    # offline toy run: trained from scratch, so nothing is frozen and BN learns its statistics (the base's
    # frozen_stages=1 / norm_eval=True are for ImageNet weights: here they would freeze a random stem)
    backbone=dict(depth=18, base_channels=32, init_cfg=None, frozen_stages=-1, norm_eval=False),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[4], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=num_classes)),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=300), rcnn=dict(max_per_img=20)))
max_epochs = 20  # the schedule's (toy_detector_20e.py: AdamW, warm-up)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=max_epochs // 2, max_keep_ckpts=2))
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='area')
test_evaluator = val_evaluator
