"""Per-parameter descriptions from a Google-style "Args:" section of a docstring."""

import inspect
import re

_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params):\s*$")
_ENTRY = re.compile(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")


def parameter_descriptions(doc) -> dict:
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    out: dict = {}
    inside = False
    indent = None
    current = None
    for line in lines:
        if not inside:
            inside = bool(_SECTION.match(line.strip())) and not line.startswith(" ")
            continue
        if not line.strip():
            current = None
            continue
        width = len(line) - len(line.lstrip())
        if width == 0:
            break  # the next section
        if indent is None:
            indent = width
        m = _ENTRY.match(line.strip())
        if width == indent and m:
            current = m.group(1).lstrip("*")
            out[current] = m.group(3).strip()
        elif current is not None and width > indent:
            out[current] = (out[current] + " " + line.strip()).strip()
    return {k: v for k, v in out.items() if v}
