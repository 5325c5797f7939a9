"""WS^2 Stage 1 Grad-CAM: Eq. 4-5 by hand, slice-to-frame mapping, and RecognizerGradCAM on tiny mmaction
recognizers (agreement with ``mmaction.utils.GradCAM`` at the last features, difference at inner layers)."""
import copy

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import GradCAM
from mmengine.registry import DefaultScope

import wsseg_mm  # noqa: F401  (registers RecognizerGradCAM, applies the mmaction DRN stub)
from wsseg_mm.functional.gradcam import gradcam_map, gradcam_weights, normalize_maps, resize_maps, slice_frames
from wsseg_mm.models import RecognizerGradCAM

NUM_CLASSES = 5
PREPROCESSOR = dict(type='ActionDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3)
# ResNet3d-18, 8 base channels; OS8 and pool2: (N, 3, 8, 32, 32) -> A of (N, 64, 4, 4, 4)
I3D_CFG = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=18, base_channels=8, pretrained=None, pretrained2d=False,
                  conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, spatial_strides=(1, 2, 1, 1)),
    cls_head=dict(type='I3DHead', num_classes=NUM_CLASSES, in_channels=64),
    data_preprocessor=dict(**PREPROCESSOR, format_shape='NCTHW'))
# ResNet-18 at OS8, 4 segments: (N, 4, 3, 32, 32) -> A of (N * 4, 512, 4, 4)
TSN_CFG = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, pretrained=None, strides=(1, 2, 1, 1)),
    cls_head=dict(type='TSNHead', num_classes=NUM_CLASSES, in_channels=512),
    data_preprocessor=dict(**PREPROCESSOR, format_shape='NCHW'))


def build_recognizer(cfg, seed=0):
    """A tiny recognizer with non-trivial eval-mode statistics and a head whose scores spread (random weights)."""
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(copy.deepcopy(cfg))
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    torch.nn.init.normal_(model.cls_head.fc_cls.weight, std=0.5)
    torch.nn.init.zeros_(model.cls_head.fc_cls.bias)
    return model.eval()


@pytest.fixture(scope='module')
def i3d():
    return build_recognizer(I3D_CFG)


@pytest.fixture(scope='module')
def tsn():
    return build_recognizer(TSN_CFG)


def raw_batch(frame_shape, num_clips=2, seed=1):
    """A dataloader batch of raw frames: one (views, C, T, H, W) or (segments, C, H, W) tensor per clip."""
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, frame_shape, generator=gen).float() for _ in range(num_clips)]
    return dict(inputs=inputs, data_samples=[ActionDataSample() for _ in range(num_clips)])


# ---------------------------------------------------------------- layer 1: Eq. 4-5 by hand

# A: M = 2 channels over (T', H', W') = (2, 1, 2); grads average to w = (1, -1)
ACTS = torch.tensor([[[[1., 2.]], [[3., 4.]]], [[[2., 1.]], [[-1., 2.]]]])[None]
GRADS = torch.tensor([[[[1., 1.]], [[1., 1.]]], [[[2., 0.]], [[-2., -4.]]]])[None]


def test_gradcam_weights_by_hand():
    assert gradcam_weights(GRADS).tolist() == [[1.0, -1.0]]  # Eq. 5: Z = t'h'w' = 4
    assert gradcam_weights(GRADS.reshape(1, 2, 2, 2)).tolist() == [[1.0, -1.0]]  # 2D: Z = h'w' = 4
    # per time slice (mmaction's GradCAM): (N, M, T') = [[slice 0, slice 1] of channel 0, ... of channel 1]
    assert gradcam_weights(GRADS, per_slice=True).tolist() == [[[1.0, 1.0], [1.0, -3.0]]]


def test_gradcam_map_by_hand():
    # S = ReLU(A_0 - A_1) = ReLU([[-1, 1]], [[4, 2]])
    acts, grads = ACTS.clone(), GRADS.clone()
    out = gradcam_map(acts, grads)
    assert out.shape == (1, 2, 1, 2)
    assert out.tolist() == [[[[0.0, 1.0]], [[4.0, 2.0]]]]
    assert torch.equal(acts, ACTS) and torch.equal(grads, GRADS)  # inputs not mutated
    # 2D (N, M, H', W'): t' = 1; (2, 2) frame of A_0 = [[1, 2], [3, 4]], A_1 = [[2, 1], [-1, 2]]
    acts2d, grads2d = ACTS.reshape(1, 2, 2, 2), GRADS.reshape(1, 2, 2, 2)
    assert gradcam_map(acts2d, grads2d).tolist() == [[[[0.0, 1.0], [4.0, 2.0]]]]
    assert gradcam_map(acts2d.double(), grads2d.double()).dtype == torch.float64
    # per slice: slice 0 ReLU([1, 2] + [2, 1]) = [3, 3]; slice 1 ReLU([3, 4] - 3 [-1, 2]) = [6, 0]
    assert gradcam_map(ACTS, GRADS, per_slice=True).tolist() == [[[[3.0, 3.0]], [[6.0, 0.0]]]]
    with pytest.raises(ValueError, match='same shape'):
        gradcam_map(ACTS, GRADS[..., :1])
    with pytest.raises(ValueError, match='N, M'):
        gradcam_map(ACTS[0, 0], GRADS[0, 0])


def test_slice_frames():
    assert slice_frames(16, 4) == [0, 4, 8, 12]
    assert slice_frames(16, 4, offset=1) == [1, 5, 9, 13]
    assert slice_frames(8, 4, offset=1) == [1, 3, 5, 7]
    assert slice_frames(4, 4) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match='not a multiple'):
        slice_frames(10, 4)
    with pytest.raises(ValueError, match=r'offset must lie in \[0, 4\)'):
        slice_frames(16, 4, offset=4)
    with pytest.raises(ValueError, match='offset'):
        slice_frames(16, 4, offset=-1)
    with pytest.raises(ValueError, match='num_slices'):
        slice_frames(16, 0)
    with pytest.raises(ValueError, match='num_slices'):
        slice_frames(4, 8)
    with pytest.raises(TypeError, match='num_frames'):
        slice_frames(16.0, 4)


def test_resize_maps():
    maps = torch.arange(2.0, dtype=torch.float64).view(1, 2, 1, 1)  # (K, T', H', W'), constant slices 0 and 1
    frames = resize_maps(maps, (4, 6))
    assert frames.shape == (1, 2, 4, 6) and frames.dtype == torch.float64
    assert torch.equal(frames[0, 0], torch.zeros(4, 6)) and torch.equal(frames[0, 1], torch.ones(4, 6))
    volume = resize_maps(maps, (4, 3, 3))  # trilinear over time: 0, 0.25, 0.75, 1 (align_corners=False)
    assert volume.shape == (1, 4, 3, 3)
    assert volume[0, :, 0, 0].tolist() == [0.0, 0.25, 0.75, 1.0]
    assert torch.equal(maps, torch.arange(2.0, dtype=torch.float64).view(1, 2, 1, 1))
    with pytest.raises(ValueError, match='size'):
        resize_maps(maps, (4, ))


def test_normalize_maps():
    maps = torch.tensor([[[0., 1.], [4., 2.]], [[0., 0.], [0., 0.]], [[1., 3.], [5., 2.]]])
    before = maps.clone()
    out = normalize_maps(maps)
    torch.testing.assert_close(out, torch.tensor([[[0., .25], [1., .5]], [[0., 0.], [0., 0.]],
                                                 [[.2, .6], [1., .4]]]))
    assert torch.equal(maps, before)
    out = normalize_maps(maps, mode='minmax')
    assert out.tolist() == [[[0., .25], [1., .5]], [[0., 0.], [0., 0.]], [[0., .5], [1., .25]]]
    assert normalize_maps(torch.full((2, 2), 3.), mode='minmax').tolist() == [[0., 0.], [0., 0.]]
    # per clip: one maximum over the three maps
    assert normalize_maps(maps, num_dims=3).max() == 1 and normalize_maps(maps, num_dims=3)[2, 1, 0] == 1
    assert not torch.isnan(normalize_maps(torch.zeros(1, 2, 2))).any()
    with pytest.raises(ValueError, match='num_dims'):
        normalize_maps(maps, num_dims=4)
    with pytest.raises(ValueError, match='mode'):
        normalize_maps(maps, mode='sum')


# ---------------------------------------------------------------- layer 2: RecognizerGradCAM


def test_i3d_last_features_by_hand(i3d):
    """Under I3DHead (GAP + linear) dy^c/dA = W_c / (t'h'w'), so S = ReLU(W_c . A) / (t'h'w')."""
    inputs = torch.randn(2, 1, 3, 8, 32, 32, generator=torch.Generator().manual_seed(2))
    out = RecognizerGradCAM(i3d)(inputs, targets=[1, 3])
    with torch.no_grad():
        feats = i3d.extract_feat(inputs, stage='backbone')[0]  # (2, 64, 4, 4, 4)
    assert out.maps.shape == (2, 2, 4, 4, 4) and out.scores.shape == (2, NUM_CLASSES)
    assert out.targets.tolist() == [[1, 3], [1, 3]]
    weight = i3d.cls_head.fc_cls.weight[[1, 3]].detach()
    expected = torch.relu(torch.einsum('km,nmthw->nkthw', weight, feats)) / 64
    torch.testing.assert_close(out.maps, expected, rtol=1e-5, atol=1e-6)
    assert (out.maps > 0).any()


def test_targets_views_and_resize(i3d, tsn):
    # 3D: 2 clips x 2 views -> 4 rows; per-clip targets repeat over the views; several classes at once
    inputs = torch.randn(2, 2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(3))
    both = RecognizerGradCAM(i3d)(inputs, targets=torch.tensor([[0, 2], [4, 1]]))
    assert both.targets.tolist() == [[0, 2], [0, 2], [4, 1], [4, 1]]
    assert both.maps.shape == (4, 2, 4, 4, 4)
    one = RecognizerGradCAM(i3d)(inputs, targets=torch.tensor([2, 2, 1, 1]))  # (R, ) per row
    torch.testing.assert_close(one.maps[:, 0], both.maps[:, 1])
    top = RecognizerGradCAM(i3d)(inputs)  # default: the top-scoring class of each row
    assert top.targets[:, 0].tolist() == top.scores.argmax(1).tolist()
    assert RecognizerGradCAM(i3d)(inputs, resize='trilinear').maps.shape == (4, 1, 8, 32, 32)
    frames = RecognizerGradCAM(i3d)(inputs, resize='bilinear').maps
    assert frames.shape == (4, 1, 4, 32, 32)
    torch.testing.assert_close(frames, resize_maps(top.maps, (32, 32)))
    # 2D: the 4 segments are the time axis; maps per clip
    out = RecognizerGradCAM(tsn)(torch.randn(2, 4, 3, 32, 32), targets=3, resize='bilinear')
    assert out.maps.shape == (2, 1, 4, 32, 32) and out.scores.shape == (2, NUM_CLASSES)
    with pytest.raises(ValueError, match=r'\[0, 5\)'):
        RecognizerGradCAM(i3d)(inputs, targets=5)
    with pytest.raises(ValueError, match='rows'):
        RecognizerGradCAM(i3d)(inputs, targets=torch.zeros(3, 1, dtype=torch.long))
    with pytest.raises(ValueError, match='empty'):
        RecognizerGradCAM(i3d)(inputs, targets=[])
    with pytest.raises(ValueError, match='resize'):
        RecognizerGradCAM(i3d)(inputs, resize='nearest')
    with pytest.raises(KeyError, match='backbone.layer9'):
        RecognizerGradCAM(i3d, target_layer='backbone.layer9')


@pytest.mark.filterwarnings('ignore:Using a non-full backward hook')  # mmaction's own hook
@pytest.mark.parametrize('kind', ['3d', '2d'])
def test_agrees_with_mmaction_at_last_features(kind, i3d, tsn):
    """Under a GAP + linear head the gradient is constant over (t', h', w'): mmaction's per-slice averaging and
    Eq. 5's average over all positions give the same weights, so after its trilinear upsampling and per-clip
    min-max normalisation both maps agree."""
    model, frames = (i3d, (1, 3, 8, 32, 32)) if kind == '3d' else (tsn, (4, 3, 32, 32))
    data = raw_batch(frames)
    # mmaction's GradCAM leaves its hooks registered and forces eval: give it a copy
    reference, _ = GradCAM(copy.deepcopy(model), 'backbone')._calculate_localization_map(data, use_labels=False)
    ours = RecognizerGradCAM(model)(data, resize='trilinear')
    ours = normalize_maps(ours.maps[:, 0], num_dims=3, mode='minmax')
    assert reference.shape == ours.shape == (2, frames[0] * frames[2] if kind == '3d' else 4, 32, 32)
    assert reference.amax() == 1  # non-trivial maps
    assert (reference - ours).abs().max() < 1e-5  # measured: 4.2e-7 (3D), 7.8e-7 (2D)


@pytest.mark.filterwarnings('ignore:Using a non-full backward hook')  # mmaction's own hook
@pytest.mark.parametrize('kind', ['3d', '2d'])
def test_differs_from_mmaction_at_inner_layer(kind, i3d, tsn):
    """Before the last block the gradient varies over time: mmaction averages it over (h', w') per time slice (per
    segment in 2D), i.e. one weight vector per slice, while Eq. 5 averages over all t' h' w' positions (the paper's
    Z = t'h'w'), one weight vector per clip."""
    model, frames = (i3d, (1, 3, 8, 32, 32)) if kind == '3d' else (tsn, (4, 3, 32, 32))
    data = raw_batch(frames)
    reference, _ = GradCAM(copy.deepcopy(model), 'backbone/layer3')._calculate_localization_map(data,
                                                                                                use_labels=False)
    ours = RecognizerGradCAM(model, target_layer='backbone/layer3')(data, resize='trilinear')
    ours = normalize_maps(ours.maps[:, 0], num_dims=3, mode='minmax')
    assert reference.amax() == 1 and ours.amax() == 1
    assert (reference - ours).abs().max() > 0.05  # measured: 0.46 (3D), 0.20 (2D)
    # with one weight vector per slice, ours is mmaction's map
    per_slice = RecognizerGradCAM(model, target_layer='backbone/layer3', per_slice=True)(data, resize='trilinear')
    per_slice = normalize_maps(per_slice.maps[:, 0], num_dims=3, mode='minmax')
    assert (reference - per_slice).abs().max() < 1e-5


def test_inplace_relu_safe():
    """A = the BN output of a ConvModule, then ReLU(inplace=True): the map is the one of the same network with an
    out-of-place ReLU (the gradient is taken w.r.t. A as the layer produced it)."""
    inplace = build_recognizer(I3D_CFG)
    outplace = copy.deepcopy(inplace)
    assert inplace.backbone.layer4[0].conv1.activate.inplace
    outplace.backbone.layer4[0].conv1.activate.inplace = False
    inputs = torch.randn(2, 1, 3, 8, 32, 32, generator=torch.Generator().manual_seed(4))
    layer = 'backbone.layer4.0.conv1.bn'
    ours = RecognizerGradCAM(inplace, target_layer=layer)(inputs, targets=[0, 1, 2])
    reference = RecognizerGradCAM(outplace, target_layer=layer)(inputs, targets=[0, 1, 2])
    assert (ours.maps > 0).any()
    torch.testing.assert_close(ours.maps, reference.maps, rtol=0, atol=0)


def test_recognizer_left_unchanged(tsn):
    model = copy.deepcopy(tsn).train()
    state = copy.deepcopy(model.state_dict())
    inputs = torch.randn(1, 4, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():  # works inside an inference context too
        first = RecognizerGradCAM(model, target_layer='backbone.layer4.1.relu')(inputs, targets=[0, 1])
    second = RecognizerGradCAM(model, target_layer='backbone.layer4.1.relu')(inputs, targets=[0, 1])
    torch.testing.assert_close(first.maps, second.maps, rtol=0, atol=0)  # eval mode: BN statistics not updated
    assert all(module.training for module in model.modules())
    assert all(p.grad is None for p in model.parameters())
    for module in model.modules():
        assert not (module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                    or module._backward_pre_hooks)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_dtype_preserved(i3d):
    model = copy.deepcopy(i3d).double()
    inputs = torch.randn(1, 1, 3, 8, 32, 32, dtype=torch.float64)
    out = RecognizerGradCAM(model)(inputs.clone(), resize='bilinear')
    assert out.maps.dtype == torch.float64 and out.maps.device == inputs.device


def test_build_from_config():
    cfg = dict(type='RecognizerGradCAM', recognizer=I3D_CFG, target_layer='backbone/layer3', per_slice=True)
    with DefaultScope.overwrite_default_scope('mmaction'):
        cam = MODELS.build(cfg)
    assert isinstance(cam, RecognizerGradCAM) and cam.target_layer == 'backbone.layer3' and cam.per_slice
    assert type(cam.recognizer).__name__ == 'Recognizer3D'
    out = cam(torch.randn(1, 1, 3, 8, 32, 32), targets=2)
    assert out.maps.shape == (1, 1, 4, 4, 4)
    with pytest.raises(TypeError, match='Recognizer2D'):
        RecognizerGradCAM(torch.nn.Linear(2, 2))
