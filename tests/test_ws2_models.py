"""WS^2's DeepLabV2Head (mmseg) and CutPasteDiscriminator (root MODELS): shapes, sums, losses, gradients."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import wsseg_mm  # noqa: F401  (registers the models)


def _head(**kwargs):
    from mmseg.registry import MODELS
    cfg = dict(type='DeepLabV2Head', _scope_='mmseg', in_channels=6, num_classes=5)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(n, size, num_classes, seed=0):
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(n):
        sample = SegDataSample(metainfo=dict(img_shape=size, pad_shape=size, ori_shape=size))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, *size), generator=generator))
        samples.append(sample)
    return samples


# ---------------------------------------------------------------------------------------------------------------
# DeepLabV2Head
# ---------------------------------------------------------------------------------------------------------------
def test_deeplabv2_head_is_the_sum_of_dilated_classifiers_on_odd_sizes():
    torch.manual_seed(0)
    head = _head()
    head.init_weights()
    assert not hasattr(head, 'conv_seg')
    assert [b.dilation for b in head.aspp] == [(6, 6), (12, 12), (18, 18), (24, 24)]
    assert all(b.kernel_size == (3, 3) and b.in_channels == 6 and b.out_channels == 5 for b in head.aspp)
    assert all(float(b.bias.detach().abs().max()) == 0 for b in head.aspp)  # N(0, 0.01) weights, zero bias
    assert 0.003 < float(torch.cat([b.weight.detach().flatten() for b in head.aspp]).std()) < 0.03
    feat = torch.randn(2, 6, 13, 17)
    low = torch.randn(2, 3, 26, 34)
    logits = head([low, feat])  # in_index = -1
    assert logits.shape == (2, 5, 13, 17)
    expected = sum(F.conv2d(feat, b.weight, b.bias, padding=d, dilation=d) for b, d in zip(head.aspp, (6, 12, 18, 24)))
    torch.testing.assert_close(logits, expected)


def test_deeplabv2_head_loss_predict_and_gradients():
    torch.manual_seed(0)
    head = _head(dilations=(1, 2))
    feat = torch.randn(2, 6, 7, 9, requires_grad=True)
    losses = head.loss([feat], _samples(2, (14, 18), 5), train_cfg=None)
    assert set(losses) == {'loss_ce', 'acc_seg'}
    losses['loss_ce'].backward()
    assert feat.grad.abs().sum() > 0
    assert all(b.weight.grad.abs().sum() > 0 and b.bias.grad.abs().sum() > 0 for b in head.aspp)
    logits = head.predict([feat.detach()], [dict(img_shape=(14, 18), pad_shape=(14, 18))], test_cfg=None)
    assert logits.shape == (2, 5, 14, 18)


def test_deeplabv2_head_config_errors():
    with pytest.raises(ValueError, match='channels must be None'):
        _head(channels=512)
    assert _head(channels=6).channels == 6
    with pytest.raises(ValueError, match='at least one dilation'):
        _head(dilations=())
    head = _head(dropout_ratio=0.5)
    assert head.dropout is not None


def test_deeplabv2_head_in_an_encoder_decoder():
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='EncoderDecoder', _scope_='mmseg',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1], size=(33, 41)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=4, out_indices=(3, ),
                      strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), norm_cfg=dict(type='BN')),
        decode_head=dict(type='DeepLabV2Head', in_channels=32, num_classes=4),
        train_cfg=ConfigDict(), test_cfg=ConfigDict(mode='whole')))
    inputs = [torch.rand(3, 33, 41) * 255 for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=_samples(2, (33, 41), 4)), training=True)
    losses = model(**data, mode='loss')
    losses['decode.loss_ce'].backward()
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(dict(inputs=inputs, data_samples=_samples(2, (33, 41), 4))),
                      mode='predict')
    assert preds[0].pred_sem_seg.data.shape == (1, 33, 41)


# ---------------------------------------------------------------------------------------------------------------
# CutPasteDiscriminator
# ---------------------------------------------------------------------------------------------------------------
def _discriminator(**kwargs):
    from mmengine.registry import MODELS
    return MODELS.build(dict(type='CutPasteDiscriminator', base_channels=4, **kwargs))


def test_discriminator_layers_and_shapes():
    d = _discriminator()
    convs = [m for m in d.features if isinstance(m, torch.nn.Conv2d)]
    relus = [m for m in d.features if isinstance(m, torch.nn.LeakyReLU)]
    assert len(convs) == 5 and len(relus) == 5
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    assert [c.out_channels for c in convs] == [4, 8, 16, 32, 32]
    assert d.features(torch.zeros(1, 3, 64, 64)).shape == (1, 32, 2, 2)  # 64-px patches: 64 -> 2
    assert d(torch.zeros(3, 3, 64, 64)).shape == (3, )
    assert d(torch.zeros(2, 3, 45, 50)).shape == (2, )
    with pytest.raises(ValueError, match=r'\(N, C, h, w\)'):
        d(torch.zeros(3, 64, 64))


def test_discriminator_builds_from_a_library_scope():
    from mmseg.registry import MODELS
    d = MODELS.build(dict(type='CutPasteDiscriminator', _scope_='mmseg', base_channels=2))
    assert type(d).__name__ == 'CutPasteDiscriminator'


def test_discriminator_loss_by_hand_and_predict():
    d = _discriminator()
    torch.nn.init.zeros_(d.logit.weight)
    torch.nn.init.constant_(d.logit.bias, 0.7)  # every logit is 0.7
    losses = d.loss(torch.rand(2, 3, 32, 32), torch.rand(3, 3, 32, 32))
    assert float(losses['loss_real']) == pytest.approx(float(F.softplus(torch.tensor(-0.7))), rel=1e-6)
    assert float(losses['loss_fake']) == pytest.approx(float(F.softplus(torch.tensor(0.7))), rel=1e-6)
    probs = d.predict(torch.rand(4, 3, 32, 32))
    assert not probs.requires_grad
    torch.testing.assert_close(probs, torch.full((4, ), float(torch.sigmoid(torch.tensor(0.7)))))


def test_discriminator_gradients_and_a_few_adam_steps_separate_real_from_fake():
    torch.manual_seed(0)
    d = _discriminator()
    real = torch.rand(8, 3, 32, 32) * 0.2 + 0.4  # smooth patches
    fake = real.clone()
    fake[:, :, 8:24, 8:24] = torch.rand(8, 3, 1, 1) * 0.1  # a pasted dark flat square
    first = d.loss(real, fake)
    sum(first.values()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())
    optimizer = torch.optim.Adam(d.parameters(), lr=2e-3)
    for _ in range(30):
        optimizer.zero_grad()
        loss = sum(d.loss(real, fake).values())
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.5 * float(sum(first.values()).detach())
    assert (d.predict(real) > 0.5).all() and (d.predict(fake) < 0.5).all()
