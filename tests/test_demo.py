"""The README's first command, `make demo`, works and shows what it promises."""

from __future__ import annotations

import pytest

from .conftest import TEMPLATE_DIR, run

pytestmark = pytest.mark.slow


def section(output: str, title: str) -> str:
    """The text the demo printed under one of its `==>` headings."""
    return output.split(f"==> {title}")[1].split("==> ")[0]


def test_make_demo_walks_from_generation_to_a_promoted_model(tmp_path):
    demo_dir = tmp_path / "demo"

    result = run("make", "demo", f"DEMO_DIR={demo_dir}", cwd=TEMPLATE_DIR)

    output = result.stdout
    assert "Data and pipelines are up to date." in section(output, "Run the pipeline, then again")
    assert "model tests passed" in section(output, "Test the model")
    assert "model@v0.1.0" in section(output, "Commit the first model, push it, register it")
    comment = section(output, "The comment CI would post on the pull request")
    assert "n_estimators" in comment
    assert "roc_auc" in comment
    registry = section(output, "Promote the new version to staging, and show the registry")
    assert "v0.2.0" in registry
    assert "staging" in registry
    served = section(output, "Serve staging: a few requests (one bad)")
    assert "serve: candidate: model v0.2.0" in served
    assert "HTTP 200" in served
    assert "HTTP 400" in served and "contract" in served
    assert "v0.1.0 answered" in served and "v0.2.0 answered" in served
    assert "# Rollout: `v0.2.0` against `v0.1.0`" in served
    assert "the server is stopped" in served
    tags = run("git", "tag", "--list", cwd=demo_dir / "origin.git").stdout.split()
    assert {"model@v0.1.0", "model@v0.2.0"} <= set(tags)
    assert any(tag.startswith("model#staging#") for tag in tags)
