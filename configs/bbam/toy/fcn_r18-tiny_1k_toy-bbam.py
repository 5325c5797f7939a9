# The demo's stock FCN trained on BBAM's semantic pseudo labels of the toy train images (bbam/semantic),
# scored on the toy val masks.
_base_ = ['../../toy/fcn_r18-tiny_1k_toy-pseudo.py']
train_dataloader = dict(dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='bbam/semantic')))
work_dir = 'work_dirs/bbam_toy/fcn_on_pseudo'
