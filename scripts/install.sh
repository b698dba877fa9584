#!/usr/bin/env bash
# Install Spark Agents into ./.venv.
#   bash scripts/install.sh            Python packages only
#   bash scripts/install.sh --system   also Debian packages: bubblewrap (code sandbox), chromium (UI tests),
#                                      postgresql (the checkpointer tests), nodejs/npm (the MCP Inspector,
#                                      Continue CLI and MCP conformance tests; the conformance suite and the
#                                      Node 22 it needs go into ./.node)
# torch is installed first, pinned to the CPU build, so no dependency pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--system" ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    packages="bubblewrap chromium chromium-driver postgresql fonts-dejavu-core fonts-noto-color-emoji python3.11-doc"
    # A machine may already have Node from NodeSource, whose nodejs bundles npm and conflicts with Debian's npm.
    command -v npm >/dev/null || packages="$packages nodejs npm"
    $SUDO apt-get install -y -qq $packages >/dev/null
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==${TORCH_VERSION:-2.13.0}"
# A portable llama.cpp build on x86-64: the native build's AMX kernels hang prompt processing on VMs
# that advertise AMX. AVX2/FMA stay on.
if [ "$(uname -m)" = "x86_64" ] && [ -z "${CMAKE_ARGS:-}" ]; then
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
fi
.venv/bin/python -m pip install -q -e ".[dev]"
if [ "${1:-}" = "--system" ]; then
    # Debian's Node 20 is too old for the conformance suite (fs.globSync): npm's node-linux-<arch>@22 is Node 22.
    .venv/bin/python -c 'import subprocess, tests.support.conformance as c; subprocess.run(c.install_command(), check=True)' \
        >/dev/null || echo "warning: could not install the MCP conformance suite (its tests will be skipped)" >&2
fi
echo "installed: $(.venv/bin/spark-agents --help >/dev/null && echo spark-agents ready in .venv/bin)"
