"""The data the project learns from: read it, check it against schema.yaml, split it."""
