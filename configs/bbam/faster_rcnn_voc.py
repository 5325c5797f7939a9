# BBAM step 1 + 2: a stock mmdet Faster R-CNN (R-50-FPN, ImageNet init) trained on the VOC 2012 train_aug boxes;
# when training ends, BBAMHook explains every training box with the trained detector and writes the pseudo masks
# to data/VOCdevkit/VOC2012/bbam/ (instances.json with ignore regions, semantic/*.png).
#   python tools/train.py configs/bbam/faster_rcnn_voc.py
#   python tools/bbam.py configs/bbam/faster_rcnn_voc.py CHECKPOINT [--launcher pytorch]   # from a checkpoint
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/voc12_aug_boxes.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 20
model = dict(roi_head=dict(bbox_head=dict(num_classes=num_classes)))
# the explained images: resized as in training, boxes resized with them, no random flip
bbam_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
custom_hooks = [
    dict(
        type='BBAMHook',
        pipeline=bbam_pipeline,
        out_dir='data/VOCdevkit/VOC2012/bbam',
        # the paper's values: 300 Adam steps at lr 0.02, lambda 0.007, stride 16 + 48 sqrt(a), both heads
        explainer=dict(num_iters=300, lr=0.02, l1_weight=0.007, stride_base=16, stride_scale=48,
                       use_box_head=True, use_cls_head=True, jitter_ratio=0.3, iou_thrs=(0.9, 0.85, 0.8)),
        crf=dict(),  # dense CRF with its defaults
        fg_thr=0.8,
        bg_thr=0.2,
        # refinement with MCG's published per-image proposals (<name>.mat); without MCG use dict(type='skimage')
        proposals=dict(type='mcg', dir='data/VOCdevkit/VOC2012/MCG'))
]
