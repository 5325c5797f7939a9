# Toy benchmark, "+SLD": the P network (stock DepthwiseSeparableASPPHead, no CPP, L_p) with PSI's label diffusion
# (PSISegmentor trains g; SLDHook expands the labels after stages 0-2 of 4).
_base_ = ['./deeplabv3plus_r18-quarter-os16-cpp-sld_1k_toy-scribble.py']
_head = {k: v for k, v in _base_.model.decode_head.items() if k not in ('type', 'cpp_channels')}
model = dict(neck=None, decode_head=dict(_delete_=True, type='DepthwiseSeparableASPPHead', **_head))
work_dir = 'work_dirs/psi_toy/sld'
