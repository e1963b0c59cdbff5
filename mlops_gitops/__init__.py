"""mlops-gitops: an MLOps platform where Git is the system of record.

The package is the library behind the ``mlops`` command line. Importing it
is cheap: concept modules are imported on first use of their names.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
