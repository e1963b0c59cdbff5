"""``mlops serving serve|predict|explain|export-edge|render k8s|deploy``.

The earlier top-level forms (``mlops serve``, ``mlops predict``, ...) are
aliases of these (:data:`mlops_gitops.cli.ALIASES`); ``explain`` lives in
:mod:`mlops_gitops.cli.explain`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click

from mlops_gitops.cli.explain import explain
from mlops_gitops.cli.options import ENV_OPTION, JSON_OPTION, ROOT_OPTION
from mlops_gitops.cli.output import echo_json, echo_table


@click.command("serve")
@ENV_OPTION
@ROOT_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (uvicorn); SIGHUP then restarts them.",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="ONNX Runtime intra-op threads per model.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Secret file of 'predict:TOKEN' / 'admin:TOKEN' lines (or MLOPS_TOKEN_FILE).",
)
@click.option(
    "--max-body",
    default=1 << 20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest request body in bytes (413 above).",
)
@click.option(
    "--ssl-certfile", type=click.Path(dir_okay=False), default=None, help="TLS certificate."
)
@click.option(
    "--ssl-keyfile", type=click.Path(dir_okay=False), default=None, help="TLS private key."
)
@click.option(
    "--only",
    multiple=True,
    metavar="MODEL[=VERSION]",
    help="Serve only this model (or one pinned version of it); repeatable.",
)
@click.option("--no-access-log", is_flag=True, help="Do not write JSON access-log lines.")
@click.option(
    "--registry-check",
    type=click.Choice(["required", "skip"]),
    default="required",
    show_default=True,
    help="Compare each pin with its registration tag ('skip' is for the rendered image only, "
    "which has no Git history: its render compared them).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Fetch, verify and load every pinned model, then exit (the serving image's build step).",
)
def serve(
    *,
    env: str,
    root: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    token_file: str | None,
    max_body: int,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    only: tuple[str, ...],
    no_access_log: bool,
    registry_check: Literal["required", "skip"],
    check: bool,
) -> None:
    """Serve the models ENV's manifest pins over REST (Open Inference Protocol v2).

    Tokens: MLOPS_PREDICT_TOKENS / MLOPS_ADMIN_TOKENS (comma-separated) or a
    token file. Reload the models with SIGHUP, POST /admin/reload, or by
    editing the manifest.
    """
    if check:
        from mlops_gitops.serving.image import check_models

        checked = check_models(str(root), env, registry=registry_check)
        echo_table(["model", "version", "md5"], [(c.model, c.version, c.md5) for c in checked])
        return
    from mlops_gitops.serving import ServeOptions
    from mlops_gitops.serving import serve as run_server

    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        max_body=max_body,
        token_file=token_file,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        access_log=not no_access_log,
        only=only,
        registry_check=registry_check,
    )
    run_server(root, env, options)


@click.command("predict")
@ENV_OPTION
@click.option("--model", required=True, help="The model name in the manifest.")
@click.option("--input", "source", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "target", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", default=None, help="A pinned version (default: the stable one).")
@click.option("--chunk-rows", default=100_000, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=None, type=click.IntRange(min=1), help="Default: every core.")
@click.option(
    "--output-columns",
    type=click.Choice(["extra", "all"]),
    default="extra",
    show_default=True,
    help="Keep the non-feature input columns, or every column.",
)
@ROOT_OPTION
@JSON_OPTION
def predict(
    *,
    env: str,
    model: str,
    source: Path,
    target: Path,
    version: str | None,
    chunk_rows: int,
    threads: int | None,
    output_columns: str,
    root: Path,
    as_json: bool,
) -> None:
    """Score a CSV or Parquet file in chunks with a model ENV pins."""
    from mlops_gitops.serving.batch import BatchOptions, predict_file

    columns: Literal["extra", "all"] = "all" if output_columns == "all" else "extra"
    options = BatchOptions(
        version=version, chunk_rows=chunk_rows, threads=threads, output_columns=columns
    )
    with _Progress(as_json) as update:
        report = predict_file(
            root, env, model, (source, target), options=options, on_progress=update
        )
    if as_json:
        echo_json({**_fields(report), "rows_per_second": round(report.rows_per_second)})
        return
    click.echo(
        f"scored {report.rows:,} rows with {report.model}@{report.version} "
        f"in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s) -> {report.output}"
    )


def _fields(report: object) -> dict[str, object]:
    from mlops_gitops.cli.output import to_jsonable

    value = to_jsonable(report)
    return value if isinstance(value, dict) else {}


class _Progress:
    """A tqdm progress bar of scored rows on stderr (silent with --json)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def __enter__(self) -> Callable[[int, int | None], None]:
        return self.update

    def update(self, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if self.bar is None:
            import sys

            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="rows", unit_scale=True, file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


@click.command("export-edge")
@click.argument("model")
@click.argument("version")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Default: build/edge/MODEL-VERSION.",
)
@click.option(
    "--test-set",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: the version's registered test set.",
)
@click.option("--label", default=None, help="Default: the version's data.label parameter.")
@ROOT_OPTION
@JSON_OPTION
def export_edge(
    *,
    model: str,
    version: str,
    out_dir: Path | None,
    test_set: Path | None,
    label: str | None,
    root: Path,
    as_json: bool,
) -> None:
    """Write MODEL VERSION's ONNX file, an int8 quantized variant and an edge manifest."""
    from mlops_gitops.serving.edge import export_edge as run_export

    result = run_export(root, model, version, out_dir=out_dir, test_set=test_set, label=label)
    if as_json:
        echo_json({"folder": str(result.folder), "manifest": result.manifest})
        return
    rows = [(name, f["md5"], f["size"]) for name, f in result.manifest["files"].items()]
    echo_table(["file", "md5", "bytes"], rows)
    delta = result.manifest["metrics"].get("delta")
    click.echo(f"quantized metric delta: {delta if delta is not None else 'not measured'}")
    click.echo(f"written to {result.folder}")


@click.group("render")
def render() -> None:
    """Render deployment files from an environment manifest."""


@render.command("k8s")
@ENV_OPTION
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Default: deploy/ENV.",
)
@click.option(
    "--image", default=None, help="The serving image (default: mlops-serving-ENV:DIGEST)."
)
@click.option("--namespace", default=None)
@ROOT_OPTION
@JSON_OPTION
def render_k8s(
    *,
    env: str,
    out_dir: Path | None,
    image: str | None,
    namespace: str | None,
    root: Path,
    as_json: bool,
) -> None:
    """Write validated Kubernetes resources (and a KServe alternative) plus a Dockerfile."""
    from mlops_gitops.serving.kube import render_k8s as run_render

    result = run_render(root, env, out_dir=out_dir, image=image, namespace=namespace)
    if as_json:
        echo_json(result)
        return
    echo_table(["validated resource"], [(r,) for r in result.resources])
    click.echo(f"written to {result.folder}")


@click.command("deploy")
@ENV_OPTION
@click.option(
    "--start",
    type=click.Choice(["local", "none"]),
    default="local",
    show_default=True,
    help="Start or reload the local server, or only verify and render.",
)
@click.option(
    "--registry-check",
    type=click.Choice(["required", "skip"]),
    default="required",
    show_default=True,
    help="Run the registry's verify on the pinned versions.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@ROOT_OPTION
@JSON_OPTION
def deploy(
    *, env: str, start: str, registry_check: str, host: str, port: int, root: Path, as_json: bool
) -> None:
    """Verify ENV's artifacts, render its resources, and start or reload the local server."""
    from mlops_gitops.serving.deploy import deploy as run_deploy

    report = run_deploy(
        root,
        env,
        start="none" if start == "none" else "local",
        registry="skip" if registry_check == "skip" else "required",
        address=(host, port),
    )
    if as_json:
        echo_json(report)
        return
    echo_table(["model", "version", "md5"], [(a.model, a.version, a.md5) for a in report.artifacts])
    click.echo(f"rendered {len(report.rendered.resources)} resources into {report.rendered.folder}")
    if report.server is not None:
        click.echo(f"local server {report.action}: {report.server.url} (pid {report.server.pid})")


@click.group("serving")
def serving() -> None:
    """Serve, score, explain, export, render and deploy the models an environment pins."""


for _command in (serve, predict, explain, export_edge, render, deploy):
    serving.add_command(_command)
