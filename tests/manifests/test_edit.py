"""Editing manifests: only the edited values change, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_gitops.manifests import (
    Manifest,
    ManifestError,
    Pin,
    abort_canary,
    complete_canary,
    edit_manifest,
    edit_text,
    parse_manifest,
    set_model,
    start_canary,
)
from mlops_gitops.project import template_root
from mlops_gitops.roundtrip import parse_roundtrip

MD5_NEW = "e" * 32


def pin(version: str = "v9.9.9", md5: str = MD5_NEW, path: str = "models/new.onnx") -> Pin:
    return Pin.model_validate({"version": version, "artifact": {"path": path, "md5": md5}})


GOLDEN = """\
# header
models:
  alpha:
    version: v1.0.0
    artifact:
      path: models/a.onnx
      md5: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    rollout:
      strategy: direct   # c1

  gamma:
    version: v1.0.0   # keep
    artifact: {path: models/g.onnx, md5: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'}
# trailing comment

serving:
  replicas: 1
"""


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(old.splitlines(), new.splitlines(), strict=True) if a != b]


def test_a_promotion_changes_only_version_and_hash() -> None:
    new, _, after = edit_text(
        GOLDEN, lambda d: set_model(d, "gamma", pin(path="models/g.onnx")), origin="x"
    )
    assert changed_lines(GOLDEN, new) == [
        ("    version: v1.0.0   # keep", "    version: v9.9.9   # keep"),
        (
            "    artifact: {path: models/g.onnx, md5: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'}",
            f"    artifact: {{path: models/g.onnx, md5: '{MD5_NEW}'}}",
        ),
    ]
    assert after.models["gamma"].version == "v9.9.9"


def test_a_new_model_is_inserted_in_sorted_place_with_its_separator() -> None:
    new, _, _ = edit_text(GOLDEN, lambda d: set_model(d, "beta", pin()), origin="x")
    expected = GOLDEN.replace(
        "  gamma:",
        "  beta:\n    version: v9.9.9\n    artifact:\n      path: models/new.onnx\n"
        f"      md5: {MD5_NEW}\n    rollout:\n      strategy: direct\n\n  gamma:",
    )
    assert new == expected
    last, _, _ = edit_text(GOLDEN, lambda d: set_model(d, "zeta", pin()), origin="x")
    tail = "    rollout:\n      strategy: direct\n# trailing comment\n\nserving:\n  replicas: 1\n"
    assert last.endswith(f"      md5: {MD5_NEW}\n" + tail)
    assert "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'}\n\n  zeta:" in last


def test_the_first_model_of_an_empty_manifest() -> None:
    starter = (template_root() / "envs" / "prod.yaml").read_text()
    new, _, after = edit_text(starter, lambda d: set_model(d, "churn", pin()), origin="x")
    assert list(after.models) == ["churn"]
    diff = [
        line for line in difflib.ndiff(starter.splitlines(), new.splitlines()) if line[:1] in "+-"
    ]
    assert diff[0] == "- models: {}" and diff[1] == "+ models:"
    assert len(diff) == 9


def test_a_canary_started_then_aborted_restores_the_bytes() -> None:
    canary, _, after = edit_text(GOLDEN, lambda d: start_canary(d, "alpha", pin(), 10), origin="x")
    assert [(r.version, r.weight) for r in after.models["alpha"].routes()] == [
        ("v1.0.0", 90),
        ("v9.9.9", 10),
    ]
    assert "      strategy: canary   # c1\n      weight: 10\n      candidate:\n" in canary
    assert canary.endswith(
        f"          md5: {MD5_NEW}\n\n  gamma:\n" + GOLDEN.split("  gamma:\n")[1]
    )
    restored, _, _ = edit_text(canary, lambda d: abort_canary(d, "alpha"), origin="x")
    assert restored == GOLDEN
    again, _, _ = edit_text(
        canary, lambda d: start_canary(d, "alpha", pin(version="v9.9.8"), 30), origin="x"
    )
    assert changed_lines(canary, again) == [
        ("      weight: 10", "      weight: 30"),
        ("        version: v9.9.9", "        version: v9.9.8"),
    ]


def test_a_canary_completed_keeps_the_quoting() -> None:
    canary, _, _ = edit_text(
        GOLDEN, lambda d: start_canary(d, "alpha", pin(path="models/a.onnx"), 10), origin="x"
    )
    done, _, after = edit_text(canary, lambda d: complete_canary(d, "alpha"), origin="x")
    assert changed_lines(GOLDEN, done) == [
        ("    version: v1.0.0", "    version: v9.9.9"),
        ('      md5: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"', f'      md5: "{MD5_NEW}"'),
    ]
    assert after.models["alpha"].rollout.strategy == "direct"


def test_a_canary_on_a_model_without_rollout_adds_one() -> None:
    new, _, after = edit_text(GOLDEN, lambda d: start_canary(d, "gamma", pin(), 5), origin="x")
    assert after.models["gamma"].rollout.strategy == "canary"
    assert new.count("# trailing comment\n\nserving:") == 1


def test_a_numeric_looking_hash_is_written_quoted() -> None:
    digits = "1" * 32
    _, _, after = edit_text(GOLDEN, lambda d: set_model(d, "alpha", pin(md5=digits)), origin="x")
    assert after.models["alpha"].artifact.md5 == digits
    fresh, _, _ = edit_text(
        "models: {}\n", lambda d: set_model(d, "x", pin(md5=digits)), origin="x"
    )
    assert f"md5: '{digits}'" in fresh


def test_canary_edits_refuse_missing_models_and_canaries() -> None:
    with pytest.raises(
        ManifestError, match=r"^models\.nope: the model is not in this environment$"
    ):
        edit_text(GOLDEN, lambda d: start_canary(d, "nope", pin(), 5), origin="x")
    with pytest.raises(
        ManifestError, match=r"^models\.alpha\.rollout: no canary is running for 'alpha'$"
    ):
        edit_text(GOLDEN, lambda d: complete_canary(d, "alpha"), origin="x")


def test_edit_manifest_writes_only_a_valid_result(tmp_path: Path) -> None:
    path = tmp_path / "prod.yaml"
    path.write_text(GOLDEN)
    with pytest.raises(ManifestError, match=r"^envs/prod\.yaml:\d+ models\.alpha\.rollout\.weight"):
        edit_manifest(path, lambda d: start_canary(d, "alpha", pin(), 0), origin="envs/prod.yaml")
    assert path.read_text() == GOLDEN
    before, after = edit_manifest(path, lambda d: set_model(d, "alpha", pin()))
    assert (before.models["alpha"].version, after.models["alpha"].version) == ("v1.0.0", "v9.9.9")
    stamp = path.stat().st_mtime_ns
    edit_manifest(path, lambda d: set_model(d, "alpha", pin()))
    assert path.stat().st_mtime_ns == stamp


# --- property: over many manifest shapes, a promotion changes only the intended bytes ---

NAMES = ["alpha", "beta", "churn", "delta", "fraud", "zeta"]
HEX = "0123456789abcdef"


@st.composite
def blocks(draw: st.DrawFn, name: str) -> tuple[str, list[str]]:
    version = f"v{draw(st.integers(0, 3))}.{draw(st.integers(0, 9))}.{draw(st.integers(0, 9))}"
    md5 = draw(st.sampled_from("abcdef")) + draw(st.text(HEX, min_size=31, max_size=31))
    quote = draw(st.sampled_from(["", "'", '"']))
    comment = draw(st.sampled_from(["", "   # pinned", "  # why"]))
    lines = [f"  {name}:", f"    version: {version}{comment}"]
    if draw(st.booleans()):
        lines.append(f"    artifact: {{path: models/{name}.onnx, md5: {quote}{md5}{quote}}}")
    else:
        lines += [
            "    artifact:",
            f"      path: models/{name}.onnx",
            f"      md5: {quote}{md5}{quote}",
        ]
    rollout = draw(st.sampled_from(["absent", "direct", "canary", "ab"]))
    if rollout == "direct":
        lines += [
            "    rollout:",
            "      strategy: direct" + draw(st.sampled_from(["", "  # default"])),
        ]
    elif rollout == "canary":
        lines += [
            "    rollout:",
            "      strategy: canary",
            f"      weight: {draw(st.integers(1, 99))}",
            "      candidate:",
            "        version: v9.0.0",
            f"        artifact: {{path: models/{name}.onnx, md5: {'d' * 32}}}",
        ]
    elif rollout == "ab":
        lines += ["    rollout:", "      strategy: ab", "      variants:", "        - name: b"]
        lines += ["          version: v8.0.0", "          weight: 20"]
        lines += draw(
            st.sampled_from(
                [
                    [f"          artifact: {{path: b.onnx, md5: {'c' * 32}}}"],
                    [
                        "          artifact:",
                        "            path: b.onnx",
                        f"            md5: {'c' * 32}",
                    ],
                ]
            )
        )
    return rollout, lines


@st.composite
def manifests(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    if draw(st.booleans()):
        names.sort()
    separator = draw(st.sampled_from([[""], [], ["  # ----"], ["", "  # next"]]))
    text = draw(st.sampled_from(["", "# manifest of prod\n", "# a\n\n# b\n"]))
    rollouts: dict[str, str] = {}
    body: list[str] = []
    for index, name in enumerate(names):
        rollout, lines = draw(blocks(name))
        rollouts[name] = rollout
        body += lines + (separator if index < len(names) - 1 else [])
    text += ("models:\n" + "\n".join(body) + "\n") if names else "models: {}\n"
    text += draw(st.sampled_from(["", "\n", "# end of models\n", "\n# serving below\n"]))
    text += draw(
        st.sampled_from(
            ["", "serving:\n  replicas: 2  # two\n", "monitoring:\n  drift: {psi: 0.2}\n"]
        )
    )
    return text, rollouts


def span(text: str, model: str) -> tuple[int, int]:
    """Return the 0-based first line of ``model``'s block and the first line after it."""
    lines = text.splitlines()
    start = lines.index(f"  {model}:")
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines)
    )
    return start, end


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests(), st.sampled_from(NAMES), st.booleans())
def test_promotion_changes_only_the_intended_bytes(
    shape: tuple[str, dict[str, str]], model: str, same_path: bool
) -> None:
    text, rollouts = shape
    before = parse_manifest(text, "x")
    target = pin(path=f"models/{model}.onnx" if same_path else "models/other.onnx")

    new, _, after = edit_text(text, lambda d: set_model(d, model, target), origin="x")

    assert after.models[model].version == "v9.9.9"
    assert after.models[model].artifact == target.artifact
    assert after.models[model].rollout.strategy == "direct"
    others = {k: v for k, v in before.models.items() if k != model}
    assert {k: v for k, v in after.models.items() if k != model} == others
    assert (after.serving, after.monitoring) == (before.serving, before.monitoring)
    assert after == Manifest.model_validate(parse_roundtrip(new, "x"))  # the fast reader agrees
    old_lines, new_lines = text.splitlines(), new.splitlines()
    if model not in rollouts:  # an insertion: the old lines are all kept, in order
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        assert sum(block.size for block in matcher.get_matching_blocks()) >= len(old_lines) - 1
        return
    start, end = span(text, model)
    new_start, new_end = span(new, model)
    assert old_lines[:start] == new_lines[:new_start]
    assert old_lines[end:] == new_lines[new_end:]
    if rollouts[model] in (
        "absent",
        "direct",
    ):  # direct: exactly the version, path and md5 lines change
        changed = {i for i in range(start, end) if old_lines[i] != new_lines[i]}
        allowed = {
            i
            for i in range(start, end)
            if old_lines[i].lstrip().startswith(("version:", "artifact:", "path:", "md5:"))
        }
        assert changed <= allowed and end - start == new_end - new_start


def test_a_model_after_an_ab_split_keeps_the_split_intact() -> None:
    text = (
        "models:\n  alpha:\n    version: v1.0.0\n    artifact: {path: a, md5: " + "a" * 32 + "}\n"
        "    rollout:\n      strategy: ab\n      variants:\n"
        "        - name: b\n          version: v2.0.0\n"
        "          weight: 20\n          artifact: {path: a, md5: "
        + "b" * 32
        + "}\n\nserving: {}\n"
    )
    new, _, after = edit_text(text, lambda d: set_model(d, "beta", pin()), origin="x")
    assert new.startswith(text.split("\n\nserving", maxsplit=1)[0] + "\n\n  beta:\n")
    assert new.endswith("      strategy: direct\n\nserving: {}\n")
    assert [r.weight for r in after.models["alpha"].routes()] == [80, 20]


def test_a_canary_replaces_an_ab_split() -> None:
    text = (
        "models:\n  alpha:\n    version: v1.0.0\n    artifact: {path: a, md5: " + "a" * 32 + "}\n"
        "    rollout:\n      strategy: ab\n      variants:\n"
        "        - {name: b, version: v2.0.0, weight: 20, artifact: {path: a, md5: "
        + "b" * 32
        + "}}\n"
    )
    new, _, after = edit_text(text, lambda d: start_canary(d, "alpha", pin(), 15), origin="x")
    assert "variants" not in new
    assert [r.weight for r in after.models["alpha"].routes()] == [85, 15]
