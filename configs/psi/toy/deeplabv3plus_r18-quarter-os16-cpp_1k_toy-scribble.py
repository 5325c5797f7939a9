# Toy benchmark, "+CPP": the PSI toy network (CPP neck + CPPSepASPPHead, L_p) as a stock EncoderDecoder (no g, no
# L_sld), trained on the scribbles alone (no SLD), so that it differs from P by CPP only (time included).
_base_ = ['./deeplabv3plus_r18-quarter-os16-cpp-sld_1k_toy-scribble.py']
model = dict(_delete_=True, **{k: v for k, v in _base_.model.items() if not k.startswith('sld_') and k != 'type'},
             type='EncoderDecoder')
custom_hooks = []
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=_base_.optim_wrapper.optimizer)
# scribbles alone: no sld_dir, so that no state.json of an SLD run can switch this one to diffused labels
train_dataloader = dict(dataset=dict(pipeline=[dict(t, sld_dir=None) if t['type'] == 'LoadSLDLabels' else t
                                               for t in _base_.train_pipeline]))
work_dir = 'work_dirs/psi_toy/cpp'
