"""Build hook: ship ``configs/``, ``tools/`` and ``model-index.yml`` inside the package as ``wsseg_mm/.mim``.

OpenMMLab packages carry their configs and tools in ``<package>/.mim`` so that an installed package (``pip install
.``, a wheel) is usable without the repository: ``mim train wsseg_mm CONFIG`` / ``mim test`` find the config and
``tools/train.py`` / ``tools/test.py`` there, and ``model-index.yml`` lists the configs (``mim search``).

Everything else (name, version, dependency ranges) is in ``pyproject.toml``. The copy goes into the build folder
only, never into the source tree; an editable install (``make install``: ``pip install -e .``) ships nothing, the
repository's own ``configs/`` and ``tools/`` being next to the package.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')
SKIP = shutil.ignore_patterns('__pycache__', '*.pyc', '*.pyo')


class BuildPyWithMim(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` to ``<build_lib>/wsseg_mm/.mim`` (non-editable builds)."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        target = osp.join(self.build_lib, 'wsseg_mm', '.mim')
        shutil.rmtree(target, ignore_errors=True)  # nothing left over from an earlier build
        for name in MIM_FILES:
            source = osp.join(ROOT, name)
            if not osp.exists(source):
                raise FileNotFoundError(f'{source} is missing: the package ships it in wsseg_mm/.mim (setup.py); '
                                        'build from a full checkout or an sdist made with MANIFEST.in')
            destination = osp.join(target, name)
            if osp.isdir(source):
                shutil.copytree(source, destination, ignore=SKIP, dirs_exist_ok=True)
            else:
                os.makedirs(target, exist_ok=True)
                shutil.copy2(source, destination)


setup(cmdclass={'build_py': BuildPyWithMim})
