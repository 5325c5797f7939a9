# The toy benchmark's baseline (issue 11, Sec. 8; the paper's Table 3 "baseline"): the same DeepLabV3+ (quarter-width
# ResNet-18 V1c, OS16) as the PSI toy config, but a stock EncoderDecoder and DepthwiseSeparableASPPHead (no CPP), the
# partial cross-entropy alone, trained on the scribbles (no SLD: LoadSLDLabels without labels gives them alone).
_base_ = ['./deeplabv3plus_r18-quarter-os16-cpp-sld_1k_toy-scribble.py']
_head = {k: v for k, v in _base_.model.decode_head.items() if k not in ('type', 'cpp_channels', 'loss_decode')}
model = dict(
    _delete_=True,
    **{k: v for k, v in _base_.model.items() if not k.startswith('sld_') and k not in ('type', 'neck', 'decode_head')},
    type='EncoderDecoder',
    decode_head=dict(type='DepthwiseSeparableASPPHead', **_head,
                     loss_decode=[dict(type='CrossEntropyLoss', avg_non_ignore=True)]))
custom_hooks = []
# scribbles alone: no sld_dir, so that no state.json of an SLD run can switch this one to diffused labels
train_dataloader = dict(dataset=dict(pipeline=[dict(t, sld_dir=None) if t['type'] == 'LoadSLDLabels' else t
                                               for t in _base_.train_pipeline]))
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=_base_.optim_wrapper.optimizer)
work_dir = 'work_dirs/psi_toy/baseline'
