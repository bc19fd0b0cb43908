"""A Python project's dependencies, packed by `fabricks build` under .fabricks/site-packages in
the module layer: importable after the project's own modules (a module of the project's wins),
and with their metadata, so importlib.metadata.version() and entry points work as after pip."""

import importlib.metadata
import json
import pathlib
import posixpath
import re

ROOT = ".fabricks/site-packages"
# module name -> why its package was left out of the build (written by fabricks build)
LEFT_OUT = ".fabricks/left-out.json"


def left_out(layer) -> dict:
    data = layer.read(LEFT_OUT)
    return json.loads(data) if data else {}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class LayerDistribution(importlib.metadata.Distribution):
    def __init__(self, layer, folder: str) -> None:
        self._layer = layer
        self._folder = folder

    def read_text(self, filename):
        data = self._layer.read(f"{self._folder}/{filename}")
        return None if data is None else data.decode("utf-8")

    def locate_file(self, path):
        return pathlib.PurePosixPath(ROOT, path)


class DistributionFinder(importlib.metadata.DistributionFinder):
    """Finds no modules; answers importlib.metadata about the packed dependencies."""

    def __init__(self, layer) -> None:
        self._layer = layer

    def find_spec(self, fullname, path=None, target=None):
        return None

    def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):
        wanted = _normalize(context.name) if context.name else None
        for folder in sorted(self._layer.dirs()):
            if posixpath.dirname(folder) != ROOT or not folder.endswith(".dist-info"):
                continue
            name = posixpath.basename(folder)[: -len(".dist-info")].rsplit("-", 1)[0]
            if wanted is None or _normalize(name) == wanted:
                yield LayerDistribution(self._layer, folder)
