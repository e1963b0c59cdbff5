"""Edit environment manifests so that only the edited values change.

Each edit works on the ruamel round-trip document: comments, key order,
quoting and indentation of everything else stay byte for byte. Model blocks
are kept sorted by name and separated like their neighbours (a blank line in
the starter manifests), so two promotions of different models touch lines
at least one unchanged line apart and Git merges them without a conflict.
:func:`edit_manifest` validates before and after, then writes atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlops_gitops.manifests.load import ManifestError, parse_manifest
from mlops_gitops.manifests.schema import Manifest, Pin
from mlops_gitops.roundtrip import dump_roundtrip, parse_roundtrip, write_atomic

Document = Any  # a ruamel CommentedMap
_SEPARATOR = "\n"


def edit_manifest(
    path: str | os.PathLike[str], edit: Callable[[Document], object], *, origin: str | None = None
) -> tuple[Manifest, Manifest]:
    """Apply ``edit`` to the manifest at ``path``; return the manifests before and after.

    The file is validated before the edit and the result after it; a
    failure raises :class:`ManifestError` and leaves the file untouched.
    """
    target = Path(path)
    name = origin or str(path)
    text = target.read_text(encoding="utf-8")
    new_text, before, after = edit_text(text, edit, origin=name)
    if new_text != text:
        write_atomic(target, new_text)
    return before, after


def edit_text(
    text: str, edit: Callable[[Document], object], *, origin: str
) -> tuple[str, Manifest, Manifest]:
    """Apply ``edit`` to manifest text; return the new text and both validated manifests."""
    before = parse_manifest(text, origin)
    document = parse_roundtrip(text, origin, error=ManifestError)
    edit(document)
    new_text = dump_roundtrip(document)
    after = parse_manifest(new_text, origin)
    return new_text, before, after


def set_model(document: Document, model: str, pin: Pin) -> None:
    """Make ``pin`` the only version of ``model`` (a direct rollout); add the block if new."""
    block = _model_block(document, model)
    if block is None:
        _insert_model(document, model, _new_block(pin))
        return
    _set_pin(block, pin)
    _set_direct(block)


def start_canary(document: Document, model: str, candidate: Pin, weight: int) -> None:
    """Send ``weight`` percent of ``model``'s traffic to ``candidate``."""
    block = _require_block(document, model)
    rollout = block.get("rollout")
    if not isinstance(rollout, dict):
        rollout = _attach(block, "rollout", {"strategy": "direct"})
    with _trailing_kept(block):
        _set_scalar(rollout, "strategy", "canary")
        for key in [k for k in rollout if k not in ("strategy", "weight", "candidate")]:
            del rollout[key]
        _set_scalar(rollout, "weight", weight)
        if isinstance(rollout.get("candidate"), dict):
            _set_pin(rollout["candidate"], candidate)
        else:
            rollout["candidate"] = _pin_map(candidate)


def complete_canary(document: Document, model: str) -> Pin:
    """Make the canary candidate of ``model`` its only version; return the candidate."""
    block = _require_block(document, model)
    candidate = _candidate(block, model)
    _set_pin(block, candidate)
    _set_direct(block)
    return candidate


def abort_canary(document: Document, model: str) -> Pin:
    """Drop the canary candidate of ``model``; return it."""
    block = _require_block(document, model)
    candidate = _candidate(block, model)
    _set_direct(block)
    return candidate


def _candidate(block: Document, model: str) -> Pin:
    rollout = block.get("rollout")
    if not isinstance(rollout, dict) or rollout.get("strategy") != "canary":
        raise ManifestError(f"models.{model}.rollout: no canary is running for '{model}'")
    return Pin.model_validate(rollout["candidate"])


def _model_block(document: Document, model: str) -> Document | None:
    models = document.get("models")
    if isinstance(models, dict) and isinstance(models.get(model), dict):
        return models[model]
    return None


def _require_block(document: Document, model: str) -> Document:
    block = _model_block(document, model)
    if block is None:
        raise ManifestError(f"models.{model}: the model is not in this environment")
    return block


def _set_pin(block: Document, pin: Pin) -> None:
    _set_scalar(block, "version", pin.version)
    artifact = block["artifact"]  # a mapping: the manifest was validated before the edit
    _set_scalar(artifact, "path", pin.artifact.path)
    _set_scalar(artifact, "md5", pin.artifact.md5)


def _set_direct(block: Document) -> None:
    rollout = block.get("rollout")
    if not isinstance(rollout, dict):
        return  # absent: a direct rollout by default (the manifest was validated)
    if list(rollout) == ["strategy"] and rollout["strategy"] == "direct":
        return
    with _trailing_kept(block):
        for key in [k for k in rollout if k != "strategy"]:
            del rollout[key]
        _set_scalar(rollout, "strategy", "direct")


def _attach(block: Document, key: str, value: dict[str, Any]) -> Document:
    with _trailing_kept(block):
        block[key] = _map(value)
    return block[key]


def _set_scalar(mapping: Document, key: str, value: Any) -> None:
    old = mapping.get(key)
    if old == value and type(old) is not bool:
        return
    if isinstance(old, str) and isinstance(value, str) and type(old) is not str:
        value = type(old)(value)  # keep the quoting style of the old value
    mapping[key] = value


def _new_block(pin: Pin) -> Document:
    return _map(
        {
            "version": pin.version,
            "artifact": {"path": pin.artifact.path, "md5": pin.artifact.md5},
            "rollout": {"strategy": "direct"},
        }
    )


def _pin_map(pin: Pin) -> Document:
    return _map({"version": pin.version, "artifact": pin.artifact.model_dump()})


def _map(value: dict[str, Any]) -> Document:
    from ruamel.yaml.comments import CommentedMap

    result = CommentedMap()
    for key, item in value.items():
        result[key] = _map(item) if isinstance(item, dict) else item
    return result


def _insert_model(document: Document, model: str, block: Document) -> None:
    models = document.get("models")
    if not isinstance(models, dict) or not models:
        document["models"] = _map({model: {}})
        document["models"][model] = block
        return
    names = list(models)
    separator = _tail(models[names[0]]) if len(names) > 1 else _SEPARATOR
    index = next((i for i, name in enumerate(names) if name > model), len(names))
    if index == len(names):
        last = models[names[-1]]
        tail = _pop_tail(last)
        _push_tail(last, separator)
        _push_tail(block, tail)
    else:
        _push_tail(block, separator)
    document["models"].insert(index, model, block)


@contextmanager
def _trailing_kept(block: Document) -> Iterator[None]:
    """Keep the text after a block (blank lines, comments) after the block through an edit."""
    tail = _pop_tail(block)
    yield
    _push_tail(block, tail)


def _last_slot(node: Document) -> tuple[Document, Any]:
    while True:
        key = list(node)[-1]
        value = node[key]
        if _is_block_map(value):
            node = value
            continue
        if _is_block_seq(value) and _is_block_map(value[-1]):
            node = value[-1]
            continue
        return node, key


def _is_flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return bool(fa is not None and fa.flow_style())


def _is_block_map(node: Any) -> bool:
    return isinstance(node, dict) and bool(node) and not _is_flow(node)


def _is_block_seq(node: Any) -> bool:
    return isinstance(node, list) and bool(node) and not _is_flow(node)


def _tail(block: Document) -> str:
    """Return the text after a block: blank lines and comments up to the next key."""
    return _take_tail(block, remove=False)


def _pop_tail(block: Document) -> str:
    return _take_tail(block, remove=True)


def _take_tail(node: Document, *, remove: bool) -> str:
    # ruamel keeps what follows a block either on the comment slot of its last
    # scalar (after that line's own end) or at the end of a block sequence.
    key = list(node)[-1]
    value = node[key]
    if _is_block_map(value):
        return _take_tail(value, remove=remove)
    if _is_block_seq(value):
        inner = _take_tail(value[-1], remove=remove) if _is_block_map(value[-1]) else ""
        inner += "".join(_as_lines(token) for token in value.ca.end or [])
        if remove:
            value.ca.end = []
        return inner
    slot = node.ca.items.get(key)
    token = slot[2] if slot else None
    if token is None or "\n" not in token.value:
        return ""
    own, _, tail = token.value.partition("\n")
    if remove and tail:
        token.value = own + "\n"
        if not own:
            slot[2] = None
    return str(tail)


def _as_lines(token: Any) -> str:
    value = str(token.value)
    return " " * (token.column or 0) + value if value.startswith("#") else value


def _push_tail(block: Document, tail: str) -> None:
    if not tail:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    node, key = _last_slot(block)
    slot = node.ca.items.setdefault(key, [None, None, None, None])
    if slot[2] is None:
        slot[2] = CommentToken("\n" + tail, CommentMark(0), None)
    else:
        slot[2].value = slot[2].value + tail
