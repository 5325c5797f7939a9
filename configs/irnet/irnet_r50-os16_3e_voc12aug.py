# IRNet stage 3: boundary + displacement branches over a frozen ImageNet ResNet-50, trained on the inter-pixel
# relations mined from the CAMs (tools/irnet/mine_relations.py writes them to data/.../irnet/relations).
# The authors' settings: batch 32, 3 epochs, SGD lr 0.1, weight decay 1e-4, polynomial decay, crop 512,
# pairs within radius 10, gradients into the displacement branch x10.
_base_ = [
    '../_base_/datasets/voc12_aug_image_label.py', 'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/epoch_poly.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
relation_dir = 'irnet/relations'  # relative to data_root
crop_size = (512, 512)
model = dict(
    type='IRNet',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=crop_size),
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    head=dict(type='IRNetHead', in_channels=(64, 256, 512, 1024, 2048), boundary_channels=32,
              displacement_channels=(64, 128, 256, 256, 256), radius=10, displacement_grad_scale=10.0),
    test_cfg=dict(flip=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(640, 640), ratio_range=(0.5, 1.0), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path=relation_dir), pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
# label_dataloader (the images the IRNet tools synthesise labels for) comes with the dataset base: train_aug, the
# list the CAM config's stages cover too.
# label synthesis (Sec. 5), read by tools/irnet/{make_pseudo_labels,benchmark,visualize}.py: the paper's values
label_synthesis = dict(cam_bg=0.15, sem_bg=0.25, ins_bg=0.25, radius=5, beta=10, exp_times=8, iterations=100,
                       centroid_threshold=2.5)
max_epochs = 3
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
log_processor = dict(by_epoch=True)
