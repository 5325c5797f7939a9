# The demo's stock FCN trained on IRNet's semantic pseudo labels of the toy train images instead of scribbles,
# scored on the toy val masks.
_base_ = ['../../toy/fcn_r18-tiny_1k_toy-pseudo.py']
train_dataloader = dict(dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='irnet/pseudo/sem')))
work_dir = 'work_dirs/irnet_toy/fcn_on_pseudo'
