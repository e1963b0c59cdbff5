"""``python -m mlops_gitops``."""

from __future__ import annotations

from mlops_gitops.cli import main

if __name__ == "__main__":
    main()
