#!/usr/bin/env bash
# Build the sdist and the wheel into dist/, check their metadata and contents, then follow the
# README's "Install it in your project" with that wheel in a fresh virtualenv outside the
# repository (tests/packaging): the package must work with nothing but what the wheel ships.
# Then the relay extra is installed from the wheel. dist/ keeps both files afterwards.
#
# Usage: scripts/check_wheel.sh
# Environment: TOOLS_PYTHON has build, twine and pytest (default .venv/bin/python);
#              PYTHON creates the virtualenv for the relay extra (default python3).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_python="${TOOLS_PYTHON:-$repo/.venv/bin/python}"
base_python="${PYTHON:-python3}"
dist="$repo/dist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "check_wheel: $*" >&2
  exit 1
}

if ! "$tools_python" -c "import build, twine, pytest" 2>/dev/null; then
  fail "$tools_python lacks build, twine or pytest: make install (or set TOOLS_PYTHON)."
fi

echo "== build sdist and wheel into dist/"
rm -f "$dist"/django_preflight_cors-*
"$tools_python" -m build --outdir "$dist" "$repo" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "python -m build failed."; }
sdists=("$dist"/django_preflight_cors-*.tar.gz)
wheels=("$dist"/django_preflight_cors-*.whl)
[[ ${#sdists[@]} -eq 1 && -f "${sdists[0]}" ]] || fail "expected one sdist in dist/."
[[ ${#wheels[@]} -eq 1 && -f "${wheels[0]}" ]] || fail "expected one wheel in dist/."
wheel="${wheels[0]}"

echo "== twine check"
"$tools_python" -m twine check --strict "${sdists[0]}" "$wheel"

echo "== wheel contents"
"$tools_python" - "$wheel" <<'PY'
"""List the wheel and fail if a file the app needs at run time is missing."""
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
print("\n".join(names))
required = [
    "django_preflight/py.typed",
    "django_preflight/migrations/__init__.py",
    "django_preflight/migrations/0001_initial.py",
    "django_preflight/relay/migrations/0001_initial.py",
    "django_preflight/management/commands/preflight.py",
    "django_preflight/templates/admin/django_preflight/corspolicy/change_list.html",
    "django_preflight/templates/admin/django_preflight/corspolicy/test_request.html",
    "django_preflight/templates/admin/django_preflight/rejectedpreflight/allow_confirmation.html",
    "django_preflight/templates/admin/django_preflight/form_fields.html",
    "django_preflight/scan/admin.py",
    "django_preflight/templates/admin/django_preflight/scanresult/scan.html",
    "django_preflight/templates/admin/django_preflight/scanresult/report.html",
    "django_preflight/static/django_preflight/admin.css",
]
missing = [name for name in required if name not in names]
stray = [name for name in names if name.split("/")[0] in ("tests", "example_project", "docs")]
if missing or stray:
    sys.exit(f"missing from the wheel: {missing}; not part of the package: {stray}")
print(f"{len(names)} files; migrations, templates, static files and py.typed are present.")
PY

echo "== the README's install steps with this wheel, in a fresh virtualenv and a new project"
PREFLIGHT_WHEEL_DIR="$dist" "$tools_python" -m pytest -q -p no:cacheprovider -m packaging \
  "$repo/tests/packaging"

echo "== the relay extra from the wheel, in another fresh virtualenv"
"$base_python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel[relay]"
"$work/venv/bin/python" -c "import httpx, django_preflight.relay.apps"

echo "== dist/"
ls -l "${sdists[0]}" "$wheel"
echo "check_wheel: OK"
