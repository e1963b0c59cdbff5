"""Reading the registry back from Git: versions, status, history, ``--at``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlops_gitops.registry import (
    RegistryError,
    deployed,
    find_version,
    history,
    list_versions,
    load_state,
    promote,
    status,
)
from tests.helpers import git
from tests.helpers.model_repo import ModelRepo, land

DAY1 = "2026-02-01T10:00:00+00:00"
DAY2 = "2026-02-02T10:00:00+00:00"
DAY3 = "2026-02-03T12:00:00+00:00"


def test_list_versions_derives_the_lifecycle_state(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.0.0", "staging", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY2, canary=20)

    states = {
        v.version: (v.state, v.environments)
        for v in list_versions(registered.path, "credit-default")
    }

    assert states == {
        "v1.0.0": ("staging", ("dev", "staging")),
        "v1.1.0": ("dev", ("dev",)),
        "v2.0.0": ("registered", ()),
    }


def test_versions_are_sorted_by_semver(registered: ModelRepo) -> None:
    from mlops_gitops.registry import register

    register(registered.path, "credit-default", version="v1.10.0-rc.1", check_remote=False)
    register(
        registered.path,
        "credit-default",
        version="v1.10.0",
        rev=registered.revs[1],
        check_remote=False,
    )
    versions = [v.version for v in list_versions(registered.path, "credit-default")]
    assert versions == ["v1.0.0", "v1.1.0", "v1.10.0-rc.1", "v1.10.0", "v2.0.0"]


def test_unknown_model_or_version_names_the_closest(registered: ModelRepo) -> None:
    with pytest.raises(
        RegistryError, match=r"^unknown model 'chrun'; closest: churn; run 'mlops registry list'$"
    ):
        list_versions(registered.path, "chrun")
    with pytest.raises(
        RegistryError, match=r"^credit-default v2\.0\.1 is not registered; closest: v2\.0\.0"
    ):
        find_version(registered.path, "credit-default", "v2.0.1")


def test_status_says_since_when_and_by_whom(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    merge = deploy("churn", "v1.0.0", "dev", DAY2)

    rows = {r.model: r for r in status(registered.path, "dev")}

    churn = rows["churn"]
    assert (churn.version, churn.since, churn.landed, churn.author) == (
        "v1.0.0",
        DAY2,
        merge,
        "Ada Analyst",
    )
    assert git(registered.path, "log", "-1", "--format=%s", churn.commit).startswith(
        "Promote churn v1.0.0"
    )
    assert rows["credit-default"].since == DAY1
    assert [(s.version, s.weight) for s in churn.routes] == [("v1.0.0", 100)]


def test_status_at_a_past_date_or_revision(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    first = deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY3)

    assert [r.version for r in status(registered.path, "dev", at="2026-02-02")] == ["v1.0.0"]
    assert [r.version for r in status(registered.path, "dev", at=first)] == ["v1.0.0"]
    assert [r.version for r in status(registered.path, "dev")] == ["v1.1.0"]
    assert status(registered.path, "dev", at="2026-01-20") == []
    with pytest.raises(RegistryError, match=r"the repository has no commit at or before that date"):
        status(registered.path, at="2000-01-01")
    with pytest.raises(RegistryError, match=r"not a date .* nor a revision"):
        status(registered.path, at="no-such-rev")


def test_registry_at_a_date_leaves_out_later_registrations(
    registered: ModelRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_gitops.registry import register

    monkeypatch.setenv("GIT_COMMITTER_DATE", DAY3)
    register(registered.path, "churn", version="v3.0.0", check_remote=False)
    assert [v.version for v in list_versions(registered.path, "churn", at=DAY2)] == ["v1.0.0"]
    assert [v.version for v in list_versions(registered.path, "churn")] == ["v1.0.0", "v3.0.0"]


def test_unknown_environment_is_refused(registered: ModelRepo) -> None:
    with pytest.raises(RegistryError, match=r"^unknown environment 'qa'"):
        status(registered.path, "qa")
    with pytest.raises(RegistryError, match=r"^unknown environment 'qa'"):
        deployed(registered.path, "qa")


def test_deployed_gives_the_registration_metadata(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    deploy("credit-default", "v1.0.0", "dev", DAY1)
    running = deployed(registered.path, "dev")
    assert list(running) == ["credit-default"]
    assert running["credit-default"].metrics == {"metrics/train.json": {"auc": 0.81}}
    assert running["credit-default"].params["params.yaml"] == {"train": {"seed": 1}}


def test_history_follows_the_graph_not_the_clocks(registered: ModelRepo) -> None:
    late = promote(registered.path, "credit-default", "v1.0.0", to="dev")
    land(registered.path, late.branch, "2026-03-01T00:00:00+00:00")
    # a later promotion whose merge carries an older clock (a skewed machine)
    second = promote(registered.path, "credit-default", "v1.1.0", to="dev")
    land(registered.path, second.branch, "2026-01-20T00:00:00+00:00")

    events = history(registered.path, "credit-default", env="dev")

    assert [(e.kind, e.version) for e in events] == [("promote", "v1.0.0"), ("promote", "v1.1.0")]
    assert (events[1].previous, events[1].running) == ("v1.0.0", "v1.1.0")
    assert status(registered.path, "dev")[0].version == "v1.1.0"


def test_history_lists_every_kind_of_event(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    from mlops_gitops.registry import complete_canary, deprecate, rollback

    deploy("credit-default", "v1.0.0", "dev", DAY1)
    deploy("credit-default", "v1.1.0", "dev", DAY1, canary=10)
    land(
        registered.path, complete_canary(registered.path, "credit-default", env="dev").branch, DAY2
    )
    land(registered.path, rollback(registered.path, env="dev").branch, DAY3)
    deprecate(registered.path, "credit-default", "v1.1.0", reason="worse auc")

    kinds = [(e.kind, e.version) for e in history(registered.path, "credit-default")]

    assert kinds == [
        ("register", "v1.0.0"),
        ("register", "v1.1.0"),
        ("register", "v2.0.0"),
        ("promote", "v1.0.0"),
        ("canary", "v1.1.0"),
        ("canary-complete", "v1.1.0"),
        ("rollback", "v1.0.0"),
        ("deprecate", "v1.1.0"),
    ]


def test_hand_edits_and_reverts_are_read_from_the_manifests(
    registered: ModelRepo, deploy: Callable[..., str]
) -> None:
    merge = deploy("credit-default", "v1.0.0", "dev", DAY1)
    git(registered.path, "revert", "--no-edit", "-m", "1", merge)
    events = history(registered.path, "credit-default", env="dev")
    assert [(e.kind, e.running) for e in events] == [("promote", "v1.0.0"), ("remove", None)]
    git(registered.path, "revert", "--no-edit", "HEAD")
    assert history(registered.path, "credit-default", env="dev")[-1].kind == "edit"
    assert (
        status(registered.path, "dev")[0].commit
        == git(registered.path, "rev-parse", "HEAD").strip()
    )


def test_a_manifest_that_was_not_yaml_in_the_past_is_left_out(registered: ModelRepo) -> None:
    path = registered.path / "envs" / "dev.yaml"
    good = path.read_text()
    path.write_text("models: [\n")
    git(registered.path, "commit", "-q", "-am", "Break")
    path.write_text(good)
    git(registered.path, "commit", "-q", "-am", "Fix")
    assert history(registered.path, env="dev") == []


def test_a_registration_outside_the_main_line_is_placed_by_its_date(
    registered: ModelRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_gitops.registry import register

    monkeypatch.setenv("GIT_COMMITTER_DATE", DAY1)
    git(registered.path, "checkout", "-q", "-b", "side")
    git(registered.path, "commit", "-q", "--allow-empty", "-m", "side work")
    register(registered.path, "churn", version="v3.0.0", check_remote=False)
    git(registered.path, "checkout", "-q", "main")
    state = load_state(registered.path, with_history=True)
    assert state.events[-1].tag == "churn@v3.0.0"
    assert state.models() == ["churn", "credit-default"]


def test_a_registration_older_than_the_history_comes_first(
    registered: ModelRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_gitops.registry import register

    monkeypatch.setenv("GIT_COMMITTER_DATE", "2020-01-01T00:00:00+00:00")
    git(registered.path, "checkout", "-q", "--orphan", "old")
    git(registered.path, "commit", "-q", "-m", "old history")
    register(registered.path, "churn", version="v0.0.1", check_remote=False)
    git(registered.path, "checkout", "-q", "-f", "main")
    assert history(registered.path, "churn")[0].version == "v0.0.1"


def test_the_package_names_its_public_api() -> None:
    from mlops_gitops import registry

    assert callable(registry.promote) and callable(registry.register) and callable(registry.gc)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        registry.nope  # noqa: B018


def test_a_failing_streamed_git_read_raises_once_consumed(registered: ModelRepo) -> None:
    from mlops_gitops import scm
    from mlops_gitops.errors import ScmError

    with pytest.raises(ScmError, match=r"^git log failed in"):
        list(scm.git_records("log", "no-such-revision", cwd=registered.path))
    assert list(scm.git_records("tag", "--list", "churn@*", cwd=registered.path)) == [
        "churn@v1.0.0"
    ]
