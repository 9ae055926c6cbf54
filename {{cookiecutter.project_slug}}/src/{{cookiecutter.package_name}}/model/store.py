"""Save and load the model with skops, which refuses to run code it was not told to trust."""

from __future__ import annotations

from pathlib import Path

import skops.io
from sklearn.pipeline import Pipeline

from ..errors import PipelineError
from .canonical_skops import canonical_skops
from .features import date_parts

# Types outside skops' default trust that our pipelines legitimately contain: plain data
# holders from numpy, scikit-learn's own tree structures and our own feature functions.
# Anything else is refused.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    f"{date_parts.__module__}.{date_parts.__qualname__}",
)


def save_model(model: Pipeline, path: Path) -> None:
    """Write the fitted pipeline in skops format, canonical: the same model gives the same bytes."""
    path.write_bytes(canonical_skops(skops.io.dumps(model)))


def untrusted_types(path: Path) -> list[str]:
    """Types in a model file that loading it would instantiate without our say-so."""
    return [name for name in skops.io.get_untrusted_types(file=path) if name not in TRUSTED_TYPES]


def load_model(path: Path) -> Pipeline:
    """Load a model file, refusing one that holds types we have not reviewed."""
    if not path.is_file():
        raise PipelineError(f"no model at {path}: run the train stage first (make pipeline)")
    unexpected = untrusted_types(path)
    if unexpected:
        raise PipelineError(f"{path} holds untrusted types, refusing to load: {', '.join(unexpected)}")
    return skops.io.load(path, trusted=list(TRUSTED_TYPES))
