"""Patches for packages a service depends on, applied right after such a package's module has
run: the package stays the user's (requirements.txt), and nothing here imports it first."""

import importlib.abc
import sys

_PATCHES = {}


class _AfterImport(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: lets the other finders find a patched module, then patches it once it has run."""

    def find_spec(self, fullname, path=None, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


_finder = _AfterImport()


def register(module: str, patch) -> None:
    """patch(module) runs once `module` has been imported; the finder goes first on sys.meta_path."""
    _PATCHES[module] = patch
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    sys.meta_path.insert(0, _finder)
