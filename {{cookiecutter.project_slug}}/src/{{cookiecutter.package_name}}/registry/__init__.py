"""The model registry: versions and stages as GTO git tags, the promotion policy, deployment."""
