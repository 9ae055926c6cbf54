"""What a drift check found, per column and overall: shared by the reports and the monitor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["numerical", "categorical"]
Status = Literal["compared", "unchanged", "no_reference", "no_common_columns"]


@dataclass(frozen=True)
class ColumnDrift:
    """Evidently's verdict on one column, and the threshold it was held to."""

    column: str
    kind: Kind
    method: str
    score: float
    threshold: float  # the one used: params.yaml's, or the noise floor when that is higher
    drifted: bool
    noise_floor: float | None = None  # None: the method has no floor, or noise_rounds is 0

    @property
    def threshold_source(self) -> Literal["noise floor", "params"]:
        floored = self.noise_floor is not None and self.threshold == self.noise_floor
        return "noise floor" if floored else "params"


@dataclass(frozen=True)
class DriftSummary:
    """What a drift check found, in the terms the JSON and markdown reports use."""

    status: Status
    reference: str
    current: str
    drift_share: float
    columns: tuple[ColumnDrift, ...] = ()
    prediction: ColumnDrift | None = None
    notes: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)
    schema_changed: bool = False  # one table has columns the other lacks (the notes name them)

    @property
    def drifted_columns(self) -> list[str]:
        return [column.column for column in self.columns if column.drifted]

    @property
    def share_drifted(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.share_drifted >= self.drift_share

    @property
    def drift_detected(self) -> bool:
        """The alarm: enough columns drifted, or the model's predictions did."""
        return self.dataset_drift or bool(self.prediction and self.prediction.drifted)

    def as_json(self) -> dict[str, Any]:
        by_drift = sorted(self.columns, key=lambda column: not column.drifted)
        return {
            "status": self.status,
            "reference": self.reference,
            "current": self.current,
            "rows": self.rows,
            "notes": list(self.notes),
            "columns": [column_json(column) for column in by_drift],
            "drifted_columns": self.drifted_columns,
            "share_drifted": round(self.share_drifted, 6),
            "drift_share_threshold": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "prediction_drift": column_json(self.prediction) if self.prediction else None,
            "drift_detected": self.drift_detected,
            "schema_changed": self.schema_changed,
        }


def column_json(column: ColumnDrift) -> dict[str, Any]:
    return {
        "column": column.column,
        "type": column.kind,
        "method": column.method,
        "score": round(column.score, 6),
        "threshold": round(column.threshold, 6),
        "threshold_source": column.threshold_source,
        "noise_floor": None if column.noise_floor is None else round(column.noise_floor, 6),
        "drifted": column.drifted,
    }
