#!/usr/bin/env bash
# Regenerates models/testdata with the pinned frameworks. Makes two
# virtualenvs under ${TICKSTREAM_VENVS:-~/.cache/tickstream-models} on first
# use (never the system site-packages), then runs gen_fixtures.py, which
# runs the Go feature dump itself. Needs python3.11 (or 3.12) and Go.
# Arguments go to gen_fixtures.py: `regen.sh --only lightgbm` rewrites
# models/testdata/lightgbm alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venvs="${TICKSTREAM_VENVS:-$HOME/.cache/tickstream-models}"
py="${PYTHON:-python3}"

make_venv() { # dir requirements
	if [ ! -x "$1/bin/python" ]; then
		"$py" -m venv "$1"
		"$1/bin/pip" install --quiet --upgrade pip
	fi
	"$1/bin/pip" install --quiet -r "$2"
}
make_venv "$venvs/venv" "$here/requirements.txt"
make_venv "$venvs/venv-xgb2" "$here/requirements-xgb2.txt"

cd "$root"
XGB2_PYTHON="$venvs/venv-xgb2/bin/python" "$venvs/venv/bin/python" "$here/gen_fixtures.py" "$@"
go test ./models/...
