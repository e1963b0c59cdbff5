"""End-to-end tests (a package so their module names stay unique)."""
