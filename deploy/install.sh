#!/bin/sh
# Every step that turns this source tree into a runnable install: the Dockerfile runs it, and so does a test on
# the host (tests/test_deployment.py), so the steps are checked even where no image can be built.
#
#   deploy/install.sh PREFIX [USER]
#
#   PREFIX/app       the code the processes run (packages, migrations, wsgi.py, gunicorn.conf.py), as bytecode too
#   PREFIX/venv      a virtualenv with the package and its dependencies
#   PREFIX/instance  for VCC_INSTANCE_PATH (only development keys or an embedded database would go there)
#   PREFIX/metrics   for PROMETHEUS_MULTIPROC_DIR (compose.yaml mounts a tmpfs over it)
#
# The package is installed in editable mode from PREFIX/app on purpose: the migrations are found beside the
# packages (service.config.PROJECT_ROOT), which a copy inside site-packages would not have.
# With USER (the Dockerfile passes vcc) that system user is made and owns instance/ and metrics/ only: the code
# and the virtualenv stay root's, read-only to the service. PYTHON picks the interpreter (default python3).
set -eu

PREFIX=${1:?usage: deploy/install.sh PREFIX [USER]}
RUN_AS=${2:-}
PYTHON=${PYTHON:-python3}
SRC=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$PREFIX/app" "$PREFIX/instance" "$PREFIX/metrics"
(cd "$SRC" && tar -cf - --exclude=__pycache__ --exclude='*.pyc' \
    pyproject.toml README.md wsgi.py gunicorn.conf.py service scoring challenges notifications migrations) |
    (cd "$PREFIX/app" && tar -xf -)
"$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$PREFIX/app"
"$PREFIX/venv/bin/python" -m compileall -q "$PREFIX/app" "$PREFIX/venv/lib"
if [ -n "$RUN_AS" ]; then
    id -u "$RUN_AS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
    chown -R "$RUN_AS" "$PREFIX/instance" "$PREFIX/metrics"
fi
echo "installed into $PREFIX (code $PREFIX/app, virtualenv $PREFIX/venv)"
