# Stage 0 of the toy IRNet pipeline, the toy's stand-in for ImageNet pretraining: the CAM classifier's network
# trained from scratch to classify object-centred images (one textured object on a cluttered background,
# make_toy_data.py --num-objects 3000 -> data/toy/ToyObjects). The toy CAM classifier and IRNet start from its
# backbone as the real configs start from ImageNet weights. From scratch on the 400 multi-object benchmark
# images alone the classifier barely leaves the label prior in 2,000 iterations (loss 0.35, CAMs spread over
# the background).
_base_ = ['./cam_r18-quarter-os8_80e_toy.py']
work_dir = 'work_dirs/irnet_toy/pretrain'
model = dict(backbone=dict(init_cfg=None))
objects = dict(data_root={{_base_.toy_objects_root}}, ann_file='ImageSets/Main/train.txt')
train_dataloader = dict(dataset=objects)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
