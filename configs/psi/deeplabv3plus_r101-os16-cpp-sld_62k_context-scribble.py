# PSI (Xu et al., ICCV 2021) on PASCAL-Context (59 classes + background) + ScribbleSup: the VOC config's model and
# schedule on the data of configs/_base_/datasets/context_scribble.py, with Sec. 5.2's lambda_1 = 1 for Context.
_base_ = ['./deeplabv3plus_r101-os16-cpp-sld_132k_voc12aug-scribble.py']
num_classes = 60
data_root = 'data/VOCdevkit/VOC2010'
sld_dir = data_root + '/psi/sld'
model = dict(
    decode_head=dict(
        num_classes=num_classes,
        loss_decode=[
            dict(type='CrossEntropyLoss', avg_non_ignore=True),  # partial CE on y_t (Eq. 10)
            dict(type='SmoothnessLoss', loss_weight=1.0),  # lambda_1 L_p (Eq. 11): 1 for Context (Sec. 5.2)
        ]))
train_pipeline = [dict(t, sld_dir=sld_dir) if t['type'] == 'LoadSLDLabels' else t for t in _base_.train_pipeline]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(520, 520), keep_ratio=True),  # as configs/_base_/datasets/context_scribble.py
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
# 200 epochs of the 4,998 training images at batch 16 = 62k iterations (Sec. 5.2; the batch is ours)
max_iters = 62000
train_dataloader = dict(
    dataset=dict(
        type='ContextScribbleDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/pascal_context'),
        ann_file='ImageSets/SegmentationContext/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type='PascalContextDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = [dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters // 10))
# SLD labels scored against the full Context masks of the training images
custom_hooks = [dict(type='SLDHook', num_steps=3, gt_dir=data_root + '/SegmentationClassContext')]
