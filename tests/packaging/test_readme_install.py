"""The README's "Install it in your project", followed literally against the built wheel.

A fresh virtualenv outside the repository gets the wheel through the README's own ``pip
install`` line (the wheel's folder added as a place to find it), a ``startproject`` project gets
the README's settings, and the README's commands run in it. Then Django's test client sends one
preflight the declared policy allows and one it refuses.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Install it in your project"
ALLOWED_ORIGIN = "https://app.example.com"

PREFLIGHTS = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
import django_preflight

setup_test_environment()
client = Client()

def preflight(origin):
    response = client.options(
        "/api/notes/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    return {"status": response.status_code, "headers": dict(response.items())}

print(json.dumps({
    "module": django_preflight.__file__,
    "allowed": preflight(%r),
    "refused": preflight("https://elsewhere.example"),
}))
"""


def readme_steps() -> tuple[list[str], list[str]]:
    """The section's shell lines and Python blocks, in order of appearance."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    shell: list[str] = []
    python: list[str] = []
    for language, body in re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL):
        if language == "sh":
            shell += [line for line in body.splitlines() if line.strip()]
        elif language == "python":
            python.append(body)
    return shell, python


def as_settings(block: str) -> str:
    """A README block as settings code: ``# ...`` in a list stands for the project's entries."""
    names = [
        node.targets[0].id
        for node in ast.parse(block).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    ]
    lines, current, extended = [], None, []
    for line in block.splitlines():
        assigned = re.match(r"(\w+) = \[", line)
        if assigned and assigned.group(1) in names:
            current = assigned.group(1)
        if line.strip() == "# ..." and current:
            line = line.replace("# ...", f"*{current},")
            extended.append(current)
        lines.append(line)
    dedupe = [f"{name} = list(dict.fromkeys({name}))" for name in extended]
    return "\n".join(lines + dedupe) + "\n"


def wheel_folder(tmp_path: Path) -> Path:
    """The wheel ``make wheel`` left in dist/ (PREFLIGHT_WHEEL_DIR), or one built now."""
    given = os.environ.get("PREFLIGHT_WHEEL_DIR")
    if given:
        return Path(given)
    folder = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return folder


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{shlex.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.packaging
def test_readme_install_steps_work_against_the_built_wheel(tmp_path: Path) -> None:
    dist = wheel_folder(tmp_path)
    wheels = sorted(dist.glob("django_preflight_cors-*.whl"))
    assert len(wheels) == 1, wheels
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python = str(venv / "bin" / "python")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"

    shell, blocks = readme_steps()
    install = [line for line in shell if line.startswith("pip ")]
    assert install == ["pip install django-preflight-cors"]
    run([python, "-m", *shlex.split(install[0]), "--find-links", str(dist)], tmp_path, env)

    run([str(venv / "bin" / "django-admin"), "startproject", "mysite"], tmp_path, env)
    site = tmp_path / "mysite"
    settings = site / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "".join(as_settings(b) for b in blocks))

    outputs = []
    for line in shell:
        if line.startswith("pip "):
            continue
        words = shlex.split(line)
        assert words[0] == "python", f"the README runs something this test cannot: {line}"
        outputs.append(run([python, *words[1:]], site, env))
    assert outputs, "the README gives no manage.py command"
    assert "Applying django_preflight.0001_initial... OK" in outputs[0]
    assert "PREFLIGHT_POLICIES: create policy 'frontend'" in outputs[0]
    assert "System check identified no issues" in outputs[-1]

    env["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    report = json.loads(run([python, "-c", PREFLIGHTS % ALLOWED_ORIGIN], site, env))
    assert Path(report["module"]).is_relative_to(venv), "not imported from the installed wheel"
    allowed, refused = report["allowed"], report["refused"]
    assert allowed["status"] == 204
    assert allowed["headers"]["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed["headers"]["Access-Control-Allow-Methods"]
    assert refused["status"] == 403
    assert not [name for name in refused["headers"] if name.lower().startswith("access-control-")]
