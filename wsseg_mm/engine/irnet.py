"""Settings of IRNet's label synthesis (Sec. 5) shared by the IRNet tools."""
from typing import Optional

# The paper's values: CAMs scored at background 0.15 (the authors' CAM evaluation); random walk over radius-5
# pairs, beta 10, 2^8 steps; background 0.25 for the propagated semantic and instance scores; displacement
# refinement for 100 iterations, centroids where |D| < 2.5.
DEFAULT_LABEL_SYNTHESIS = dict(cam_bg=0.15, sem_bg=0.25, ins_bg=0.25, radius=5, beta=10, exp_times=8,
                               iterations=100, centroid_threshold=2.5)


def label_synthesis_settings(cfg, **overrides: Optional[float]) -> dict:
    """The config's ``label_synthesis`` dict over :data:`DEFAULT_LABEL_SYNTHESIS`, then the ``overrides`` that
    are not None (command-line options); unknown keys raise a ``KeyError`` naming them."""
    settings = dict(DEFAULT_LABEL_SYNTHESIS)
    given = dict(cfg.get('label_synthesis', None) or {})
    given.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(given) - set(settings))
    if unknown:
        raise KeyError(f'label_synthesis: unknown keys {unknown} (known: {sorted(settings)})')
    settings.update(given)
    return settings


def walk_settings(settings: dict) -> dict:
    """The random-walk keyword arguments (radius, beta, exp_times) of a settings dict."""
    return {k: settings[k] for k in ('radius', 'beta', 'exp_times')}


def instance_settings(settings: dict) -> dict:
    """Keyword arguments of :func:`synthesize_irnet_labels` (walk, background, centroid search)."""
    return dict(walk_settings(settings), bg_threshold=settings['ins_bg'], iterations=settings['iterations'],
                centroid_threshold=settings['centroid_threshold'])
