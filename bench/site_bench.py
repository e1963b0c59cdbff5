"""Benchmark the documentation site: 20 models x 50 versions with their full history.

Builds (one ``git fast-import``, with the stream writer of
``registry_bench.py``) a project with MODELS models, each with VERSIONS
registered versions; every version has its training commit (metrics with
slices, two plot files, a validation report), a gate note and a promotion
to dev merged as a pull request; every 5th goes to staging and every 10th
to prod (with an approval tag), each model is rolled back once in prod,
old versions are deprecated, waivers change, and prod has a monitoring
history. Then times ``build_site`` (page generation + ``mkdocs build
--strict``) and counts the git processes of the generation.

Baseline, measured in the same run: ``mkdocs build --strict`` of a site
with the same theme, plugins and number of pages, each page one line (the
floor of mkdocs itself). Prints the figures and the ratios.

    python bench/site_bench.py [--models 20] [--versions 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from registry_bench import AUTHOR, Stream, data_block, md5_of, render_manifest

from mlops_gitops.project import render_template_file, template_root
from mlops_gitops.registry.versions import METADATA_SCHEMA, format_message

ENVS = (("dev", 1, "registry"), ("staging", 5, "dev"), ("prod", 10, "staging"))
WAIVER = (
    "  - id: W-{i}\n    rule: min-metrics\n    scope: {{model: {model}, environment: prod}}\n"
    "    reason: accepted while the features land\n    approver: alice\n    expires: 2026-0{m}-28\n"
)


class SiteStream(Stream):
    """The registry benchmark's stream, plus notes."""

    def note(self, ref: str, notes: list[tuple[int, str]]) -> None:
        """Write one notes commit holding a note per (commit mark, text)."""
        self.clock += 1
        head = f"commit {ref}\ncommitter {AUTHOR} {self.clock} +0000\n"
        self.parts.append(head.encode() + data_block("mlops: gate notes"))
        for mark, text in notes:
            self.parts.append(f"N inline :{mark}\n".encode() + data_block(text))
        self.parts.append(b"\n")


def _dvc_yaml(names: list[str]) -> str:
    stages = "".join(
        f"  train-{n}:\n    cmd: python train.py {n}\n    deps: [train.py, data/{n}.csv]\n"
        f"    outs: [models/{n}.onnx]\n    metrics:\n"
        f"      - metrics/{n}.json:\n          cache: false\n"
        f"    plots:\n      - plots/{n}/roc.json:\n          cache: false\n          x: fpr\n"
        f"          y: tpr\n      - plots/{n}/confusion.json:\n          cache: false\n"
        f"          template: confusion\n          x: actual\n          y: predicted\n"
        for n in names
    )
    artifacts = "".join(
        f"  {n}:\n    path: models/{n}.onnx\n    type: model\n    desc: Bench model {n}\n"
        for n in names
    )
    return f"stages:\n{stages}artifacts:\n{artifacts}"


def _initial_files(names: list[str]) -> dict[str, str]:
    root = template_root()
    files = {f"envs/{p.name}": p.read_text() for p in (root / "envs").glob("*.yaml")}
    files |= {f"policies/{p.name}": p.read_text() for p in (root / "policies").glob("*.yaml")}
    files |= {f"docs/{p.name}": p.read_text() for p in (root / "docs").glob("*.md")}
    files["mkdocs.yml"] = render_template_file("mkdocs.yml.j2", name="bench")[1].decode()
    files["dvc.yaml"] = _dvc_yaml(names)
    files["train.py"] = "print('train')\n"
    files[".gitignore"] = "/site/\n"
    doc = (root / "docs" / "models" / "credit-default.md").read_text()
    files |= {f"docs/models/{n}.md": doc.replace("credit-default", n) for n in names}
    return files


def _metrics(rng: random.Random, index: int) -> dict[str, object]:
    auc = round(0.75 + index / 500 + rng.random() / 50, 4)
    slices = {
        "sex": {g: {"rows": 500, "roc_auc": round(auc - rng.random() / 20, 4)} for g in "FM"},
        "age_band": {
            g: {"rows": 250, "roc_auc": round(auc - rng.random() / 20, 4)} for g in "ABCD"
        },
    }
    return {
        "roc_auc": auc,
        "accuracy": round(auc - 0.1, 4),
        "f1": round(auc - 0.15, 4),
        "rows": 1000,
        "slices": slices,
    }


def _train(stream: SiteStream, state: dict[str, object], name: str, index: int) -> int:
    rng: random.Random = state["rng"]  # type: ignore[assignment]
    metrics_now: dict[str, object] = state["metrics"]  # type: ignore[assignment]
    version, md5 = f"v1.{index}.0", md5_of(f"{name}{index}")
    metrics = _metrics(rng, index)
    metrics_now[f"metrics/{name}.json"] = metrics
    auc = float(metrics["roc_auc"])  # type: ignore[arg-type]
    roc = [{"fpr": x / 49, "tpr": round(min(1.0, (x / 49) ** (1.5 - auc)), 4)} for x in range(50)]
    confusion = [{"actual": rng.randint(0, 1), "predicted": rng.randint(0, 1)} for _ in range(40)]
    validation = {
        "version": 1,
        "dataset": f"data/{name}.csv",
        "passed": True,
        "rows": 10_000 + index,
        "columns": 12,
        "checks": [{"column": "income", "check": "min", "expected": ">= 0", "passed": True}],
        "failures": [],
        "reason": None,
    }
    files = {
        f"metrics/{name}.json": json.dumps(metrics),
        f"plots/{name}/roc.json": json.dumps(roc),
        f"plots/{name}/confusion.json": json.dumps(confusion),
        "reports/validation.json": json.dumps(validation),
    }
    commit = stream.commit("refs/heads/main", f"Train {name} {version}", files, parent=stream.head)
    stream.head = commit
    metadata = {
        "schema": METADATA_SCHEMA,
        "model": name,
        "version": version,
        "artifact": {
            "path": f"models/{name}.onnx",
            "md5": md5,
            "size": 4096,
            "stage": f"train-{name}",
        },
        "data": {f"data/{name}.csv": md5_of(f"data{name}{index}")},
        "code": {"train.py": md5_of("train")},
        "params": {"params.yaml": {"model": {"family": "sklearn", "seed": index}}},
        "metrics": dict(metrics_now),
    }
    stream.tag(f"{name}@{version}", commit, format_message(f"Register {name} {version}", metadata))
    return commit


def _promote(
    stream: SiteStream, state: dict[str, object], change: tuple[str, str, str, str]
) -> int:
    name, version, env, source = change
    running: dict[str, dict[str, tuple[str, str]]] = state["running"]  # type: ignore[assignment]
    starters: dict[str, str] = state["starters"]  # type: ignore[assignment]
    action = "rollback" if source == env else "promote"
    previous = running[env].get(name, (None, None))[0]
    md5 = md5_of(f"{name}{version.split('.')[1]}")
    running[env][name] = (version, md5)
    text = render_manifest(starters[env], running[env])
    trailers = [
        f"Mlops-Action: {action}",
        f"Mlops-Model: {name}",
        f"Mlops-Version: {version}",
        f"Mlops-From: {source}",
        f"Mlops-To: {env}",
        f"Mlops-Artifact-Md5: {md5}",
    ]
    if previous:
        trailers.append(f"Mlops-Previous: {previous}")
    branch_name = f"{action}/{env}/{name}-{version}"
    message = f"{action.title()} {name} {version} to {env}\n\n" + "\n".join(trailers) + "\n"
    branch = stream.commit(
        "refs/heads/bench-branch", message, {f"envs/{env}.yaml": text}, parent=stream.head
    )
    state["pr"] = int(state["pr"]) + 1  # type: ignore[call-overload]
    subject = f"Merge pull request #{state['pr']} from {branch_name}"
    stream.head = stream.commit("refs/heads/main", subject, {}, parent=stream.head, merge=branch)
    return branch


def build(repo: Path, n_models: int, n_versions: int) -> dict[str, int]:
    """Create the benchmark repository; return how many of each thing it holds."""
    names = [f"model-{i:02d}" for i in range(n_models)]
    stream = SiteStream()
    stream.head = stream.commit(
        "refs/heads/main", "Initial project", _initial_files(names), parent=None
    )
    starters = {env: (template_root() / "envs" / f"{env}.yaml").read_text() for env, _, _ in ENVS}
    state: dict[str, object] = {
        "rng": random.Random(7),
        "metrics": {},
        "pr": 0,
        "starters": starters,
        "running": {env: {} for env, _, _ in ENVS},
    }
    notes: list[tuple[int, str]] = []
    approvals = 0
    for index in range(n_versions):
        for name in names:
            commit = _train(stream, state, name, index)
            notes.append((commit, _gate_note("pass", None, name, f"v1.{index}.0")))
        for env, every, source in ENVS:
            if index % every != every - 1 and env != "dev":
                continue
            for name in names:
                head = _promote(stream, state, (name, f"v1.{index}.0", env, source))
                notes.append((head, _gate_note("pass", env, name, f"v1.{index}.0")))
                if env == "prod":
                    stream.tag(f"approve/prod/:{head}/alice", head, "approve for prod\n")
                    approvals += 1
        if index == n_versions * 7 // 10:
            for name in names:
                back = running_before(state, name)
                if back:
                    _promote(stream, state, (name, back, "prod", "prod"))
        if index % 15 == 14:
            _waivers(stream, names, index)
    stream.note("refs/notes/mlops-gate", notes)
    _deprecate(stream, names, n_versions)
    _monitoring(stream)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    data = _resolve_approvals(b"".join(stream.parts))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=data, check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)
    subprocess.run(["git", "update-ref", "-d", "refs/heads/bench-branch"], cwd=repo, check=True)
    return {
        "models": n_models,
        "versions": n_models * n_versions,
        "notes": len(notes),
        "approvals": approvals,
        "prs": int(state["pr"]),
    }  # type: ignore[call-overload]


def running_before(state: dict[str, object], name: str) -> str | None:
    """Return an older version of ``name`` to roll prod back to (the one two releases ago)."""
    running: dict[str, dict[str, tuple[str, str]]] = state["running"]  # type: ignore[assignment]
    current = running["prod"].get(name)
    if current is None:
        return None
    minor = int(current[0].split(".")[1])
    return f"v1.{minor - 10}.0" if minor >= 10 else None


def _gate_note(decision: str, env: str | None, model: str, version: str) -> str:
    data = {"verdict": decision, "environment": env, "model": model, "version": version}
    body = {
        "decision": decision,
        "state": "success",
        "summary": "all rules pass (6 pass)",
        "branch": "main",
        "details": "",
        "data": data,
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def _waivers(stream: SiteStream, names: list[str], index: int) -> None:
    body = "".join(WAIVER.format(i=f"{index}-{j}", model=names[j], m=1 + j % 8) for j in range(3))
    stream.head = stream.commit(
        "refs/heads/main",
        f"Waivers of round {index}",
        {"policies/waivers.yaml": f"waivers:\n{body}"},
        parent=stream.head,
    )


def _deprecate(stream: SiteStream, names: list[str], n_versions: int) -> None:
    for name in names:
        for index in range(min(5, n_versions // 10)):
            message = format_message(
                f"Deprecate {name} v1.{index}.0",
                {
                    "event": "deprecate",
                    "model": name,
                    "version": f"v1.{index}.0",
                    "reason": "superseded",
                },
            )
            stream.tag(f"{name}@v1.{index}.0!", stream.head, message)


def _monitoring(stream: SiteStream) -> None:
    lines = [
        json.dumps(
            {
                "timestamp": f"2026-02-{1 + i // 8:02d}T{(i % 8) * 3:02d}:00:00Z",
                "run": f"r{i}",
                "status": "ok",
                "score": round(0.9 - (i % 17) / 100, 3),
                "health": {"model-00": round(0.9 - (i % 13) / 100, 3)},
                "rows": {},
                "alerts": [],
                "failed": [],
            }
        )
        for i in range(200)
    ]
    stream.head = stream.commit(
        "refs/heads/main",
        "Monitoring history of prod",
        {"monitoring/prod/history.jsonl": "\n".join(lines) + "\n"},
        parent=stream.head,
    )


def _resolve_approvals(stream: bytes) -> bytes:
    """Approval tags name the commit sha, unknown until import: name them by mark, fix after."""
    return stream.replace(b"tag approve/prod/:", b"tag bench-approve/")


def _rename_approvals(repo: Path) -> None:
    fields = "--format=%(refname) %(objectname) %(*objectname)"
    out = subprocess.run(
        ["git", "for-each-ref", fields, "refs/tags/bench-approve/"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = []
    for line in out.splitlines():
        ref, obj, sha = line.split()
        lines.append(f"create refs/tags/approve/prod/{sha}/alice {obj}\ndelete {ref}\n")
    subprocess.run(
        ["git", "update-ref", "--stdin"], cwd=repo, input="".join(lines), text=True, check=True
    )


def _floor_site(dest: Path, pages: int) -> None:
    """A site with the same theme, plugins and number of pages, each one line."""
    (dest / "docs").mkdir(parents=True)
    config = render_template_file("mkdocs.yml.j2", name="floor")[1].decode()
    config = config[: config.index("markdown_extensions:")] + "nav:\n  - Home: index.md\n"
    (dest / "mkdocs.yml").write_text(config)
    (dest / "docs" / "index.md").write_text("# Home\n")
    for i in range(pages):
        (dest / "docs" / f"page-{i}.md").write_text(f"# Page {i}\n")


def _timed_mkdocs(folder: Path) -> float:
    start = time.perf_counter()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=folder, env=env, check=True
    )
    return time.perf_counter() - start


def _count_git(run):  # type: ignore[no-untyped-def]
    calls = []
    real = subprocess.run

    def counting(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        if args and args[0] == "git":
            calls.append(args[1])
        return real(args, *rest, **kwargs)

    subprocess.run = counting  # counts only; every call still runs
    try:
        result = run()
    finally:
        subprocess.run = real
    return result, len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--versions", type=int, default=50, help="versions per model")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    from mlops_gitops.cli import cli
    from mlops_gitops.site import build_site

    workdir = Path(tempfile.mkdtemp(prefix="site-bench-"))
    repo = args.keep or workdir / "repo"
    started = time.perf_counter()
    counts = build(repo, args.models, args.versions)
    _rename_approvals(repo)
    print(f"built {repo} in {time.perf_counter() - started:.1f}s: {counts}")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result, git_calls = _count_git(lambda: build_site(repo, now=now, commands=cli))
    generated = result.generated
    cpu1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(cpu0, cpu1, strict=True)
    )
    total = sum(result.seconds.values())
    floor = workdir / "floor"
    _floor_site(floor, result.generated.pages)
    floor_s = _timed_mkdocs(floor)
    print(
        f"generated {generated.pages} pages, {generated.versions} cards, "
        f"{generated.events} events; git processes (generation): {git_calls}"
    )
    print(f"{'step':<36}{'seconds':>9}")
    print(f"{'generate pages':<36}{result.seconds['generate']:>9.1f}")
    print(f"{'mkdocs build --strict':<36}{result.seconds['mkdocs']:>9.1f}")
    print(f"{'total (goal: < 60 s on 2 cores)':<36}{total:>9.1f}   cpu {cpu:.1f}s")
    print(f"{'baseline: mkdocs, one-line pages':<36}{floor_s:>9.1f}")
    print(
        f"ratio total / baseline: {total / floor_s:.1f}x; mkdocs / baseline: "
        f"{result.seconds['mkdocs'] / floor_s:.1f}x"
    )
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    figures = {
        **counts,
        "pages": generated.pages,
        "events": generated.events,
        "git_calls": git_calls,
        "seconds": result.seconds,
        "total_s": total,
        "cpu_s": cpu,
        "baseline_s": floor_s,
    }
    (out / "site_bench.json").write_text(json.dumps(figures, indent=2))
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
