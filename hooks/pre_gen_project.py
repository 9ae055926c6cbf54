"""Refuse bad answers before cookiecutter writes any file of the project.

Cookiecutter renders this file with Jinja and runs it; the answers arrive as the one
Jinja expression at the bottom, so the rest is plain Python that tests import directly.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Mapping

SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
TASKS = ("classification", "regression")
LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary")
YES_NO = ("no", "yes")
TRAINING_RUNNERS = ("github", "cml-aws", "cml-gcp", "cml-azure", "self-hosted")

# Importable names a new package must not shadow: the generated project's own
# dependencies and the directory names its tools treat specially.
RESERVED_NAMES = frozenset(
    {
        "boto3",
        "cml",
        "data",
        "dvc",
        "dvclive",
        "evidently",
        "gto",
        "joblib",
        "matplotlib",
        "models",
        "numpy",
        "pandas",
        "pandera",
        "pre_commit",
        "pydantic",
        "pytest",
        "reports",
        "ruff",
        "scikit_learn",
        "scipy",
        "sklearn",
        "skops",
        "src",
        "test",
        "tests",
        "uv",
        "yaml",
    }
)

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
# A stage name ends up in git tags (model#prod#3), GitHub Environment names and workflow
# tag filters, so it is kept to what all three accept unchanged.
STAGE = re.compile(r"[a-z](?:[a-z0-9-]*[a-z0-9])?")
REMOTE_URLS = {
    "s3": (re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?"), "s3://BUCKET/PREFIX"),
    "gcs": (re.compile(r"gs://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](/\S*)?"), "gs://BUCKET/PREFIX"),
    "azure": (
        re.compile(r"azure://[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}(/\S*)?"),
        "azure://CONTAINER/PREFIX",
    ),
}


def shadowed_module(name: str) -> str | None:
    """Say which module an import name would hide, if any."""
    if name in sys.stdlib_module_names:
        return f"the standard library module '{name}'"
    if name in RESERVED_NAMES:
        return f"'{name}', which the generated project depends on"
    return None


def slug_problems(slug: str) -> list[str]:
    """Check the repository and distribution name."""
    if not SLUG.fullmatch(slug):
        return [
            f"project_slug '{slug}' must be lowercase letters, digits and single hyphens, "
            "starting with a letter (for example 'churn-model')"
        ]
    shadowed = shadowed_module(slug.replace("-", "_"))
    return [f"project_slug '{slug}' would clash with {shadowed}"] if shadowed else []


def package_problems(package: str) -> list[str]:
    """Check the import name of the generated package."""
    if not PACKAGE.fullmatch(package) or not package.isidentifier():
        return [
            f"package_name '{package}' is not a valid Python identifier: use lowercase "
            "letters, digits and underscores, not starting with a digit"
        ]
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        return [f"package_name '{package}' is a Python keyword"]
    shadowed = shadowed_module(package)
    return [f"package_name '{package}' would shadow {shadowed}"] if shadowed else []


def remote_problems(kind: str, url: str) -> list[str]:
    """Check that the remote URL has the form DVC expects for the chosen kind of remote."""
    if kind == "none":
        return []
    if kind == "local":
        if not url.strip() or "://" in url:
            return [f"dvc_remote_url '{url}' must be a directory path for a local remote"]
        return []
    if kind not in REMOTE_URLS:
        return [f"dvc_remote '{kind}' is not one of: none, local, {', '.join(REMOTE_URLS)}"]
    pattern, example = REMOTE_URLS[kind]
    if not pattern.fullmatch(url):
        return [f"dvc_remote_url '{url}' is not a valid {kind} URL: expected {example}"]
    return []


def stage_names(answer: str) -> list[str]:
    """The registry stages of a comma-separated answer, in promotion order."""
    return [name.strip() for name in answer.split(",")]


def stage_problems(answer: str) -> list[str]:
    """Check the registry stages: simple lowercase names, each given once."""
    names = stage_names(answer)
    bad = [name for name in names if not STAGE.fullmatch(name)]
    if bad:
        shown = ", ".join(f"'{name}'" for name in bad)
        return [
            f"model_stages '{answer}': {shown} is not a valid stage name: use lowercase letters, digits "
            "and hyphens, starting with a letter, separated by commas (for example 'dev, staging, prod')"
        ]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return [f"model_stages '{answer}' names {', '.join(repeated)} more than once"]
    return []


def choice_problems(answers: Mapping[str, str]) -> list[str]:
    """Check answers that must be one of a fixed list."""
    choices = {
        "python_version": SUPPORTED_PYTHONS,
        "task": TASKS,
        "license": LICENSES,
        "publish_plots": YES_NO,
        "training_runner": TRAINING_RUNNERS,
    }
    return [
        f"{key} '{answers[key]}' is not supported: choose one of {', '.join(allowed)}"
        for key, allowed in choices.items()
        if answers[key] not in allowed
    ]


def problems(answers: Mapping[str, str]) -> list[str]:
    """Every reason to refuse these answers, one readable line each."""
    found = [
        *slug_problems(answers["project_slug"]),
        *package_problems(answers["package_name"]),
        *choice_problems(answers),
        *remote_problems(answers["dvc_remote"], answers["dvc_remote_url"]),
        *stage_problems(answers["model_stages"]),
    ]
    if not answers["project_name"].strip():
        found.append("project_name must not be empty")
    if not EMAIL.fullmatch(answers["author_email"]):
        found.append(f"author_email '{answers['author_email']}' is not an email address")
    if not GITHUB_OWNER.fullmatch(answers["github_owner"]):
        found.append(
            f"github_owner '{answers['github_owner']}' is not a valid GitHub user or organisation name"
        )
    return found


def main(answers_json: str) -> int:
    """Print every problem as one `error:` line; a non-zero status makes cookiecutter stop."""
    found = problems(json.loads(answers_json))
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(r"""{{ cookiecutter | jsonify }}"""))
