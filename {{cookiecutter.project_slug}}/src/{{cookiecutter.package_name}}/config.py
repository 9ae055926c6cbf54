"""Typed view of params.yaml, validated when loaded so that a typo fails loudly and early."""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import PipelineError

PARAMS_FILE = Path("params.yaml")

Task = Literal["classification", "regression"]


class Section(BaseModel):
    """A params.yaml section: immutable, and unknown keys are refused rather than ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DownloadParams(Section):
    """Bounds of an http(s) source, so a huge or endless body cannot exhaust memory, disk or patience."""

    max_bytes: int = Field(default=1_000_000_000, ge=1, description="Largest body accepted, in bytes.")
    timeout_seconds: float = Field(default=900, gt=0, description="Longest a whole download may take.")


class CsvParams(Section):
    """How the data's CSV files are written: every user CSV (source, batches, files to score) is
    read with these; the pipeline's own tables are always comma-separated UTF-8."""

    separator: str = Field(default=",", min_length=1, max_length=1, description="Between columns.")
    encoding: str = Field(default="utf-8", description="A Python codec name: utf-8, latin-1, cp1252...")
    decimal: str = Field(default=".", min_length=1, max_length=1, description="In numbers: . or ,")

    @field_validator("encoding")
    @classmethod
    def known_encoding(cls, name: str) -> str:
        try:
            codecs.lookup(name)
        except LookupError as error:
            raise ValueError(
                f"unknown encoding {name!r}: use a Python codec name such as utf-8 or latin-1"
            ) from error
        return name


class DataParams(Section):
    source: str = Field(description="A CSV or Parquet path, relative to the project root, or an http(s) URL.")
    target: str
    drop_columns: tuple[str, ...] = ()
    csv: CsvParams = CsvParams()
    download: DownloadParams = DownloadParams()


class SplitParams(Section):
    test_size: float = Field(gt=0, lt=1)
    stratify: bool = True


class ModelParams(Section):
    estimator: str
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class EvaluateParams(Section):
    permutation_repeats: int = Field(ge=1)


class ReportParams(Section):
    publish_plots: bool = Field(
        description="Embed the figures as images, which CML uploads to its public image host."
    )


# Evidently's statistical tests, by the kind of column each one accepts.
NumericalTest = Literal[
    "wasserstein", "ks", "psi", "kl_div", "jensenshannon", "hellinger", "anderson",
    "cramer_von_mises", "mannw", "t_test", "ed", "es", "empirical_mmd",
]  # fmt: skip
CategoricalTest = Literal[
    "jensenshannon", "chisquare", "psi", "kl_div", "hellinger", "TVD", "z", "g_test", "fisher_exact"
]


class NumericalDrift(Section):
    method: NumericalTest
    threshold: float = Field(gt=0)


class CategoricalDrift(Section):
    method: CategoricalTest
    threshold: float = Field(gt=0)


class DriftParams(Section):
    drift_share: float = Field(gt=0, le=1)
    sample_rows: int = Field(ge=100)
    noise_rounds: int = Field(ge=0, le=100_000, description="Bootstrap rounds for the noise floor; 0: none.")
    false_alarm_rate: float = Field(
        gt=0, lt=1, description="How often, at most, a batch from the reference's distribution is flagged."
    )
    numerical: NumericalDrift
    categorical: CategoricalDrift


class InvarianceCase(Section):
    column: str
    shift: float | None = Field(default=None, description="Add this to a numeric column; else shuffle it.")
    tolerance: float = Field(ge=0, description="Largest mean change of the score (probability or target).")


class DirectionalCase(Section):
    column: str
    increase: float = Field(gt=0, description="Add this to the column.")
    expect: Literal["higher", "lower"] = Field(description="Where the mean score must move (or stay).")


class FunctionalityCase(Section):
    # A class written as a number (expect: 1) means the class "1", as the model names it.
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    name: str
    row: dict[str, Any]
    expect: str | None = Field(default=None, description="Classification: the class to predict.")
    between: tuple[float, float] | None = Field(default=None, description="Regression: prediction bounds.")


class SliceGate(Section):
    column: str
    metric: str
    bound: float | None = Field(
        default=None, description="The worst slice's metric must be on the good side of this."
    )
    max_gap: float | None = Field(
        default=None,
        ge=0,
        description="The worst slice may be at most this share worse than the whole test set.",
    )
    min_rows: int = Field(default=20, ge=1, description="Smaller slices are reported, not gated.")

    @model_validator(mode="after")
    def bounded(self) -> SliceGate:
        if self.bound is None and self.max_gap is None:
            raise ValueError("give `max_gap` (relative to the whole test set's score) or `bound`, or both")
        return self


class ModelTestsParams(Section):
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    gates: dict[str, float] = Field(default_factory=dict, description="Absolute bounds, optional.")
    regression_tolerance: float = Field(ge=0, description="Allowed relative loss against the base.")
    min_labelled_rows: int = Field(
        default=100, ge=1, description="make monitor: fewer labelled rows in a batch are not judged."
    )
    primary_metric: str | None = Field(
        default=None, description="The metric the baseline gate compares (default per task)."
    )
    beat_baseline_by: float = Field(
        default=0.02, ge=0, description="How much the model must beat a dummy estimator's score by."
    )
    score_class: str | None = Field(
        default=None, description="Classification: the class scored (default: the rarest class)."
    )
    invariance: tuple[InvarianceCase, ...] = ()
    directional: tuple[DirectionalCase, ...] = ()
    minimum_functionality: tuple[FunctionalityCase, ...] = ()
    slices: SliceGate | None = None


Strategy = Literal["recreate", "blue-green", "canary", "shadow", "ab"]
# Strategies under which a promotion is a rollout: the new version is a candidate until finished.
ROLLING = ("canary", "ab", "shadow")


class RolloutParams(Section):
    """`make rollout-report`: what the candidate must show before `make rollout-finish` makes it primary."""

    report: Path = Field(default=Path("reports/rollout"), description="Where rollout.md and rollout.json go.")
    min_requests: int = Field(
        default=50, ge=1, description="Fewest requests each version must have answered."
    )
    min_agreement: float = Field(
        default=0.9, ge=0, le=1, description="Classification: share of predictions the two versions agree on."
    )
    max_prediction_shift: float = Field(
        default=0.25,
        ge=0,
        description="Regression: prediction difference, in the primary's standard deviations.",
    )
    max_error_rate: float = Field(
        default=0.01, ge=0, le=1, description="Candidate's share of failed requests."
    )
    max_latency_ratio: float = Field(
        default=2.0, gt=0, description="Candidate's p99 latency over the primary's, at most."
    )
    max_input_drift: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Largest per-column distance between the two versions' inputs, beyond sampling noise.",
    )


class StageServing(Section):
    """How one stage meets a new version: `make serve STAGE=...`, promotion and `make manifests`."""

    strategy: Strategy = Field(
        default="recreate",
        description="recreate: one version; blue-green: two slots, one answers; canary: a share of "
        "traffic to the candidate; shadow: the candidate scores a copy and never answers; "
        "ab: requests split by key between two variants.",
    )
    candidate: str | None = Field(
        default=None,
        description="Where the second version comes from: a stage (staging) or `local`; unset, the "
        "stage's promotion still rolling out (canary, ab, shadow).",
    )
    canary_share: float = Field(
        default=0.1, ge=0, le=1, description="Share of requests the candidate answers."
    )
    ab_share: float = Field(
        default=0.5, ge=0, le=1, description="ab: share of keys variant B (the candidate) gets."
    )


# The working copy's model (`make serve STAGE=local`), which a stage's settings may name too.
LOCAL = "local"


class ServingParams(Section):
    """`make serve` and `make predict`: how the model meets requests and files."""

    stages: dict[str, StageServing] = Field(
        default_factory=dict, description="Each stage's strategy; a stage left out is served recreate."
    )
    sticky_header: str = Field(
        default="x-request-key",
        min_length=1,
        description="Requests with the same value meet the same version.",
    )
    rollout: RolloutParams = RolloutParams()
    max_rows: int = Field(default=10_000, ge=1, description="Most rows one request may carry.")
    max_bytes: int = Field(default=5_000_000, ge=1, description="Largest request body, in bytes.")
    log_dir: Path = Field(default=Path("logs/predictions"), description="Daily JSON-lines prediction logs.")
    log_queue: int = Field(
        default=10_000, ge=1, description="Requests waiting to be logged before some are dropped."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    batch_rows: int = Field(
        default=50_000, ge=1, description="`make predict` reads and scores this many rows at a time."
    )
    bad_rows: Literal["skip", "refuse"] = Field(
        default="skip",
        description="`make predict`: skip rows that fail the schema (reported), or refuse the file.",
    )

    @model_validator(mode="before")
    @classmethod
    def strategy_per_stage(cls, raw: Any) -> Any:
        """The strategy and its settings moved into each stage: say where they go now."""
        moved = [key for key in StageServing.model_fields if isinstance(raw, dict) and key in raw]
        if moved:
            raise ValueError(
                f"{', '.join(moved)}: set per stage now, under serving.stages.<stage>, "
                "for example `prod: {strategy: canary, canary_share: 0.1}`"
            )
        return raw

    def stage(self, name: str) -> StageServing:
        """A stage's settings; a stage params.yaml leaves out is served alone (recreate)."""
        return self.stages.get(name, StageServing())


class KServeParams(Section):
    """`make manifests`: the KServe InferenceService of each stage, running the serving image."""

    image: str = Field(
        pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        description="The serving image's repository, without a tag (lowercase, as registries require); "
        "the deploy workflow pushes it tagged with the model version and the stage.",
    )
    output: Path = Field(default=Path("deploy/kserve"), description="Where `<stage>.yaml` files go.")
    cpu: str = Field(default="500m", description="CPU each replica requests (Kubernetes quantity).")
    memory: str = Field(default="1Gi", description="Memory each replica requests and is limited to.")
    min_replicas: int = Field(default=1, ge=0, description="0 lets Knative scale an idle stage to zero.")
    max_replicas: int = Field(default=3, ge=1)


class FeedbackParams(Section):
    """Production feedback: labelled batches that join the training data, and when to retrain."""

    pending: Path = Field(
        default=Path("data/incoming"), description="Labelled batches (CSV) waiting for `make retrain`."
    )
    ledger: Path = Field(
        default=Path("data/batches.jsonl"),
        description="One line per batch added: source, time, rows, sha256.",
    )
    min_new_rows: int = Field(
        default=500, ge=1, description="Pending labelled rows that open a retraining pull request alone."
    )
    auto_merge_label: str | None = Field(
        default=None, description="A label the retraining pull request gets, for a team's auto-merge rule."
    )


class Paths(Section):
    ingested: Path
    ingest_counts: Path
    data_schema: Path
    validation: Path
    validation_summary: Path
    train: Path
    test: Path
    model: Path
    model_metadata: Path
    metrics: Path
    metrics_provenance: Path
    plots: Path
    figures: Path
    pr_report: Path
    drift_reference: Path
    drift: Path
    monitor: Path
    batches: Path
    model_tests: Path
    model_tests_summary: Path
    latency: Path


class Params(Section):
    task: Task
    seed: int
    base_branch: str = Field(
        min_length=1, description="The branch a pull request is compared with: metrics, params, model tests."
    )
    data: DataParams
    split: SplitParams
    model: ModelParams
    evaluate: EvaluateParams
    report: ReportParams
    drift: DriftParams
    model_tests: ModelTestsParams
    serving: ServingParams = ServingParams()
    feedback: FeedbackParams = FeedbackParams()
    kserve: KServeParams | None = None
    paths: Paths


def base_branch(params: Params) -> str:
    """The branch to compare with: the pull request's base when CI says so, else params.yaml's."""
    return os.environ.get("GITHUB_BASE_REF") or params.base_branch


def describe_errors(error: ValidationError) -> str:
    """One line per problem, each naming the params.yaml key it concerns."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {key}: {problem['msg']}")
    return "\n".join(lines)


def read_yaml(path: Path, when_missing: str) -> Any:
    """Parse a YAML file, turning a missing or malformed file into one readable error."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PipelineError(f"{path} not found: {when_missing}") from error
    except yaml.YAMLError as error:
        raise PipelineError(f"{path} is not valid YAML: {error}") from error


@contextmanager
def invalid_values_reported(path: Path) -> Iterator[None]:
    """Turn a validation failure of a file's contents into one error naming each key."""
    try:
        yield
    except ValidationError as error:
        raise PipelineError(f"{path} has invalid values:\n{describe_errors(error)}") from error


def load_params(path: Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml."""
    raw = read_yaml(path, "run from the project root")
    with invalid_values_reported(path):
        return Params.model_validate(raw)
