# WS^2 toy benchmark (issue 12): A2D-layout clips of 16 frames at 128x128, more of them than the default toy's 60
# (47 single-actor / 51 single-action train clips are too few to train the stage-1 classifiers):
#   python tools/make_toy_data.py --out data/toy_ws2 --no-images --num-train-videos 240 --num-test-videos 60
# 240 train clips: 186 show one actor, 189 one action; 60 test clips: 43 / 40.
ws2_toy_root = 'data/toy_ws2'
ws2_toy_a2d_root = ws2_toy_root + '/A2D/Release'
# The actor classifier's stand-in for ImageNet: object-centred images of the seven actor shapes (the six image classes
# plus the videos' hexagon), radius 8-30% of the side:
#   python tools/make_toy_data.py --out data/toy_ws2 --no-images --no-video --num-objects 3000 --object-classes videos
ws2_toy_objects_root = ws2_toy_root + '/ToyObjects'
ws2_toy_object_classes = ('background', 'disc', 'square', 'triangle', 'star', 'cross', 'ring', 'hexagon')
# The stage-1 classifiers' toy training, shared by configs/ws2/toy (from scratch: there is no ImageNet or Kinetics
# here; SGD at the Kinetics recipes' lr stays near the label prior, AdamW fits the toy classes).
ws2_toy_max_epochs = 30
ws2_toy_train_cfg = dict(max_epochs=ws2_toy_max_epochs, val_interval=5)
ws2_toy_optimizer = dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4)
ws2_toy_param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', T_max=ws2_toy_max_epochs, eta_min=0, by_epoch=True, begin=0,
         end=ws2_toy_max_epochs, convert_to_iter_based=True)
]
ws2_toy_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=ws2_toy_max_epochs, max_keep_ckpts=1))
ws2_toy_batch_size = 16
