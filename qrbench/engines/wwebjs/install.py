"""Where Node and the driver's modules are, and the one-line fix when they are not."""

import json
import os
import shutil
from pathlib import Path

from qrbench.errors import EnvironmentProblem

DRIVER_DIR = Path(__file__).parent
DRIVER_SCRIPT = DRIVER_DIR / "driver.js"
NODE_ENV = "QRBENCH_NODE"
"""Overrides which `node` runs the driver (default: the first on PATH)."""
LIBRARY = "whatsapp-web.js"

_INSTALL_MODULES = f"cd {DRIVER_DIR} && PUPPETEER_SKIP_DOWNLOAD=1 npm ci"


def node_executable() -> str:
    """The `node` that runs the driver; EnvironmentProblem with the install command if none."""
    configured = os.environ.get(NODE_ENV)
    found = configured or shutil.which("node")
    if found is None or not os.access(found, os.X_OK):
        where = f"{NODE_ENV}={configured}" if configured else "no node on PATH"
        raise EnvironmentProblem(
            f"the whatsapp-web.js engine needs Node.js ({where}): install it with "
            "'apt-get install nodejs npm' (or run ./setup.sh), or use --engine model"
        )
    return found


def library_version() -> str:
    """The installed whatsapp-web.js version; EnvironmentProblem if the modules are missing."""
    manifest = DRIVER_DIR / "node_modules" / LIBRARY / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError) as exc:
        raise EnvironmentProblem(
            f"the whatsapp-web.js engine's modules are not installed ({manifest} is "
            f"unreadable): run '{_INSTALL_MODULES}' (or ./setup.sh)"
        ) from exc


def check_installed() -> str:
    """Node and the driver's modules are there; returns the library version."""
    node_executable()
    return library_version()
