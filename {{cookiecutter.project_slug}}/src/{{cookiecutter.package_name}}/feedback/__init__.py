"""Production feedback: new labelled data in, a retraining pull request out."""
