"""The registry stages come from one answer, in the order given, and GTO reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml


def test_the_stages_answer_becomes_the_registrys_stages(bake_once):
    project = bake_once(model_stages="qa,  canary ,production")

    assert yaml.safe_load((project / ".gto").read_text())["stages"] == ["qa", "canary", "production"]
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "gto"), "stages", "--allowed"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout.split() == ["qa", "canary", "production"]


def test_the_default_stages_are_dev_staging_prod(bake_once):
    project = bake_once()

    assert yaml.safe_load((project / ".gto").read_text())["stages"] == ["dev", "staging", "prod"]
