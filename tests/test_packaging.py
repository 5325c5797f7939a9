"""What ``pip install .`` gives: a wheel that carries ``configs/``, ``tools/`` and ``model-index.yml`` in
``wsseg_mm/.mim`` (as OpenMMLab packages do, for ``mim train`` / ``mim test``) and declares its dependency ranges;
an editable build (``make install``) that ships nothing and leaves the source tree alone; a model index whose every
entry is a config of the repository, and every method config in it. The builds run on a copy of the repository."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
import yaml

from conftest import REPO

SHIPPED = ('pyproject.toml', 'setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml', 'wsseg_mm', 'configs',
           'tools')


def repo_configs():
    """Every config file of the repository, relative to ``configs/``."""
    return sorted(osp.relpath(p, osp.join(REPO, 'configs'))
                  for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    """A copy of what a build reads (no caches, no .venv, no data)."""
    root = tmp_path_factory.mktemp('src') / 'wsseg_mm_src'
    root.mkdir()
    skip = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info', '.mim')
    for name in SHIPPED:
        path = osp.join(REPO, name)
        if osp.isdir(path):
            shutil.copytree(path, root / name, ignore=skip)
        else:
            shutil.copy2(path, root / name)
    return root


def build(args, cwd):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.fixture(scope='module')
def wheel(source, tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    build(['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', str(out), str(source)], cwd=out)
    wheels = glob.glob(str(out / 'wsseg_mm-*.whl'))
    assert len(wheels) == 1
    return wheels[0]


@pytest.mark.slow  # builds a wheel (~15 s)
def test_wheel_ships_configs_tools_and_model_index(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    mim = 'wsseg_mm/.mim/'
    assert sorted(n[len(mim + 'configs/'):] for n in names if n.startswith(mim + 'configs/')
                  and n.endswith('.py')) == repo_configs()
    assert mim + 'model-index.yml' in names
    for method in ('irnet', 'bbam', 'psi', 'toy'):
        assert f'{mim}configs/{method}/metafile.yml' in names
    tools = {n[len(mim + 'tools/'):] for n in names if n.startswith(mim + 'tools/')}
    assert {'train.py', 'test.py', 'dist_train.sh', 'dist_test.sh', 'slurm_train.sh', 'slurm_test.sh',
            'slurm_tool.sh', 'bbam.py', 'irnet/make_cams.py'} <= tools
    assert 'wsseg_mm/__init__.py' in names and 'wsseg_mm/compat.py' in names
    assert not any('__pycache__' in n or n.endswith('.pyc') for n in names)
    assert not any(n.startswith(('configs/', 'tools/', 'tests/')) for n in names)  # only inside the package
    requires = [line.split(': ', 1)[1] for line in metadata.splitlines() if line.startswith('Requires-Dist: ')]
    for spec in ('mmcv<2.2.0,>=2.0.0', 'mmdet<3.4.0,>=3.3.0', 'mmsegmentation<1.3.0,>=1.2.2',
                 'mmengine<1.0.0,>=0.10.0', 'mmaction2<1.3.0,>=1.2.0'):
        assert spec in requires, requires
    summary = {}
    for name in names:
        top = name.split('/')[2] if name.startswith(mim) and name.count('/') > 2 else name.split('/')[0]
        summary[top] = summary.get(top, 0) + 1
    print('wheel', osp.basename(wheel), len(names), 'files:', summary)


@pytest.mark.slow  # installs the wheel into a folder and runs its tools/test.py from outside the repository
def test_installed_wheel_runs_its_shipped_tools(wheel, tmp_path):
    target = tmp_path / 'site'
    build(['-m', 'pip', 'install', '--no-deps', '--no-index', '--target', str(target), wheel], cwd=tmp_path)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), OMP_NUM_THREADS='1')
    tool = target / 'wsseg_mm' / '.mim' / 'tools' / 'test.py'
    config = target / 'wsseg_mm' / '.mim' / 'configs' / 'toy' / 'fcn_r18-tiny_1k_toy-scribble.py'
    probe = ("import wsseg_mm, mmengine.config as c; print(wsseg_mm.__file__); "
             f"print(c.Config.fromfile({str(config)!r}).model.type)")
    proc = subprocess.run([sys.executable, '-c', probe], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == [str(target / 'wsseg_mm' / '__init__.py'), 'EncoderDecoder']
    proc = subprocess.run([sys.executable, str(tool), '--help'], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and '--out' in proc.stdout, proc.stderr[-3000:]


@pytest.mark.slow  # builds an sdist and an editable wheel
def test_sdist_and_editable_builds(source, tmp_path):
    build(['setup.py', '-q', 'sdist', '-d', str(tmp_path)], cwd=source)
    with tarfile.open(glob.glob(str(tmp_path / 'wsseg_mm-*.tar.gz'))[0]) as archive:
        names = {n.split('/', 1)[1] for n in archive.getnames() if '/' in n}
    assert {'model-index.yml', 'setup.py', 'MANIFEST.in', 'tools/test.py', 'tools/slurm_test.sh'} <= names
    assert {osp.join('configs', c) for c in repo_configs()} <= names
    # what `pip install -e .` (make install) builds: no .mim anywhere, nothing written into the package
    script = ('import sys; from setuptools import build_meta; '
              f'print(build_meta.build_editable({str(tmp_path / "ed")!r}))')
    os.makedirs(tmp_path / 'ed')
    build(['-c', script], cwd=source)
    with zipfile.ZipFile(glob.glob(str(tmp_path / 'ed' / '*.whl'))[0]) as archive:
        assert not any('.mim' in n for n in archive.namelist())
    assert not osp.exists(source / 'wsseg_mm' / '.mim')


def test_model_index_lists_every_method_config():
    index = yaml.safe_load(open(osp.join(REPO, 'model-index.yml')))
    listed = []
    for metafile in index['Import']:
        meta = yaml.safe_load(open(osp.join(REPO, metafile)))
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections, (metafile, model['Name'])
            assert osp.isfile(osp.join(REPO, model['Config'])), f'{metafile}: {model["Config"]} does not exist'
            assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
            listed.append(osp.relpath(model['Config'], 'configs'))
    assert len(listed) == len(set(listed))
    missing = [c for c in repo_configs() if not c.startswith('_base_/') and c not in listed]
    assert not missing, f'configs missing from the model index: {missing}; add them to configs/<method>/metafile.yml'
