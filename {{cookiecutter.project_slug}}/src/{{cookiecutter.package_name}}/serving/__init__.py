"""Serving: the HTTP API (`make serve`) and batch scoring (`make predict`) of a trained model.

Lower modules first: `loaded` (a model and what it was trained on), `checks` (requests against
schema.yaml), `protocol` (Open Inference Protocol v2), `router` (strategies), `metrics`,
`prediction_log`, then `app` (the FastAPI app), `server` and `batch` (the commands).
"""
