"""`template-update`: the pull request's description, and what it does before touching anything.

The whole run (cruft, the branch, the pull request) is tested by the template, under act.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.repo.template import Update, body, main

from ..conftest import commit

CLEAN = Update("a" * 40, "b" * 40, [".gitignore", "Makefile"], [], [])


def test_the_description_names_the_template_commits_and_the_files():
    text = body(CLEAN, "https://example.com/org/template")

    assert "`aaaaaaaaaaaa` to `bbbbbbbbbbbb`" in text
    assert "- `.gitignore`\n- `Makefile`\n" in text
    assert "Conflicts" not in text


def test_conflicts_come_first_with_how_to_resolve_each():
    update = Update("a" * 40, "b" * 40, ["README.md", "dvc.yaml.rej"], ["README.md"], ["dvc.yaml.rej"])

    text = body(update, "t")

    conflicts = text.index("**Conflicts to resolve on this branch before merging:**")
    assert conflicts < text.index("Files changed:")
    assert "- `README.md`: conflict markers" in text
    assert "- `dvc.yaml.rej`: hunks cruft could not place in `dvc.yaml`" in text


def test_a_file_name_with_backticks_stays_one_code_span():
    update = Update("a" * 40, "b" * 40, ["odd`name.md"], ["odd`name.md"], [])

    assert "- ``odd`name.md``: conflict markers" in body(update, "t")


def test_without_cruft_json_it_says_how_to_link_and_changes_nothing(repository: Path, capsys):
    head = commit(repository, {"README.md": "# project\n"})

    assert main([]) == 0

    said = capsys.readouterr().out
    assert "no .cruft.json" in said
    assert "`cruft link TEMPLATE-URL`" in said
    assert head == (repository / ".git" / "refs" / "heads" / "main").read_text().strip()
    assert sorted(path.name for path in repository.iterdir()) == [".git", "README.md"]


def test_a_dirty_tree_is_refused_before_anything_is_asked_of_github(repository: Path, monkeypatch):
    commit(repository, {".cruft.json": json.dumps({"template": "t", "commit": "a" * 40})})
    (repository / ".cruft.json").write_text("{}")
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(PipelineError, match="the working tree has changes: commit or stash them first"):
        main([])
