"""tools/benchmarks/gradcam_speed.py at its smallest sizes on the CPU: the printed table (both WS^2 recognizers,
times, ratios) and the agreement of the maps; no timing value is asserted."""
import importlib.util
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# model, input, ours / make_pa / mmaction ms, mmaction/ours, mmaction/make_pa, max|diff| mmaction / make_pa
ROW = re.compile(r'^(TSN|I3D) R-50 OS16 \((2D|3D)\)\s+(\d+) x (\d+) x (\d+)' + r'\s+(\S+)' * 7 + r'$')


def load_tool():
    spec = importlib.util.spec_from_file_location('gradcam_speed', osp.join(REPO, 'tools/benchmarks/gradcam_speed.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_run_prints_both_models_and_agrees(capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # the configs are named relative to the repository
    load_tool().main(['--small', '--repeats', '1', '--device', 'cpu'])
    out = capsys.readouterr().out
    assert 'device cpu' in out and '2 target classes' in out
    assert 'min-max normalised per clip' in out and "divided by each frame's maximum" in out
    assert 'warning' not in out  # mmaction's maps are not all zero
    rows = {m.group(1): m for m in map(ROW.match, out.splitlines()) if m}
    assert sorted(rows) == ['I3D', 'TSN'], out
    assert rows['TSN'].group(2) == '2D' and rows['I3D'].group(2) == '3D'
    assert rows['TSN'].group(3, 4, 5) == ('2', '64', '64') and rows['I3D'].group(3, 4, 5) == ('16', '64', '64')
    for match in rows.values():
        ours, make_pa, mmaction, ratio, ratio_make_pa, diff, diff_make_pa = map(float, match.groups()[5:])
        assert min(ours, make_pa, mmaction) > 0
        assert ratio == pytest.approx(mmaction / ours, rel=0.05, abs=0.01)
        assert ratio_make_pa == pytest.approx(mmaction / make_pa, rel=0.05, abs=0.01)
        # measured: 5.4e-7 (TSN), 1.3e-6 (I3D) against mmaction; 2.4e-7 make_pa against ours
        assert 0 <= diff < 1e-5 and 0 <= diff_make_pa < 1e-5


def test_too_many_targets_named(monkeypatch):
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit, match='--targets 8: .*tsn_r50-os16_100e_a2d-actor.py has 7 classes'):
        load_tool().main(['--small', '--repeats', '1', '--device', 'cpu', '--targets', '8'])
    with pytest.raises(SystemExit, match='--repeats must be at least 1'):
        load_tool().main(['--repeats', '0'])
