#!/usr/bin/env bash
# Build the sdist and the wheel, check their metadata, then install the wheel (not editable) in
# a fresh virtualenv and run the example project on it from a copy outside the repository: the
# package must work with nothing but what the wheel ships.
#
# Usage: scripts/check_wheel.sh
# Environment: TOOLS_PYTHON has build and twine (default .venv/bin/python);
#              PYTHON creates the fresh virtualenv (default python3).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_python="${TOOLS_PYTHON:-$repo/.venv/bin/python}"
base_python="${PYTHON:-python3}"
frontend_origin="http://127.0.0.1:8001"

work="$(mktemp -d)"
server_pid=""

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "check_wheel: $*" >&2
  exit 1
}

if ! "$tools_python" -c "import build, twine" 2>/dev/null; then
  fail "$tools_python lacks build or twine: pip install build twine (or set TOOLS_PYTHON)."
fi

echo "== build sdist and wheel"
"$tools_python" -m build --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "python -m build failed."; }
sdists=("$work"/dist/*.tar.gz)
wheels=("$work"/dist/*.whl)
[[ ${#sdists[@]} -eq 1 && -f "${sdists[0]}" ]] || fail "expected one sdist in dist/."
[[ ${#wheels[@]} -eq 1 && -f "${wheels[0]}" ]] || fail "expected one wheel in dist/."
wheel="${wheels[0]}"
ls -l "$work/dist"

echo "== twine check"
"$tools_python" -m twine check --strict "$work"/dist/*

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
    "django_preflight/migrations/0003_scan_result.py",
    "django_preflight/migrations/0005_allowedorigin_allow_public_suffix.py",
    "django_preflight/scan/admin.py",
    "django_preflight/templates/admin/django_preflight/scanresult/scan.html",
    "django_preflight/templates/admin/django_preflight/scanresult/report.html",
]
missing = [name for name in required if name not in names]
stray = [name for name in names if name.split("/")[0] in ("tests", "example_project", "docs")]
if missing or stray:
    sys.exit(f"missing from the wheel: {missing}; not part of the package: {stray}")
print(f"{len(names)} files; migrations, templates and py.typed are present.")
PY

echo "== fresh virtualenv with the wheel, its relay extra and djangorestframework"
"$base_python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
"$venv_python" -m pip install --quiet --upgrade pip
"$venv_python" -m pip install --quiet "$wheel[relay]" djangorestframework

echo "== example project, copied outside the repository"
site="$work/site"
mkdir "$site"
cp -R "$repo/example_project" "$repo/manage.py" "$site/"
find "$site" -name __pycache__ -type d -prune -exec rm -rf {} +
cd "$site"
unset PYTHONPATH
installed="$("$venv_python" -c 'import django_preflight; print(django_preflight.__file__)')"
echo "django_preflight imported from $installed"
[[ "$installed" == "$work/venv/"* ]] || fail "django_preflight was not imported from the wheel."

"$venv_python" manage.py migrate --verbosity 0
"$venv_python" manage.py check
"$venv_python" manage.py seed_demo --frontend-origin "$frontend_origin"

echo "== runserver and a preflight"
port="$("$venv_python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
api="http://127.0.0.1:$port"
"$venv_python" manage.py runserver --noreload "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 60); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "runserver exited."; }
  curl -s -o /dev/null "$api/api/public/status/" && break
  sleep 0.5
done

# Sends a preflight from origin $1 for PUT with two headers; prints the status and leaves the
# response headers, without carriage returns, in $work/headers.
preflight() {
  local status
  status="$(curl -s -o /dev/null -D "$work/headers.raw" -w '%{http_code}' -X OPTIONS \
    -H "Origin: $1" \
    -H "Access-Control-Request-Method: PUT" \
    -H "Access-Control-Request-Headers: authorization,content-type" \
    "$api/api/notes/1/")"
  tr -d '\r' <"$work/headers.raw" >"$work/headers"
  echo "$status"
}

status="$(preflight "$frontend_origin")"
cat "$work/headers"
[[ "$status" == "204" ]] || fail "allowed preflight answered $status, expected 204."
grep -qix "access-control-allow-origin: $frontend_origin" "$work/headers" ||
  fail "allowed preflight lacks Access-Control-Allow-Origin: $frontend_origin."

status="$(preflight "http://localhost:9")"
[[ "$status" == "403" ]] || fail "preflight from an unknown origin answered $status, expected 403."
if grep -qi "^access-control-allow-origin:" "$work/headers"; then
  fail "refused preflight carries Access-Control-Allow-Origin."
fi

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo "check_wheel: OK (the installed wheel answered 204 to an allowed preflight, 403 otherwise)"
