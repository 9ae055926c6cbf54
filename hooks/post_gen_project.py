"""Finish the new project: drop files its options do not use, then set up git and DVC.

Cookiecutter renders this file with Jinja and runs it in the new project; the answers arrive
as the one Jinja expression at the bottom, so the rest is plain Python that tests import.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

# Files that only one answer needs, listed under the answers that do NOT need them.
UNUSED_FILES = {
    ("task", "classification"): ["data/raw/houses.csv"],
    ("task", "regression"): ["data/raw/customers.csv"],
}


def say(message: str) -> None:
    """Tell the user what happened, in the same voice as cookiecutter's own output."""
    print(f"[post-gen] {message}")


def prune(project_dir: Path, answers: Mapping[str, str]) -> list[str]:
    """Delete the files the chosen options do not use; return their relative paths."""
    removed = []
    for (key, value), paths in UNUSED_FILES.items():
        if answers.get(key) != value:
            continue
        for relative in paths:
            (project_dir / relative).unlink()
            removed.append(relative)
    return removed


# Workflows are copied without rendering (cookiecutter.json `_copy_without_render`): GitHub's
# expressions would otherwise need escaping everywhere. A part that depends on an answer, such as
# the DVC remote's credentials, is a marker comment `# dvc-remote: SLOT` where it goes, and
# `configure_remote_credentials` replaces each marker with SLOT's YAML for the chosen remote,
# indented like the marker, or deletes it for `none` and `local`. Each workflow stays one
# readable file, and the per-answer YAML is here, next to its tests.
#
# DVC_REMOTE_SIGN_IN says how a job signs in: `oidc` (the repository variables are set, and
# the run is not Dependabot's, which gets no OIDC trust), `secret` (the fallback secret: an
# Actions secret, or a Dependabot secret in Dependabot's runs) or `none` (push steps skip).
# `secrets` cannot be used in `if:`, hence this job variable. The YAML per cloud lives in the
# project's `.github/remote-credentials/<remote>.yml` (copied without rendering, so GitHub's
# expressions need no escaping), which this hook reads and then deletes.
REMOTE_SLOTS = ("id-token", "env", "job-env", "steps", "secrets-declared", "secrets-passed")
CREDENTIALS_DIR = Path(".github") / "remote-credentials"
NO_CREDENTIALS = (
    "No credentials for the DVC remote in this run (none configured yet, or a Dependabot run"
    " without Dependabot secrets), so nothing is pushed; the README section on DVC remote"
    " credentials says what to set."
)
NO_SIGN_IN_STEP = f"""\
- name: No credentials for the DVC remote
  if: env.DVC_REMOTE_SIGN_IN == 'none'
  run: echo "::notice title=DVC remote::{NO_CREDENTIALS}"
"""


def indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(keepends=True))


def remote_snippets(remote: str, credentials_dir: Path) -> dict[str, str]:
    """The YAML each `# dvc-remote: SLOT` marker becomes for this remote (no indentation)."""
    spec_file = credentials_dir / f"{remote}.yml"
    if not spec_file.is_file():  # none, local: no credentials, no id-token
        return dict.fromkeys(REMOTE_SLOTS, "")
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    # The sign-in choice reads whether the fallback secret is set, which zizmor reports.
    answered = "# zizmor: ignore[secrets-outside-env] the fallback to OIDC (README)"
    env = f"DVC_REMOTE_SIGN_IN: {spec['sign_in']}   {answered}\n{spec['env']}"
    declared = "".join(f"  {name}:\n    required: false\n" for name in spec["secrets"])
    return {
        "id-token": "id-token: write   # sign in to the DVC remote's cloud by OIDC\n",
        "env": env,  # entries of the job's own env block
        "job-env": "env:\n" + indent(env, "  "),  # for a job without one
        "steps": spec["steps"] + NO_SIGN_IN_STEP,
        "secrets-declared": "secrets:\n" + declared,  # deploy.yml's workflow_call
        "secrets-passed": "secrets:\n" + indent(spec["secrets_passed"], "  "),  # promote.yml's call of it
    }


def configure_remote_credentials(project_dir: Path, remote: str) -> list[str]:
    """Fill the workflows' `# dvc-remote:` markers for the remote; return the workflows changed."""
    credentials_dir = project_dir / CREDENTIALS_DIR
    snippets = remote_snippets(remote, credentials_dir)
    shutil.rmtree(credentials_dir, ignore_errors=True)
    return fill_workflows(project_dir, "dvc-remote", snippets)


# Where pr.yml's pipeline job runs (the `training_runner` answer) is marked the same way,
# `# training-runner: SLOT`, from the project's `.github/training-runners.yml`, which this hook
# reads and then deletes. For `github` the slots give back the lines of a GitHub-hosted job.
RUNNERS_FILE = Path(".github") / "training-runners.yml"


def runner_snippets(runner: str, spec: Mapping[str, Any]) -> dict[str, str]:
    """The YAML each `# training-runner: SLOT` marker becomes for this answer (no indentation)."""
    cloud = runner.removeprefix("cml-") if runner.startswith("cml-") else None
    kind = "cml" if cloud else runner
    snippets = {
        "runs-on": f"runs-on: {spec['runs-on'][kind]}\n",
        "needs": f"needs: {spec['needs'][kind]}\n",
        "launch-job": "",
    }
    if cloud:
        cloud_env = {"cloud-env": spec["cloud-env"][cloud]}
        snippets["launch-job"] = fill_markers(spec["launch-job"], "training-runner", cloud_env) + "\n"
    return snippets


def configure_training_runner(project_dir: Path, runner: str) -> list[str]:
    """Fill the workflows' `# training-runner:` markers for the answer; return the workflows changed."""
    spec_file = project_dir / RUNNERS_FILE
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec_file.unlink()
    return fill_workflows(project_dir, "training-runner", runner_snippets(runner, spec))


def fill_markers(text: str, name: str, snippets: Mapping[str, str]) -> str:
    """Replace each whole-line `# NAME: SLOT` comment with SLOT's snippet, indented like the comment."""

    def fill(marker: re.Match[str]) -> str:
        slot = marker["slot"]
        if slot not in snippets:
            raise ValueError(f"unknown marker `# {name}: {slot}`")
        return indent(snippets[slot], marker["indent"])

    return re.sub(rf"^(?P<indent> *)# {name}: (?P<slot>[a-z-]+)\n", fill, text, flags=re.MULTILINE)


def fill_workflows(project_dir: Path, name: str, snippets: Mapping[str, str]) -> list[str]:
    """Fill the `# NAME: SLOT` markers of every workflow; return the names of those changed."""
    changed = []
    for workflow in sorted((project_dir / ".github" / "workflows").glob("*.yml")):
        text = workflow.read_text(encoding="utf-8")
        filled = fill_markers(text, name, snippets)
        if filled != text:
            workflow.write_text(filled, encoding="utf-8")
            changed.append(workflow.name)
    return changed


def run(project_dir: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the project and capture its output, never raising on failure."""
    return subprocess.run(command, cwd=project_dir, capture_output=True, text=True, check=False)


def init_git(project_dir: Path) -> bool:
    """Make the project a git repository whose first branch is main."""
    if shutil.which("git") is None:
        say("git is not installed: install it, then run `git init -b main` in the project.")
        return False
    result = run(project_dir, "git", "init", "-b", "main")
    if result.returncode != 0:
        say(f"`git init` failed: {result.stderr.strip()}")
        return False
    return True


def dvc_command() -> list[str] | None:
    """How to run DVC from here: on PATH, or importable beside cookiecutter itself."""
    if shutil.which("dvc"):
        return ["dvc"]
    if importlib.util.find_spec("dvc"):
        return [sys.executable, "-m", "dvc"]
    return None


def load_dvc_setup(project_dir: Path, package_name: str) -> ModuleType:
    """The generated package's dvc_setup module, the one DVC set-up `make setup` also runs."""
    path = project_dir / "src" / package_name / "repo" / "dvc_setup.py"
    spec = importlib.util.spec_from_file_location(f"{package_name}_dvc_setup", path)
    assert spec is not None and spec.loader is not None, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    # No __pycache__ left in the project: cruft renders it again to diff template versions, and
    # compiled files (which record their source's time) would make every such diff differ.
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = previous
    return module


def init_dvc(project_dir: Path, answers: Mapping[str, str]) -> bool:
    """Set up DVC as the answers ask, or say that `make setup` will once it has installed DVC."""
    dvc = dvc_command()
    if dvc is None:
        remote = answers["dvc_remote"]
        steps = (
            "dvc init"
            if remote == "none"
            else f"dvc init, the default remote `storage` ({answers['dvc_remote_url']})"
        )
        say(
            "DVC is not installed here, so `make setup` will finish the DVC set-up from your answers "
            f"once it has installed DVC: {steps}, autostage on, analytics off."
        )
        return False
    dvc_setup = load_dvc_setup(project_dir, answers["package_name"])
    try:
        dvc_setup.configure(project_dir, answers, dvc)
    except dvc_setup.DvcSetupError as error:
        say(f"{error}: `make setup` will try again.")
        return False
    return True


LOCK_BY_HAND = "run `uv lock` in the project and commit uv.lock (CI installs with `uv sync --locked`)"


def start_locking(project_dir: Path) -> subprocess.Popen[str] | None:
    """Start writing uv.lock, so that the first commit pins every library CI and teammates install.

    `uv lock` spends most of its time waiting on the package index, so the hook sets up DVC
    meanwhile (the two touch different files) and collects the lock with `finish_locking`.
    """
    uv = shutil.which("uv")
    if uv is None:
        say(f"uv is not installed, so there is no uv.lock yet: install uv, then {LOCK_BY_HAND}.")
        return None
    return subprocess.Popen(
        [uv, "lock", "--quiet"], cwd=project_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def finish_locking(locking: subprocess.Popen[str] | None) -> bool:
    """Wait for `uv lock`; say why there is no uv.lock if it failed."""
    if locking is None:
        return False
    _, errors = locking.communicate()
    if locking.returncode != 0:
        reason = errors.strip().splitlines()[-1] if errors.strip() else "no reason given"
        say(f"`uv lock` failed ({reason}): {LOCK_BY_HAND}.")
        return False
    return True


def git_identity_args(project_dir: Path, author_name: str, author_email: str) -> list[str]:
    """Use the template's author for the first commit when git has no identity of its own."""
    has_email = run(project_dir, "git", "config", "user.email").stdout.strip()
    has_name = run(project_dir, "git", "config", "user.name").stdout.strip()
    if has_email and has_name:
        return []
    say(f"git has no user identity here: the first commit is authored as {author_name} <{author_email}>.")
    return ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]


def first_commit(project_dir: Path, author_name: str, author_email: str) -> bool:
    """Record the generated project as the first commit, so every later change is a diff."""
    identity = git_identity_args(project_dir, author_name, author_email)
    run(project_dir, "git", "add", "--all")
    result = run(
        project_dir,
        "git",
        *identity,
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "Generate the project from cookiecutter-gitops-ml",
    )
    if result.returncode != 0:
        say(f"the first commit failed ({result.stderr.strip()}): commit by hand with `git commit`.")
        return False
    return True


def record_cruft_state(project_dir: Path, answers: Mapping[str, str]) -> bool:
    """Under `cruft create`, write the .cruft.json that cruft writes after this hook, so that the
    first commit has it and the tree stays clean (`cruft update` refuses a dirty one).

    cruft adds `_commit` to the answers; the file is cruft's own form, byte for byte, which is
    why the answers keep their order. Options the hook cannot see (`--checkout`, `--directory`)
    make cruft's copy differ: the README says to commit it then.
    """
    if "_commit" not in answers:
        return False
    state = {
        "template": answers["_template"],
        "commit": answers["_commit"],
        "checkout": None,
        "context": {"cookiecutter": dict(answers)},
        "directory": None,
    }
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n"
    (project_dir / ".cruft.json").write_text(text, encoding="utf-8")
    return True


def finish(project_dir: Path, answers: Mapping[str, str]) -> None:
    """Prune, set up git and DVC, lock the dependencies; every failure is explained, none is fatal."""
    prune(project_dir, answers)
    configure_remote_credentials(project_dir, answers["dvc_remote"])
    configure_training_runner(project_dir, answers["training_runner"])
    record_cruft_state(project_dir, answers)
    if not init_git(project_dir):
        return
    locking = start_locking(project_dir)
    init_dvc(project_dir, answers)
    finish_locking(locking)
    first_commit(project_dir, answers["author_name"], answers["author_email"])


if __name__ == "__main__":
    # As (key, value) pairs: jsonify sorts a mapping's keys, and .cruft.json keeps their order.
    finish(Path.cwd(), dict(json.loads(r"""{{ cookiecutter.items() | list | jsonify }}""")))
