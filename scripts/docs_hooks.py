"""MkDocs hook: the settings reference must document every setting with its real default.

The settings and their defaults are read from ``django_preflight/conf.py`` without importing it
(the docs build needs no Django); a default named from the engine's shared limits
(``limits.NAME``) is read from ``django_preflight/engine/limits.py`` the same way. A setting
missing from ``docs/settings.md``, or documented with another default, is a warning, so
``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.settings_reference")

PACKAGE = Path(__file__).resolve().parent.parent / "django_preflight"
CONF = PACKAGE / "conf.py"
LIMITS = PACKAGE / "engine" / "limits.py"
PREFIX = "PREFLIGHT_"


def declared_settings(source: str) -> dict[str, str]:
    """Setting name -> default as the reference writes it, from the PreflightSettings class."""
    tree = ast.parse(source)
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "PreflightSettings":
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    default = _value(item.value) if item.value is not None else None
                    found[PREFIX + item.target.id] = _written(default)
    return found


def _value(node: ast.expr) -> Any:
    """A literal, or a constant of the shared limits module (``limits.NAME``)."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "limits"
    ):
        return _module_constants(LIMITS.read_text(encoding="utf-8"))[node.attr]
    return ast.literal_eval(node)


def _module_constants(source: str) -> dict[str, Any]:
    """Module-level ``NAME = literal`` (or annotated) assignments of a source file."""
    constants: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                constants[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return constants


def _written(value: Any) -> str:
    """How the reference spells a default: strings quoted, numbers and constants as Python."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def problems(markdown: str, declared: dict[str, str]) -> list[str]:
    """Every setting that is missing, documented twice, or shown with a wrong default."""
    sections = re.split(r"^### ", markdown, flags=re.MULTILINE)[1:]
    documented: dict[str, str] = {}
    found: list[str] = []
    for section in sections:
        heading, _, body = section.partition("\n")
        name = heading.strip().strip("`")
        if name in documented:
            found.append(f"{name} is documented twice")
        documented[name] = body
    for name, default in declared.items():
        body = documented.get(name)
        if body is None:
            found.append(f"{name} is not documented (expected a '### `{name}`' section)")
        elif f"Default `{default}`" not in body:
            found.append(f"{name}: the section does not say Default `{default}`")
    for name in documented.keys() - declared.keys():
        if name.startswith(PREFIX):
            found.append(f"{name} is documented but django_preflight/conf.py has no such setting")
    return found


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Check the settings page as it is built."""
    if page.file.src_uri == "settings.md":
        for problem in problems(markdown, declared_settings(CONF.read_text(encoding="utf-8"))):
            log.warning("settings.md: %s", problem)
    return markdown
