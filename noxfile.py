"""The test suite on every supported pair of Django and Python versions.

``nox`` runs the whole matrix; ``nox -t ci`` the two Django 6 pairs CI runs (``make test`` already
covers Django 5.2 on Python 3.11); ``nox -s tests-django6.1-py3.13`` one pair; ``nox -l`` lists
them. Arguments after ``--`` replace the default pytest arguments. Interpreters are looked up on
``PATH`` and in pyenv's folder, and each candidate is run once to check it really is that version:
a pyenv shim for a version that is not selected only prints an error.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.download_python = "never"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = os.environ.get("CI", "").lower() == "true"

MATRIX: tuple[tuple[str, str, bool], ...] = (
    ("5.2", "3.10", True),
    ("5.2", "3.11", False),
    ("6.0", "3.12", True),
    ("6.0", "3.13", False),
    ("6.1", "3.12", False),
    ("6.1", "3.13", True),
)
"""(Django, Python, run in CI): Django 6 needs Python 3.12 or newer; 3.10 is the oldest Python
supported."""

PYTEST_ARGS = ("-m", "not (browser or servers or services or flood or properties or packaging)")
"""The fast tier, where Django's and Python's versions make a difference; the slow tiers (real
browsers, servers, services, floods, property runs) are version-independent and run once, in
``make test-all``, the service matrix and ``make wheel``."""


def _candidates(version: str) -> Iterator[str]:
    """Places an interpreter for ``version`` (``3.12``) may be, most specific first."""
    on_path = shutil.which(f"python{version}")
    if on_path:
        yield on_path
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        pattern = os.path.join(root, "versions", f"{version}*", "bin", "python3")
        yield from sorted(glob.glob(pattern), reverse=True)
    for folder in ("/usr/local/bin", "/usr/bin"):
        yield os.path.join(folder, f"python{version}")


def _runs_as(executable: str, version: str) -> bool:
    """True if ``executable`` starts and reports ``version`` with a working venv module."""
    if not os.access(executable, os.X_OK):
        return False
    probe = "import sys, venv; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run(
            [executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def find_python(version: str) -> str:
    """The first working interpreter for ``version``, else the bare version for nox to report."""
    return next((path for path in _candidates(version) if _runs_as(path, version)), version)


def _suite(django: str) -> Callable[[nox.Session], None]:
    def tests(session: nox.Session) -> None:
        """Install the package with its dev extras and the Django series, then run pytest."""
        session.install("-e", ".[dev]", f"Django~={django}.0")
        session.run("python", "-c", "import django; print('Django', django.get_version())")
        session.run("python", "-m", "pytest", *(session.posargs or PYTEST_ARGS))

    return tests


for _django, _python, _in_ci in MATRIX:
    nox.session(
        name=f"tests-django{_django}-py{_python}",
        python=find_python(_python),
        tags=["tests", "ci"] if _in_ci else ["tests"],
    )(_suite(_django))
