"""The tokens the tests' emulators accept, and whom each belongs to."""

from __future__ import annotations

from .state import Identity

TOKENS = {
    "ghp_ada": Identity("ada", 11),
    "ghp_bob": Identity("bob", 12),
    "ghp_carol": Identity("carol", 13),
    "ghp_alice": Identity("alice", 14),
    "ghs_actions": Identity("github-actions[bot]", 41898282, "installation"),
}
