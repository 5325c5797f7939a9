# Toy benchmark, "P": the baseline + the smoothness term lambda_1 L_p (Eq. 11), the reference of PSI's ablations.
_base_ = ['./deeplabv3plus_r18-quarter-os16_1k_toy-scribble.py']
model = dict(decode_head=dict(loss_decode=[dict(type='CrossEntropyLoss', avg_non_ignore=True),
                                           dict(type='SmoothnessLoss', loss_weight=_base_.lambda1)]))
work_dir = 'work_dirs/psi_toy/lp'
