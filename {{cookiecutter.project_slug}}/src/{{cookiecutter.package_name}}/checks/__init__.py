"""Checks on a trained model and its data: model tests, drift against the base, production monitoring."""
