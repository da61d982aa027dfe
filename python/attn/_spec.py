"""Spec sources: a YAML path, YAML text, or a dict in the spec format."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any, Tuple, Union

SpecSource = Union[str, "os.PathLike[str]", dict]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words YAML 1.1 readers may take for booleans or null.
_RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"spec field '{where}' is {value}; spec numbers "
                             "are finite")
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value)  # a YAML double-quoted scalar
    raise TypeError(f"spec field '{where}' is a {type(value).__name__}; a "
                    "spec dict holds dicts, lists, strings, numbers and "
                    "booleans")


def _flow(value: Any, where: str) -> str:
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"spec field '{where}' has a key {key!r} that "
                                "is not a string")
            text = _flow(item, f"{where}.{key}")
            items.append(f"{_scalar(key, where)}: {text}" if text else
                         f"{_scalar(key, where)}:")
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(item, f"{where}[{i}]")
                               for i, item in enumerate(value)) + "]"
    if value is None:
        return ""
    return _scalar(value, where)


def to_yaml(spec: dict) -> str:
    """The spec dict as YAML: one top-level field per line, nested values in
    flow style (`mask: [causal, {sliding_window: {left: 4095}}]`), so that a
    compile error's line names the field. A top-level None is an absent
    field; a nested None an empty value (`{causal: }`)."""
    if not isinstance(spec, dict):
        raise TypeError(f"a spec dict must be a dict, not a "
                        f"{type(spec).__name__}")
    lines = []
    for key, value in spec.items():
        if value is None:  # an absent field
            continue
        if not isinstance(key, str):
            raise TypeError(f"spec field {key!r} is not a string")
        text = _flow(value, key)
        lines.append(f"{_scalar(key, key)}: {text}" if text else f"{key}:")
    return "\n".join(lines) + "\n"


def spec_text(spec: SpecSource) -> Tuple[str, str]:
    """The YAML text of `spec` and the name its errors point at: the path of
    a file, `<dict>` or `<string>`."""
    if isinstance(spec, dict):
        return to_yaml(spec), "<dict>"
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
        return _read(spec), spec
    if not isinstance(spec, str):
        raise TypeError("spec must be a YAML path, YAML text or a dict, not "
                        f"a {type(spec).__name__}")
    # A path is one line naming a .yaml/.yml file or an existing file; YAML
    # text of a spec has several fields, hence several lines.
    if "\n" not in spec and (spec.endswith((".yaml", ".yml"))
                             or os.path.isfile(spec)):
        return _read(spec), spec
    return spec, "<string>"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"spec file '{path}' does not exist") from None
