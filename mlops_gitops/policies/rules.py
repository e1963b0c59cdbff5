"""Policy rules: the schema of ``policies/*.yaml``, rule kinds, loading and compiling.

A rule says where it applies, what it requires of the bundle, a condition
that is true when the change complies, a severity (per environment if
needed) and a message template that shows the compared values; it carries
its own test cases. Every rule compiles when its file is loaded: a syntax
or type error names ``file:line`` and the rule id. Rule kinds are a
plug-in point (:class:`RuleKind`, entry-point group ``mlops_gitops.rules``);
CEL is the built-in kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from mlops_gitops.plugins import PluginPoint, instance
from mlops_gitops.policies.engine import (
    Activation,
    Expression,
    FieldPath,
    Spot,
    Template,
    format_path,
    format_value,
    read_paths,
)
from mlops_gitops.policies.fields import probe_activation, top_level_fields
from mlops_gitops.policies.source import Document, PolicyError, read_document, validate

Severity = Literal["block", "warn"]
Outcome = Literal["pass", "warn", "block", "skip", "waived", "error"]
Kind = Literal["training", "promotion"]
RULE_ID = r"^[a-z0-9][a-z0-9._-]*$"
ROLES_FILE = "roles.yaml"
WAIVERS_FILE = "waivers.yaml"
SCAN_FILE = "scan.yaml"  # what the scans cover (mlops_gitops.supply.scanfile), not rules
ENTRY_POINT_GROUP = "mlops_gitops.rules"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_File):
    """Where a rule applies; an empty list matches anything."""

    environments: list[str] = Field(default_factory=list, description="target environments")
    branches: list[str] = Field(default_factory=list, description="branch globs, e.g. 'train/*'")
    paths: list[str] = Field(default_factory=list, description="globs; any changed file matches")
    models: list[str] = Field(default_factory=list)
    kinds: list[Kind] = Field(default_factory=list, description="'training' or 'promotion'")


class RuleCase(_File):
    """A test case: a bundle fragment and the outcome the rule must give on it."""

    name: str = Field(min_length=1)
    bundle: dict[str, JsonValue] = Field(default_factory=dict)
    expect: Outcome
    message: str | None = Field(default=None, description="text the rendered message must contain")


class Rule(_File):
    """One rule of a policy file."""

    id: str = Field(pattern=RULE_ID)
    description: str = Field(min_length=1)
    kind: str = "cel"
    where: Scope = Field(default_factory=Scope)
    requires: list[str] = Field(
        default_factory=list, description="bundle fields that must be present to evaluate"
    )
    when_absent: Literal["skip", "warn", "block"] = "skip"
    vars: dict[str, JsonValue] = Field(
        default_factory=dict, description="constants, as 'vars.NAME'"
    )
    condition: str = Field(min_length=1, description="true when the change complies")
    severity: Severity | dict[str, Severity] = Field(
        description="'block', 'warn', or per environment with an optional 'default'"
    )
    message: str = Field(min_length=1, description="{{ CEL }} holes show the compared values")
    waivable: bool = True
    tests: list[RuleCase] = Field(default_factory=list)

    @field_validator("condition", mode="before")
    @classmethod
    def _constant_as_text(cls, value: object) -> object:
        # YAML reads 'condition: true' as a bool; the CEL constant is meant
        return str(value).lower() if isinstance(value, bool) else value

    def severity_for(self, environment: str | None) -> Severity | None:
        """Return the severity in ``environment``; None when the rule sets none there."""
        if isinstance(self.severity, str):
            return self.severity
        return self.severity.get(environment or "", self.severity.get("default"))


class PolicyFile(_File):
    """A policy file: a list of rules."""

    rules: list[Rule] = Field(default_factory=list)


class Check(Protocol):
    """A compiled condition: the fields it reads and its verdict on a bundle."""

    reads: tuple[FieldPath, ...]

    def evaluate(self, activation: Activation) -> bool:
        """Return True when the bundle complies."""
        ...


@runtime_checkable
class RuleKind(Protocol):
    """Compiles the condition of one kind of rule."""

    def compile(self, rule: Rule, spot: Spot) -> Check:
        """Return the check of ``rule``; raise PolicyError naming ``spot`` when it is invalid."""
        ...


class CelCheck:
    """A CEL condition that must evaluate to a bool."""

    def __init__(self, expression: Expression) -> None:
        self.expression = expression
        self.reads = expression.reads

    def evaluate(self, activation: Activation) -> bool:
        """Return the condition's value; a non-bool result is an error."""
        value = self.expression.evaluate(activation)
        if not isinstance(value, bool):
            raise PolicyError(
                f"{self.expression.spot.describe()}: returned {format_value(value)} "
                f"({type(value).__name__}); a condition must return a bool"
            )
        return value


class CelKind:
    """The built-in rule kind: conditions in CEL, type-checked on example values."""

    def compile(self, rule: Rule, spot: Spot) -> Check:
        """Compile ``rule.condition`` and probe it with example values of the schema."""
        check = CelCheck(Expression(rule.condition, spot))
        check_variables(check.reads, rule, spot)
        probe(check.reads, rule, check.evaluate)
        return check


def probe(reads: tuple[FieldPath, ...], rule: Rule, run: Callable[[Activation], object]) -> None:
    """Run ``run`` on example values of the fields read; raise on a type error.

    An absent key or index on the examples is not an error: only the types are probed.
    """
    data = probe_activation(reads, rule.vars)
    if data is None:
        return
    try:
        run(Activation(data))
    except PolicyError as exc:
        if not isinstance(exc.__cause__, (KeyError, IndexError, ArithmeticError)):
            raise


RULE_KINDS: dict[str, RuleKind] = {"cel": CelKind()}
"""The rule kinds by name: the built-ins, then each plug-in kind once it has been loaded."""
KINDS: PluginPoint[RuleKind] = PluginPoint(
    group=ENTRY_POINT_GROUP,
    what="rule kind",
    protocol=RuleKind,
    builtins=dict(RULE_KINDS),
    error=PolicyError,
    make=instance,
)


def find_rule_kind(name: str) -> RuleKind:
    """Return the rule kind ``name``: built in, or from the ``mlops_gitops.rules`` entry points.

    Raises:
        PolicyError: no kind has that name, or its plug-in cannot be loaded.
    """
    kind = RULE_KINDS.get(name)
    if kind is None:
        kind = RULE_KINDS[name] = KINDS.load(name)
    return kind


def check_variables(reads: tuple[FieldPath, ...], rule: Rule, spot: Spot) -> None:
    """Raise when an expression reads a variable the bundle lacks, or an unset ``vars`` key."""
    known = top_level_fields()
    for path in reads:
        name = path[0]
        if name == "vars":
            if len(path) > 1 and path[1] not in rule.vars:
                raise PolicyError(
                    f"{spot.describe()}: reads {format_path(path)} but 'vars' has no '{path[1]}'"
                )
        elif name not in known:
            raise PolicyError(
                f"{spot.describe()}: unknown variable '{name}'; the bundle has: {', '.join(known)}"
            )


@dataclass(frozen=True, kw_only=True)
class LoadedRule:
    """A validated, compiled rule and where it is written."""

    rule: Rule
    origin: str
    line: int
    check: Check
    template: Template
    requires: tuple[FieldPath, ...]
    test_lines: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        """The rule id."""
        return self.rule.id

    @property
    def source(self) -> str:
        """``file:line`` of the rule."""
        return f"{self.origin}:{self.line}"

    @property
    def reads(self) -> tuple[FieldPath, ...]:
        """Every field path the condition and the message read, in order, once."""
        return tuple(dict.fromkeys((*self.check.reads, *self.template.reads)))


@dataclass(frozen=True)
class PolicySet:
    """The rules of a policies folder, in file and then document order."""

    rules: tuple[LoadedRule, ...]
    files: tuple[str, ...]
    digest: str

    def find(self, rule_id: str) -> LoadedRule | None:
        """Return the rule with ``rule_id``, or None."""
        return next((r for r in self.rules if r.id == rule_id), None)


def list_rule_files(folder: Path) -> list[Path]:
    """Return the rule files of a policies folder (every YAML file but roles, waivers, scan)."""
    skip = {ROLES_FILE, WAIVERS_FILE, SCAN_FILE}
    files = [*folder.glob("*.yaml"), *folder.glob("*.yml")]
    return sorted(p for p in files if p.name not in skip)


def load_rule_file(path: Path, origin: str) -> list[LoadedRule]:
    """Load, validate and compile the rules of one file."""
    doc = read_document(path, origin)
    policy = validate(PolicyFile, doc, data={} if doc.data is None else doc.data)
    return [compile_rule(rule, doc, index) for index, rule in enumerate(policy.rules)]


def compile_rule(rule: Rule, doc: Document, index: int) -> LoadedRule:
    """Compile one validated rule of ``doc``."""
    loc: list[str | int] = ["rules", index]
    condition = Spot(
        origin=doc.origin,
        line=doc.line_of([*loc, "condition"]),
        rule=rule.id,
        field="condition",
        block=doc.is_block([*loc, "condition"]),
    )
    message = Spot(
        origin=doc.origin, line=doc.line_of([*loc, "message"]), rule=rule.id, field="message"
    )
    check = find_rule_kind(rule.kind).compile(rule, condition)
    template = Template(rule.message, message)
    check_variables(template.reads, rule, message)
    probe(template.reads, rule, template.render)
    requires = _parse_requires(
        rule,
        Spot(
            origin=doc.origin, line=doc.line_of([*loc, "requires"]), rule=rule.id, field="requires"
        ),
    )
    test_lines = tuple(doc.line_of([*loc, "tests", i]) for i in range(len(rule.tests)))
    return LoadedRule(
        rule=rule,
        origin=doc.origin,
        line=doc.line_of(loc),
        check=check,
        template=template,
        requires=requires,
        test_lines=test_lines,
    )


def _parse_requires(rule: Rule, spot: Spot) -> tuple[FieldPath, ...]:
    paths: list[FieldPath] = []
    for text in rule.requires:
        found = read_paths(text)
        if len(found) != 1 or format_path(found[0]) != text.strip():
            raise PolicyError(
                f"{spot.describe()}: '{text}' is not a field path such as candidate.metrics.f1"
            )
        paths.append(found[0])
    check_variables(tuple(paths), rule, spot)
    return tuple(paths)


def load_policy_set(folder: Path, *, origin: str = "policies") -> PolicySet:
    """Load every rule file of ``folder``; ``origin`` prefixes file names in messages.

    Raises:
        PolicyError: a file is not valid, a rule does not compile, or two rules share an id.
    """
    rules: list[LoadedRule] = []
    digest = hashlib.sha256()
    seen: dict[str, LoadedRule] = {}
    files = list_rule_files(folder)
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        for loaded in load_rule_file(path, f"{origin}/{path.name}"):
            if loaded.id in seen:
                raise PolicyError(
                    f"{loaded.source} rule '{loaded.id}': duplicate id; "
                    f"first defined at {seen[loaded.id].source}; rule ids must be unique"
                )
            seen[loaded.id] = loaded
            rules.append(loaded)
    names = tuple(f"{origin}/{p.name}" for p in files)
    return PolicySet(rules=tuple(rules), files=names, digest=digest.hexdigest())


def rule_fields() -> dict[str, Any]:
    """Return the JSON schema of a policy file (for the docs reference page)."""
    return PolicyFile.model_json_schema()
