# WS^2 on YouTube-Objects (Chen et al., CVPR 2020, Table 5): the class classifier is the A2D actor classifier (TSN
# ResNet-50 from ImageNet at output stride 16, mmaction2's Kinetics-400 TSN recipe) on the 10 classes of the shots'
# video-level tags, trained on the shots without masks and scored on the 126 test shots. YouTube-Objects has no
# action tags, so Stage 1 runs on this classifier's Grad-CAM maps alone (ws2_pa.with_action=False):
#   python tools/ws2/make_pa.py configs/ws2/tsn_r50-os16_100e_yto-actor.py CKPT --out-dir DIR
# (PNG labels: class index + 1, 0 background; see configs/_base_/datasets/youtube_objects.py for the layout).
_base_ = ['./tsn_r50-os16_100e_a2d-actor.py', '../_base_/datasets/youtube_objects.py']
num_classes = 10  # YTO_CLASSES
model = dict(cls_head=dict(num_classes=num_classes))
ws2_pa = dict(with_action=False)
train_dataloader = dict(dataset=dict(_delete_=True, split='train', pipeline=_base_.train_pipeline,  # noqa: F821
                                     **_base_.yto_videos))
val_dataloader = dict(dataset=dict(_delete_=True, split='test', pipeline=_base_.val_pipeline,  # noqa: F821
                                   test_mode=True, **_base_.yto_videos))
test_dataloader = dict(dataset=dict(_delete_=True, split='test', pipeline=_base_.test_pipeline,  # noqa: F821
                                    test_mode=True, **_base_.yto_videos))
