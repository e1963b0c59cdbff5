"""The repository's own tooling (run from the repository root), not part of the package."""
