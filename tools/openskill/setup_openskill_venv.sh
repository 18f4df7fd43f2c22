#!/bin/sh
# Create a virtualenv with openskill.py 6.2.0 from PyPI (the reference the Swift port follows).
#   tools/openskill/setup_openskill_venv.sh [VENV_DIR]      (default: .venv-openskill in the repository root)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-"$here/../.venv-openskill"}
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "openskill==6.2.0"
"$venv/bin/python" -c 'import openskill.models as m, importlib.metadata as md; print("openskill", md.version("openskill"), "in", m.__file__)'
echo "venv ready: $venv"
