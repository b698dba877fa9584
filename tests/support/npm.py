"""Node.js tools from the npm registry for tests, installed once into a cache folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def npm_script(package: str, script: str, what: str) -> Path:
    """The installed `script` (relative to the package's folder) of `package`; skip only without node/npm."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip(f"node/npm are not installed: {what} is a Node.js program")
    cache = Path(os.environ.get("SPARK_AGENTS_NPM_CACHE", Path.home() / ".cache" / "spark-agents-npm"))
    path = cache / "node_modules" / package / script
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund", package],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not path.exists():
            pytest.skip(f"could not install {package} with npm (offline?): {done.stderr.strip()[-300:]}")
    return path
