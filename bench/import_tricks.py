"""The package's speed tricks, each against its baseline measured in the same run.

Usage: python bench/import_tricks.py [--runs 7] [--reads 200]

Goal (issue 14, item 7): a trick stays only where it gains 1.5x or more; its
module docstring cites the ratio printed here.

- ``manifests/fastyaml.py``: reading a manifest with libyaml (YAML 1.2
  resolvers) against ruamel's round-trip parser (the authoritative one), with
  PyYAML's loaders as references; the first read in a fresh process (the
  parser's imports included) and repeated reads, and ``parse_manifest`` whole
  (parse and validate) with and without the fast reader.
- ``policies/engine.py:cel_module``: loading the CEL extension module alone
  against ``import cel`` (which imports the package's command line too).
- lazy exports (``mlops_gitops/_lazy.py``): ``import PACKAGE`` against the
  eager equivalent ``from PACKAGE import *``, for the four lazy packages and
  for what the server-side hooks import; the cost of reading the exports.
- ``registry/promote.py``: the manifest edits imported inside the writers
  against importing them with the registry.

"Fresh process" figures are timed inside a new interpreter (its start-up
left out), median of ``--runs``; "in process" ones are the median of
``--reads`` calls after a warm-up. Run it on a quiet machine: under load the
times grow several-fold, and the ratios move with them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = """models:
  churn:
    version: v1.4.0
    artifact: {path: models/churn.onnx, md5: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
    rollout:
      strategy: canary
      weight: 10
      candidate:
        version: v1.5.0
        artifact: {path: models/churn.onnx, md5: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}

  credit-default:
    version: v0.3.0
    artifact: {path: models/credit-default.onnx, md5: "cccccccccccccccccccccccccccccccc"}
"""
# A child prints the seconds of ``stmt`` after running ``setup`` untimed.
CHILD = "import time\n{setup}\nt = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)\n"


def manifest_text() -> str:
    """Return the reference project's prod manifest with two models in it (one a canary)."""
    text = (ROOT / "envs" / "prod.yaml").read_text(encoding="utf-8")
    return text.replace("models: {}\n", MODELS)


def fresh_seconds(stmt: str, runs: int, setup: str = "") -> float:
    """Return the median seconds of ``stmt`` in a new interpreter, ``setup`` not timed."""
    code = CHILD.format(setup=setup, stmt=stmt)
    cmd = [sys.executable, "-c", code]
    subprocess.run(cmd, capture_output=True, check=True)  # warm the disk cache
    times = []
    for _ in range(runs):
        out = subprocess.run(cmd, capture_output=True, check=True, text=True)
        times.append(float(out.stdout.split()[-1]))
    return statistics.median(times)


def call_seconds(call: Callable[[], object], reads: int) -> float:
    """Return the median seconds of one call of ``call``, after a warm-up call."""
    call()
    return statistics.median(timeit.repeat(call, number=1, repeat=reads))


def show(title: str, rows: dict[str, float], baseline: str) -> None:
    """Print ``rows`` in milliseconds with each one's ratio to ``baseline``."""
    print(f"\n{title}")
    print(f"  {'case':<52} {'ms':>9} {'x base':>7}")
    for name, seconds in rows.items():
        ratio = rows[baseline] / seconds
        print(f"  {name:<52} {seconds * 1000:9.3f} {ratio:7.1f}")


def bench_fastyaml(runs: int, reads: int) -> None:
    """Time the fast manifest reader against ruamel and PyYAML."""
    import yaml

    from mlops_gitops.documents import validate_yaml
    from mlops_gitops.documents.read import parse_yaml_roundtrip
    from mlops_gitops.manifests import Manifest, ManifestError, parse_manifest
    from mlops_gitops.manifests.fastyaml import load_fast

    text = manifest_text()
    assert load_fast(text) == parse_yaml_roundtrip(text, "prod.yaml")
    assert len(parse_manifest(text, "prod.yaml").models) == 2
    setup = f"import mlops_gitops.documents, mlops_gitops.manifests\ntext = {text!r}"
    first = {
        "ruamel round-trip (baseline)": "from mlops_gitops.documents.read import "
        "parse_yaml_roundtrip\nparse_yaml_roundtrip(text, 'prod.yaml')",
        "PyYAML SafeLoader (pure Python, YAML 1.1)": "import yaml\n"
        "yaml.load(text, Loader=yaml.SafeLoader)",
        "PyYAML CSafeLoader (libyaml, YAML 1.1)": "import yaml\n"
        "yaml.load(text, Loader=yaml.CSafeLoader)",
        "fastyaml.load_fast (libyaml, YAML 1.2)": "from mlops_gitops.manifests.fastyaml "
        "import load_fast\nload_fast(text)",
    }
    rows = {name: fresh_seconds(stmt, runs, setup) for name, stmt in first.items()}
    show("manifest, first read in a fresh process (imports included)", rows, first_key(rows))
    repeated = {
        "ruamel round-trip (baseline)": lambda: parse_yaml_roundtrip(text, "prod.yaml"),
        "PyYAML SafeLoader (pure Python, YAML 1.1)": lambda: yaml.load(text, yaml.SafeLoader),
        "PyYAML CSafeLoader (libyaml, YAML 1.1)": lambda: yaml.load(text, yaml.CSafeLoader),
        "fastyaml.load_fast (libyaml, YAML 1.2)": lambda: load_fast(text),
    }
    rows = {name: call_seconds(call, reads) for name, call in repeated.items()}
    show("manifest, repeated reads in process", rows, first_key(rows))
    whole = {
        "validate_yaml, round-trip only (baseline)": lambda: validate_yaml(
            Manifest, text, "prod.yaml", error=ManifestError
        ),
        "parse_manifest (fastyaml first)": lambda: parse_manifest(text, "prod.yaml"),
    }
    rows = {name: call_seconds(call, reads) for name, call in whole.items()}
    show("manifest, parse and validate, repeated in process", rows, first_key(rows))


def bench_cel(runs: int) -> None:
    """Time loading the CEL extension alone against ``import cel``."""
    setup = "import sys, mlops_gitops.policies.engine as engine\nassert 'cel' not in sys.modules"
    cases = {
        "import cel (baseline)": "import cel\ncel.compile",
        "engine.cel_module() (extension alone)": "engine.cel_module().compile",
    }
    rows = {name: fresh_seconds(stmt, runs, setup) for name, stmt in cases.items()}
    show("CEL, first use in a fresh process", rows, first_key(rows))


def bench_lazy(runs: int, reads: int) -> None:
    """Time each lazy package's import against importing all its names."""
    from mlops_gitops._lazy import read_exports

    consumers = {
        "mlops_gitops": "import mlops_gitops",
        "mlops_gitops.ci": "import mlops_gitops.ci",
        "mlops_gitops.ci (the hooks)": "import mlops_gitops.ci.hooks",
        "mlops_gitops.manifests": "import mlops_gitops.manifests",
        "mlops_gitops.registry": "import mlops_gitops.registry",
    }
    for name, stmt in consumers.items():
        package = name.split()[0]
        rows = {
            "eager: + from PACKAGE import * (baseline)": fresh_seconds(
                f"{stmt}\nfrom {package} import *", runs
            ),
            "lazy": fresh_seconds(stmt, runs),
        }
        show(f"{stmt}, fresh process", rows, first_key(rows))
    print("\nreading the exports (lazy_exports at import), in process")
    for package in (
        "mlops_gitops",
        "mlops_gitops.ci",
        "mlops_gitops.manifests",
        "mlops_gitops.registry",
    ):
        file = str(ROOT / package.replace(".", "/") / "__init__.py")
        seconds = call_seconds(lambda file=file: read_exports(file), reads)
        print(f"  {package:<52} {seconds * 1e6:9.0f} us")


def bench_promote(runs: int) -> None:
    """Time the registry's import with and without the manifest edits."""
    rows = {
        "+ import mlops_gitops.manifests.edit (baseline)": fresh_seconds(
            "import mlops_gitops.registry\nimport mlops_gitops.manifests.edit", runs
        ),
        "edits imported in the writers": fresh_seconds("import mlops_gitops.registry", runs),
    }
    show("import mlops_gitops.registry, fresh process", rows, first_key(rows))


def first_key(rows: dict[str, float]) -> str:
    """Return the first row's name: the baseline."""
    return next(iter(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    print(f"median of {args.runs} fresh processes / {args.reads} calls; x base = baseline / case")
    bench_fastyaml(args.runs, args.reads)
    bench_cel(args.runs)
    bench_lazy(args.runs, args.reads)
    bench_promote(args.runs)


if __name__ == "__main__":
    main()
