"""Which `run:` steps of the generated workflows the template's tests execute under `act`.

The act tests keep each run's log when $TEMPLATE_ACT_LOGS names a directory
(tests/act_harness.py). This counts, for a project baked with the default answers, every
`run:` step of every workflow, and finds the ones some log shows act ran (`Success - Main
<step>`, or `Failure - Main <step>` for a guard that refused, as a test asks).

Usage:
    TEMPLATE_ACT_LOGS=logs .venv/bin/pytest tests/test_github_flow.py ...   # the act tests
    .venv/bin/python benchmarks/act_coverage.py logs
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
EXPRESSION = re.compile(r"\\\$\\\{\\\{.*?\\\}\\\}")  # an escaped `${{ ... }}`
# act's line for a finished step: `[Workflow/Job]   ✅  Success - Main make setup [1.2s]`; a
# job of a called workflow has the caller's job in front: `[Promote/Deploy/Read the tag]`.
FINISHED = re.compile(
    r"^\[(?P<prefix>[^\]]+)\]\s+\S+\s+(?:Success|Failure) - Main (?P<step>.+?)(?: \[[^\]]*\])?$"
)


@dataclass(frozen=True)
class RunStep:
    workflow: str  # the file
    job: str  # the job's name as act shows it (expressions as patterns)
    label: str  # the step's name, or its command when it has none

    def pattern(self, text: str) -> str:
        """A pattern for text in which each `${{ ... }}` may be anything."""
        return EXPRESSION.sub(".*", re.escape(text))

    def ran_in(self, finished: set[tuple[str, str]]) -> bool:
        job = re.compile(rf"(?:.*/)?{self.pattern(self.job)}")
        label = re.compile(self.pattern(self.label))
        return any(job.fullmatch(prefix) and label.fullmatch(step) for prefix, step in finished)


def run_steps(workflows: Path) -> list[RunStep]:
    steps = []
    for path in sorted(workflows.glob("*.yml")):
        for job_id, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job.get("steps", []):
                if "run" in step:
                    label = step.get("name") or step["run"].strip().splitlines()[0]
                    steps.append(RunStep(path.name, str(job.get("name", job_id)), label))
    return steps


def finished_steps(logs: Path) -> set[tuple[str, str]]:
    finished = set()
    for log in logs.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if match := FINISHED.match(line.strip()):
                prefix = "/".join(part.strip() for part in match["prefix"].split("/"))  # act pads names
                finished.add((prefix, match["step"]))
    return finished


def main() -> None:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: act_coverage.py DIRECTORY-OF-ACT-LOGS (the tests' $TEMPLATE_ACT_LOGS)")
    finished = finished_steps(Path(sys.argv[1]))
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=scratch))
        steps = run_steps(project / ".github" / "workflows")
    ran = [step for step in steps if step.ran_in(finished)]
    for workflow in sorted({step.workflow for step in steps}):
        mine = [step for step in steps if step.workflow == workflow]
        executed = [step for step in mine if step in ran]
        print(f"{workflow:<22} {len(executed):>3} of {len(mine):>3} run: steps executed under act")
        for step in mine:
            if step not in ran:
                print(f"    not run: {step.job} / {step.label}")
    print(f"{'all workflows':<22} {len(ran):>3} of {len(steps):>3} ({100 * len(ran) / len(steps):.0f}%)")


if __name__ == "__main__":
    main()
