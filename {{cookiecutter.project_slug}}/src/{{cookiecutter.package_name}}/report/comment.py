"""Command `report`: the pull request's one comment, as markdown, the same locally and in CI.

It reads what the pipeline and the checks already wrote and what git and DVC know; it runs
nothing heavy itself, so a gate that has not run shows as "not run" instead of failing here.
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from ..config import Params, base_branch, load_params
from ..errors import PipelineError
from ..model.provenance import COMPUTED_FOR, outdated
from ..outputs import atomic_path, markdown_code, markdown_table, markdown_text, visible
from ..repo.branch import stale_notice
from ..repo.github import run_url

if TYPE_CHECKING:
    from dvc.repo import Repo

# The summaries other commands write; each starts with a one-line verdict (✅, ⚠️ or ❌).


def gate_summaries(params: Params) -> dict[str, Path]:
    """The markdown summary each gate writes, by the section title it gets in the report."""
    return {
        "Data validation": params.paths.validation_summary,
        "Model tests": params.paths.model_tests_summary,
        "Drift": params.paths.drift / "drift.md",
    }


# Metrics where a smaller value is the better one; every other metric is better when larger.
SMALLER_IS_BETTER = frozenset({"log_loss", "rmse", "mae", "mse", "brier_score"})
CHART_POINTS = 11
# GitHub refuses a comment over 65,536 characters; the rest is margin for CML's own additions.
COMMENT_BUDGET = 60_000
TABLE_DELIMITER = re.compile(r"^\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?$")


@dataclass(frozen=True)
class Gate:
    name: str
    status: str  # "pass", "warn", "fail" or "not run"
    summary: str


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    """Run git or DVC with arguments this module chose (no shell), capturing the output."""
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def git(*arguments: str) -> str:
    """Output of a git command; git must work here, so a failure is the user's to fix."""
    result = run_tool(shutil.which("git") or "git", *arguments)
    if result.returncode != 0:
        raise PipelineError(f"`git {' '.join(arguments)}` failed: {result.stderr.strip()}")
    return result.stdout.strip()


@functools.cache
def dvc_repo(root: Path) -> Repo:
    """The repository at `root` through DVC's Python API: one import for all questions, not a process each."""
    from dvc.repo import Repo  # DVC is a dev dependency, imported only when a report is written

    try:
        return Repo(str(root))
    except Exception as error:  # DVC raises its own hierarchy; any of it means the same here
        raise PipelineError(f"DVC cannot open this repository: {error}") from error


def dvc_answer(question: str, call: Callable[[Repo], Any]) -> Any:
    """A DVC API call, its failure turned into one readable error."""
    try:
        return call(dvc_repo(Path.cwd()))
    except PipelineError:
        raise
    except Exception as error:  # DVC's errors share no base class worth naming
        raise PipelineError(f"DVC could not {question}: {error}") from error


def resolve_base(branch: str) -> str | None:
    """The revision to compare with: the branch itself, or its remote-tracking copy in a CI clone."""
    for candidate in (branch, f"origin/{branch}"):
        probe = run_tool(
            shutil.which("git") or "git", "rev-parse", "--verify", "--quiet", candidate + "^{commit}"
        )
        if probe.returncode == 0:
            return candidate
    return None


def read_gate(name: str, path: Path) -> Gate:
    """A gate's status from the verdict emoji on the first line of its summary."""
    if not path.is_file():
        return Gate(name, "not run", f"_Not run: `{path}` was not written._")
    text = path.read_text(encoding="utf-8").strip()
    first = text.splitlines()[0] if text else ""
    # The information sign marks a gate that had nothing to check (drift without a reference).
    statuses = {"✅": "pass", "❌": "fail", "\N{INFORMATION SOURCE}": "not run"}
    status = next((value for mark, value in statuses.items() if first.startswith(mark)), "warn")
    return Gate(name, status, text)


def refreshed_by(params: Params) -> dict[str, tuple[Path, Path, str]]:
    """The gates the pipeline does not rebuild: their results, the data they were computed on, and
    the command that computes them again."""
    return {
        "Model tests": (params.paths.model_tests, params.paths.test, "make test-model"),
        "Drift": (params.paths.drift / "drift.json", params.paths.ingested, "make drift"),
    }


def checked_for_this_model(gate: Gate, params: Params) -> Gate:
    """A gate failed as stale when its results were computed for another model or data: `make
    pipeline` can retrain without computing them again."""
    results, data, command = refreshed_by(params).get(gate.name, (None, None, ""))
    if results is None or data is None or gate.status == "not run" or not results.is_file():
        return gate
    recorded = json.loads(results.read_text(encoding="utf-8")).get(COMPUTED_FOR)
    changed = outdated(recorded, params.paths.model, data)
    if not changed:
        return gate
    note = (
        f"❌ Stale: the {' and the '.join(changed)} changed since these results were computed "
        f"(`{command}` runs them again)."
    )
    return Gate(gate.name, "fail", f"{note}\n\n{gate.summary}")


def stale_stages() -> list[str]:
    """Stages whose inputs changed since dvc.lock was written: their results are not shown."""
    return sorted(dvc_answer("compare dvc.lock with the workspace", lambda repo: repo.status()))


def verdict(gates: list[Gate], stale: list[str]) -> str:
    """The first line: all gates passed, or which failed."""
    failed = [gate.name for gate in gates if gate.status == "fail"]
    if stale:
        failed.insert(0, f"pipeline not up to date ({', '.join(stale)}: run `make pipeline`)")
    not_run = [gate.name for gate in gates if gate.status == "not run"]
    warned = [gate.name for gate in gates if gate.status == "warn"]
    if failed:
        line = f"❌ **Failed: {', '.join(failed)}**"
    elif warned:
        line = f"⚠️ **Passed with warnings: {', '.join(warned)}**"
    else:
        line = "✅ **All gates passed**"
    return line + (f" · not run: {', '.join(not_run)}" if not_run else "")


def number(value: Any) -> str:
    """A metric or param value as a table cell (params.yaml is the pull request's: its text is data)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value) if isinstance(value, int) else markdown_text(value)


def direction(metric: str, change: float | None) -> str:
    """Whether a change is an improvement, read from the metric's name."""
    if change is None:
        return "new"
    if change == 0:
        return "="
    better = (change < 0) if metric in SMALLER_IS_BETTER else (change > 0)
    return "▲ better" if better else "▼ worse"


def is_score(value: Any) -> bool:
    """A metric value worth a row: a number (DVC also lists the md5s of the metrics' provenance)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def scores_only(metrics: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metrics that are scores: DVC also lists the provenance (which model they are for)."""
    return {name: values for name, values in metrics.items() if any(map(is_score, values.values()))}


def metrics_section(base: str | None, base_branch: str) -> list[str]:
    """Every metric of this run, with its value on the base branch and the change."""
    lines = ["## Metrics", ""]
    if base is None:
        shown = dvc_answer("read the metrics", lambda repo: repo.metrics.show())
        current = shown.get("", {}).get("data", {})
        rows = {
            path: {name: {"new": value} for name, value in data.get("data", {}).items()}
            for path, data in current.items()
        }
        branch = markdown_code(base_branch)
        lines += [f"_Base branch {branch} not found: fetch it to compare (`git fetch origin`)._", ""]
    else:
        rows = dvc_answer(
            f"compare the metrics with {base}", lambda repo: repo.metrics.diff(a_rev=base, all=True)
        ).get("diff", {})
    rows = {path: scores for path, metrics in rows.items() if (scores := scores_only(metrics))}
    header = ["Metric", markdown_code(base_branch), "this branch", "change", ""]
    table = []
    for path, metrics in sorted(rows.items()):
        for name, values in sorted(metrics.items()):
            change = values.get("diff")
            delta = "—" if change is None else f"{change:+.4g}"
            label = markdown_code(name if len(rows) == 1 else f"{path}: {name}")
            old, new = number(values.get("old")), number(values.get("new"))
            table.append([label, old, new, delta, direction(name, change) if base else ""])
    align = ["---", "---:", "---:", "---:", "---"]
    return [*lines, *markdown_table(header, table, align).splitlines(), ""]


def params_section(base: str | None, base_branch: str) -> list[str]:
    """The settings this branch changed."""
    lines = ["## Params", ""]
    if base is None:
        return [*lines, "_No base branch to compare with._", ""]
    changed = {
        (path, name): values
        for path, params in dvc_answer(
            f"compare the params with {base}", lambda repo: repo.params.diff(a_rev=base)
        )
        .get("diff", {})
        .items()
        for name, values in params.items()
    }
    if not changed:
        return [*lines, f"No setting differs from {markdown_code(base_branch)}.", ""]
    header = ["Param", markdown_code(base_branch), "this branch"]
    table = [
        [markdown_code(name), number(values.get("old")), number(values.get("new"))]
        for (_, name), values in sorted(changed.items())
    ]
    return [*lines, *markdown_table(header, table).splitlines(), ""]


def mermaid_label(text: str) -> str:
    """A category name that cannot break a mermaid chart (nor its code fence: no line breaks)."""
    return '"' + visible(text).replace('"', "'") + '"'


def importance_chart(rows: list[dict[str, str]]) -> list[str]:
    """Permutation importance as a mermaid bar chart, the largest ten."""
    top = sorted(rows, key=lambda row: float(row["importance"]), reverse=True)[:10]
    importances = [float(row["importance"]) for row in top]
    return [
        "```mermaid",
        "xychart-beta horizontal",
        '    title "Permutation feature importance"',
        f"    x-axis [{', '.join(mermaid_label(row['feature']) for row in top)}]",
        '    y-axis "drop in score when shuffled"',
        f"    bar [{', '.join(f'{value:.4f}' for value in importances)}]",
        "```",
    ]


def roc_chart(rows: list[dict[str, str]]) -> list[str]:
    """The ROC curve as a mermaid line chart, sampled at evenly spaced false-positive rates."""
    grid = np.linspace(0, 1, CHART_POINTS)
    points = sorted((float(row["fpr"]), float(row["tpr"])) for row in rows)
    tpr = np.interp(grid, [fpr for fpr, _ in points], [tpr for _, tpr in points])
    return [
        "```mermaid",
        "xychart-beta",
        '    title "ROC curve"',
        f'    x-axis "false-positive rate" [{", ".join(f"{value:.1f}" for value in grid)}]',
        '    y-axis "true-positive rate" 0 --> 1',
        f"    line [{', '.join(f'{value:.3f}' for value in tpr)}]",
        f"    line [{', '.join(f'{value:.1f}' for value in grid)}]",
        "```",
    ]


def confusion_table(rows: list[dict[str, str]]) -> list[str]:
    """Counts of actual (rows) against predicted (columns) classes."""
    counts = Counter((row["actual"], row["predicted"]) for row in rows)
    actual_classes = sorted({actual for actual, _ in counts})
    predicted_classes = sorted({predicted for _, predicted in counts})
    header = ["actual \\ predicted", *(markdown_code(label) for label in predicted_classes)]
    table = [
        [markdown_code(actual), *(str(counts[actual, predicted]) for predicted in predicted_classes)]
        for actual in actual_classes
    ]
    return ["**Confusion matrix** (test set)", "", *markdown_table(header, table).splitlines()]


def residual_chart(rows: list[dict[str, str]]) -> list[str]:
    """How many predictions fall in each band of residuals, as a mermaid bar chart."""
    counts, edges = np.histogram([float(row["residual"]) for row in rows], bins=CHART_POINTS)
    labels = [f"{(low + high) / 2:.3g}" for low, high in itertools.pairwise(edges)]
    return [
        "```mermaid",
        "xychart-beta",
        '    title "Residuals (actual - predicted)"',
        f"    x-axis [{', '.join(mermaid_label(label) for label in labels)}]",
        '    y-axis "predictions"',
        f"    bar [{', '.join(str(count) for count in counts)}]",
        "```",
    ]


def plot_rows(path: Path) -> list[dict[str, str]]:
    """A plot table's rows as the evaluate stage wrote them, read without pandas (seconds to import)."""
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


CHARTS = {
    "feature_importance": importance_chart,
    "roc": roc_chart,
    "confusion": confusion_table,
    "residuals": residual_chart,
}


def plots_section(params: Params, report_dir: Path, artifacts_link: str) -> list[str]:
    """Charts GitHub draws itself, or CML-published images when the project opted in."""
    lines = ["## Plots", ""]
    if params.report.publish_plots:
        for figure in sorted(params.paths.figures.glob("*.png")):
            relative = os.path.relpath(figure, report_dir)
            lines += [f"![{figure.stem.replace('_', ' ')}]({relative})", ""]
    else:
        for name, chart in CHARTS.items():
            table_path = params.paths.plots / f"{name}.csv"
            if table_path.is_file():
                lines += [*chart(plot_rows(table_path)), ""]
    return [*lines, f"Full-size figures: {artifacts_link}.", ""]


def model_hash(params: Params) -> str | None:
    """The DVC hash of the model, as dvc.lock records it."""
    lock_path = Path("dvc.lock")
    if not lock_path.is_file():
        return None
    lock = yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            if Path(out["path"]) == params.paths.model:
                return out.get("md5")
    return None


def artifacts_link() -> str:
    """Where the full reports are: the workflow run's artifacts in CI, the files locally."""
    url = run_url()
    if url:
        return f"the `reports` artifact of [this workflow run]({url})"
    return "`reports/` in this working copy"


def provenance_section(params: Params) -> list[str]:
    """Which commit and which model this report is about, and how to get them again."""
    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--", "dvc.lock", "params.yaml", "src")
    digest = model_hash(params)
    lines = [
        "## Reproduce",
        "",
        f"- Commit: `{commit[:12]}`" + (" (with uncommitted changes)" if dirty else ""),
        f"- Model: `{params.paths.model}`, DVC md5 `{digest or 'not in dvc.lock yet'}`",
        "",
        "```bash",
        f"git checkout {commit[:12]}",
        "make setup",
        "make pull       # with a DVC remote: download this model instead of training it",
        "make pipeline   # rebuilds only what is missing",
        "```",
    ]
    return [*lines, ""]


def is_table_delimiter(line: str) -> bool:
    """The `|---|---:|` line under a table's header."""
    return "-" in line and bool(TABLE_DELIMITER.match(line.strip()))


def safe_cut(lines: list[str], keep: int) -> bool:
    """Whether keeping `lines[:keep]` leaves valid markdown: no open code fence, no bare table header."""
    if sum(line.lstrip().startswith("```") for line in lines[:keep]) % 2:
        return False
    dropped_first = lines[keep] if keep < len(lines) else ""
    return not is_table_delimiter(dropped_first) and not is_table_delimiter(lines[keep - 1])


def left_out_note(dropped: list[str], where: str) -> str:
    """One line saying how much of a section was cut, and where the rest is."""
    headers = {index - 1 for index, line in enumerate(dropped) if is_table_delimiter(line)}
    rows = sum(
        line.lstrip().startswith("|") and not is_table_delimiter(line) and index not in headers
        for index, line in enumerate(dropped)
    )
    other = sum(bool(line.strip()) and not line.lstrip().startswith("|") for line in dropped)
    counts = [
        f"{count} more {noun}{'s' if count > 1 else ''}"
        for count, noun in ((rows, "row"), (other, "line"))
        if count
    ]
    return f"_… {' and '.join(counts) or 'more'} in {where}._"


def cut_section(lines: list[str], limit: int, where: str) -> list[str]:
    """The section's first lines within about `limit` characters, then a note on what was left out.

    It is cut at a line boundary, never inside a code block or between a table's header and its
    first row; the heading (the first line) always stays.
    """
    if len("\n".join(lines)) <= limit:
        return lines
    longest_note = len(left_out_note(lines, where))
    keep, size = 1, len(lines[0])
    for candidate in range(2, len(lines)):
        size += 1 + len(lines[candidate - 1])
        if size + longest_note + 3 > limit:
            break
        if safe_cut(lines, candidate):
            keep = candidate
    if not any(line.strip() for line in lines[keep:]):
        return lines
    # A blank line ends a table: without it GitHub would read the note as one more row.
    return [*lines[:keep], "", left_out_note(lines[keep:], where), ""]


def fit_comment(sections: list[list[str]], where: str, budget: int = COMMENT_BUDGET) -> str:
    """The sections as one markdown text within `budget` characters, cutting the longest ones first.

    Every section longer than a common limit is cut to it; the limit is the largest that fits.
    """

    def joined(limit: int) -> str:
        return "\n".join(line for section in sections for line in cut_section(section, limit, where))

    text = joined(budget)
    if len(text) <= budget:
        return text
    low, high = 0, budget  # joined(low) is the shortest the sections get; it fits any sane budget
    while low < high:
        middle = (low + high + 1) // 2
        if len(joined(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return joined(low)


def build_report(params: Params) -> str:
    """The whole comment, within GitHub's size limit for a comment."""
    branch = base_branch(params)
    base = resolve_base(branch)
    gates = [
        checked_for_this_model(read_gate(name, path), params) for name, path in gate_summaries(params).items()
    ]
    link = artifacts_link()
    notice = stale_notice(base, branch) if base is not None else None
    sections = [
        [verdict(gates, stale_stages()), "", *([notice, ""] if notice else [])],
        metrics_section(base, branch),
        params_section(base, branch),
        *([f"## {gate.name}", "", *gate.summary.splitlines(), ""] for gate in gates),
        plots_section(params, params.paths.pr_report.parent, link),
        provenance_section(params),
    ]
    return fit_comment(sections, link)


def main() -> None:
    params = load_params()
    text = build_report(params)
    with atomic_path(params.paths.pr_report) as temporary:
        temporary.write_text(text, encoding="utf-8")
    # In GitHub Actions the same markdown is the job summary, which forks' PRs get too.
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(text)
    print(f"report: wrote {params.paths.pr_report}")
