"""The documentation builds, and the commands the README promises exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import TEMPLATE_DIR


def test_the_documentation_builds_without_warnings(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"

    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "generating" / "index.html").is_file()


def test_every_make_command_in_the_readme_is_a_target():
    commands = set(re.findall(r"^make ([a-z-]+)", (TEMPLATE_DIR / "README.md").read_text(), re.MULTILINE))
    assert {"demo", "test"} <= commands

    for command in commands:
        dry_run = subprocess.run(["make", "-n", command], cwd=TEMPLATE_DIR, capture_output=True, text=True)
        assert dry_run.returncode == 0, f"make {command}: {dry_run.stderr}"
