"""The layers of ../shared/ARCHITECTURE.md: a module of wsseg_mm imports only from its own layer or below.

    python tests/test_layers.py      # prints the package-level import graph with each package's layer
"""
import ast
import os.path as osp
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / 'wsseg_mm'

# longest prefix wins; hooks that run a whole pipeline inside training stand on the apis floor
LAYERS = {
    'wsseg_mm.compat': 0,
    'wsseg_mm.metainfo': 0,
    'wsseg_mm.fileio': 0,
    'wsseg_mm.functional': 1,
    'wsseg_mm.toy': 2,
    'wsseg_mm.datasets': 2,
    'wsseg_mm.models': 2,
    'wsseg_mm.evaluation': 2,
    'wsseg_mm.engine': 2,
    'wsseg_mm.visualization': 2,
    'wsseg_mm.engine.hooks': 3,
    'wsseg_mm.apis': 3,
    'wsseg_mm': 4,  # the package itself: imports everything to register it
}


def layer_of(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + '.')), key=len)
    return LAYERS[best]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports_of(path: Path):
    """The wsseg_mm modules a file imports (relative imports resolved), with line numbers."""
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith('wsseg_mm'):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            if target.startswith('wsseg_mm'):
                if node.module is None or target in LAYERS:  # `from . import x`: the submodules
                    for alias in node.names:
                        yield f'{target}.{alias.name}', node.lineno
                else:
                    yield target, node.lineno


def import_edges():
    """(importer, imported, file:line); a package's ``__init__`` re-exporting its own submodules is not an edge."""
    for path in sorted(PACKAGE.rglob('*.py')):
        src = module_name(path)
        for target, line in imports_of(path):
            if path.name == '__init__.py' and target.startswith(src + '.'):
                continue
            yield src, target, f'{path.relative_to(PACKAGE.parent)}:{line}'


def test_no_import_from_a_higher_layer():
    upward = [f'{where}: {src} (layer {layer_of(src)}) imports {dst} (layer {layer_of(dst)})'
              for src, dst, where in import_edges() if layer_of(dst) > layer_of(src)]
    assert not upward, '\n'.join(upward)


def test_only_the_package_imports_the_toy_generator():
    users = [where for src, dst, where in import_edges()
             if dst.startswith('wsseg_mm.toy') and not src.startswith('wsseg_mm.toy')]
    assert not users, users


def test_layer_table_covers_every_package():
    for path in PACKAGE.rglob('*.py'):
        assert layer_of(module_name(path)) is not None


def _package(module: str) -> str:
    return max((p for p in LAYERS if module == p or module.startswith(p + '.')), key=len)


if __name__ == '__main__':
    graph = defaultdict(set)
    for src, dst, _ in import_edges():
        if _package(src) != _package(dst):
            graph[_package(src)].add(_package(dst))
    for src in sorted(graph, key=lambda p: (layer_of(p), p)):
        targets = ', '.join(f'{d} ({layer_of(d)})' for d in sorted(graph[src], key=lambda p: (layer_of(p), p)))
        print(f'{src} ({layer_of(src)}) -> {targets}')
    print('upward imports:', sum(layer_of(d) > layer_of(s) for s, d, _ in import_edges()),
          '| files scanned:', len(list(PACKAGE.rglob('*.py'))), '|', osp.relpath(str(PACKAGE)))
