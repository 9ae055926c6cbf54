"""Check params.yaml's model tests against the data before anything trains: every problem at once,
each with its key. The estimator and its hyperparameters are checked where they are built
(estimators.py, when the train stage starts), so that validating data needs no scikit-learn."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..config import Params, Task
from ..errors import PipelineError

# What the evaluate stage writes, per task; model_tests may gate and compare only these.
TASK_METRICS: dict[Task, tuple[str, ...]] = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
# The metrics a slice can be scored on, per task (computed from predicted labels or values).
SLICE_METRICS_BY_TASK: dict[Task, tuple[str, ...]] = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("mae", "rmse", "r2"),
}
# The baseline gate's metric when params.yaml names none: one that a dummy estimator scores
# the same way on any data (1/classes for balanced accuracy, about 0 for r2).
DEFAULT_PRIMARY_METRIC: dict[Task, str] = {"classification": "balanced_accuracy", "regression": "r2"}


def one_of(values: Iterable[str]) -> str:
    return ", ".join(values) or "(none)"


def primary_metric(params: Params) -> str:
    """The metric the model must beat the baseline on."""
    return params.model_tests.primary_metric or DEFAULT_PRIMARY_METRIC[params.task]


def model_tests_problems(params: Params, inputs: Sequence[str], classes: Sequence[str] | None) -> list[str]:
    """What in `model_tests` cannot hold for a model with these inputs (and these classes)."""
    tests, task, problems = params.model_tests, params.task, []
    inputs_text = f"a model input: {one_of(inputs)}"
    metrics = TASK_METRICS[task]
    for metric in tests.gates:
        if metric not in metrics:
            problems.append(f"model_tests.gates.{metric}: not a {task} metric; one of: {one_of(metrics)}")
    if tests.primary_metric is not None and tests.primary_metric not in metrics:
        problems.append(
            f"model_tests.primary_metric '{tests.primary_metric}': not a {task} metric; "
            f"one of: {one_of(metrics)}"
        )
    if task == "regression" and tests.score_class is not None:
        problems.append("model_tests.score_class: only for classification; remove it for regression")
    if task == "classification" and classes is not None:
        if tests.score_class is not None and tests.score_class not in classes:
            problems.append(
                f"model_tests.score_class '{tests.score_class}': not a class of {params.data.target}; "
                f"one of: {one_of(classes)} (or leave it out: the rarest class)"
            )
        if tests.score_class is None and len(classes) > 2 and tests.directional:
            problems.append(
                f"model_tests.directional: a {len(classes)}-class target needs model_tests.score_class, "
                f"the class whose probability should move; one of: {one_of(classes)}"
            )
    for group in ("invariance", "directional"):
        for number, case in enumerate(getattr(tests, group)):
            if case.column not in inputs:
                problems.append(f"model_tests.{group}[{number}].column '{case.column}': not {inputs_text}")
    for number, case in enumerate(tests.minimum_functionality):
        key = f"model_tests.minimum_functionality[{number}]"
        unknown = [column for column in case.row if column not in inputs]
        if unknown:
            problems.append(f"{key}.row: {', '.join(unknown)} not {inputs_text}")
        if task == "classification":
            if case.expect is None:
                problems.append(f"{key}: needs `expect`, the class to predict")
            elif classes is not None and case.expect not in classes:
                problems.append(f"{key}.expect '{case.expect}': not a class; one of: {one_of(classes)}")
        elif case.between is None:
            problems.append(f"{key}: needs `between: [low, high]`, the bounds of the prediction")
    if tests.slices is not None:
        if tests.slices.column not in inputs:
            problems.append(f"model_tests.slices.column '{tests.slices.column}': not {inputs_text}")
        if tests.slices.metric not in SLICE_METRICS_BY_TASK[task]:
            problems.append(
                f"model_tests.slices.metric '{tests.slices.metric}': not a {task} slice metric; "
                f"one of: {one_of(SLICE_METRICS_BY_TASK[task])}"
            )
    return problems


def check_model_tests(params: Params, inputs: Sequence[str], classes: Sequence[str] | None) -> None:
    """Refuse params.yaml's model_tests with every problem listed, so that one run finds them all."""
    problems = model_tests_problems(params, inputs, classes)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise PipelineError(
            f"params.yaml has {len(problems)} problem{'s' * (len(problems) != 1)} with this data:\n{listed}\n"
            "Fix them in params.yaml (`make adopt` derives model_tests that fit the data)."
        )
