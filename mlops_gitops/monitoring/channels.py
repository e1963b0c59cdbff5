"""Alert channels: where a fired alert is delivered.

A channel implements :class:`AlertChannel` (``send(alert)``, raising
:class:`ChannelError` on failure). :data:`CHANNEL_TYPES` maps the ``type``
of a ``monitoring.channels`` entry to a factory; more types come from the
entry-point group ``mlops_gitops.alert_channels`` (a factory with the same
signature). Built in:

- ``webhook``: ``POST`` of the alert as JSON; with ``secret_env`` the body is
  signed, header ``X-Mlops-Signature: sha256=<hex HMAC-SHA256 of the body>``;
- ``slack``: a Slack-compatible incoming webhook, body ``{"text": ...}``;
- ``email``: a plain-text message over SMTP (optional STARTTLS and login);
- ``forge_issue``: an issue opened through an :class:`IssueTracker` (the
  forge backend), labelled with ``labels`` and the priority.

Secrets (HMAC key, SMTP password, webhook URLs) are read from environment
variables named in the manifest, never written in it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Protocol, runtime_checkable

from mlops_gitops.errors import MlopsError
from mlops_gitops.monitoring.config import ChannelConfig
from mlops_gitops.plugins import PluginPoint

ENTRY_POINT_GROUP = "mlops_gitops.alert_channels"
SIGNATURE_HEADER = "X-Mlops-Signature"


class ChannelError(MlopsError):
    """An alert could not be delivered through a channel."""


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A fired alert rule, as every channel sends it."""

    rule: str
    env: str
    model: str
    version: str
    priority: str
    indicator: str
    op: str
    threshold: float
    value: float
    window: str
    fired_at: str
    description: str = ""
    report: str = ""

    @property
    def title(self) -> str:
        """Return the one-line summary used as subject, issue title and chat text."""
        return (
            f"[{self.priority}] {self.env}/{self.model}: {self.rule} "
            f"({self.indicator}={self.value:.4g} {self.op} {self.threshold:g})"
        )

    def body(self) -> str:
        """Return a plain-text description of the alert."""
        lines = [
            self.title,
            "",
            self.description or f"Alert rule '{self.rule}' fired.",
            f"environment: {self.env}",
            f"model: {self.model} {self.version}",
            f"indicator: {self.indicator} = {self.value:.6g} ({self.op} {self.threshold:g})",
            f"window: {self.window}",
            f"fired at: {self.fired_at}",
        ]
        if self.report:
            lines.append(f"report: {self.report}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, object]:
        """Return the alert as the JSON object a webhook receives."""
        return {"type": "mlops.alert", **asdict(self), "title": self.title}


class AlertChannel(Protocol):
    """Something that delivers an alert or raises :class:`ChannelError`."""

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``."""


class IssueTracker(Protocol):
    """The part of a forge backend that opens issues (implemented by the forge concept)."""

    def open_issue(self, title: str, body: str, labels: Sequence[str]) -> str:
        """Open an issue and return its URL or identifier."""


@dataclass(frozen=True)
class ChannelContext:
    """What channels need from outside the manifest: environment variables, the forge."""

    environ: Mapping[str, str] = field(default_factory=dict)
    forge: IssueTracker | None = None


@runtime_checkable
class ChannelFactory(Protocol):
    """Makes the channel ``name`` of the manifest (a channel class is one)."""

    def __call__(
        self, name: str, config: ChannelConfig, context: ChannelContext, /
    ) -> AlertChannel:
        """Return the channel."""
        ...


def sign_body(secret: str, body: bytes) -> str:
    """Return the ``X-Mlops-Signature`` value of ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Return whether ``header`` is the signature of ``body`` under ``secret``."""
    return header is not None and hmac.compare_digest(sign_body(secret, body), header)


def _secret(name: str, variable: str | None, context: ChannelContext) -> str | None:
    if variable is None:
        return None
    value = context.environ.get(variable)
    if not value:
        raise ChannelError(f"channel {name!r}: environment variable {variable} is not set")
    return value


def _url(name: str, config: ChannelConfig, context: ChannelContext) -> str:
    url = config.url or _secret(name, config.url_env, context)
    if not url:
        raise ChannelError(f"channel {name!r}: no url")
    return url


def post_json(
    url: str, payload: Mapping[str, object], *, headers: Mapping[str, str], timeout: float
) -> None:
    """``POST`` a JSON body, raising :class:`ChannelError` unless the answer is 2xx."""
    body = json.dumps(payload, sort_keys=True).encode()
    _post(url, body, headers=headers, timeout=timeout)


def _post(url: str, body: bytes, *, headers: Mapping[str, str], timeout: float) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"{url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelError(f"cannot reach {url} ({reason})") from exc


@dataclass(frozen=True)
class WebhookChannel:
    """A generic webhook: the alert as JSON, signed with HMAC-SHA256 when a secret is set."""

    name: str
    config: ChannelConfig
    context: ChannelContext

    def send(self, alert: Alert) -> None:
        """Post the alert."""
        body = json.dumps(alert.to_json(), sort_keys=True).encode()
        secret = _secret(self.name, self.config.secret_env, self.context)
        headers = {SIGNATURE_HEADER: sign_body(secret, body)} if secret else {}
        _post(
            _url(self.name, self.config, self.context),
            body,
            headers=headers,
            timeout=self.config.timeout,
        )


@dataclass(frozen=True)
class SlackChannel:
    """A Slack-compatible incoming webhook (``{"text": ...}``)."""

    name: str
    config: ChannelConfig
    context: ChannelContext

    def send(self, alert: Alert) -> None:
        """Post the alert's text."""
        text = f"*{alert.title}*\n{alert.body()}"
        url = _url(self.name, self.config, self.context)
        post_json(url, {"text": text}, headers={}, timeout=self.config.timeout)


@dataclass(frozen=True)
class EmailChannel:
    """A plain-text e-mail over SMTP."""

    name: str
    config: ChannelConfig
    context: ChannelContext

    def send(self, alert: Alert) -> None:
        """Send the alert to every recipient."""
        message = EmailMessage()
        message["Subject"] = alert.title
        message["From"] = self.config.sender or ""
        message["To"] = ", ".join(self.config.to)
        message["X-Mlops-Priority"] = alert.priority
        message.set_content(alert.body())
        user = _secret(self.name, self.config.username_env, self.context)
        password = _secret(self.name, self.config.password_env, self.context)
        host = self.config.host or "localhost"
        try:
            with smtplib.SMTP(host, self.config.port, timeout=self.config.timeout) as smtp:
                if self.config.starttls:
                    smtp.starttls()
                if user and password:
                    smtp.login(user, password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"smtp {host}:{self.config.port}: {exc}") from exc


@dataclass(frozen=True)
class ForgeIssueChannel:
    """An issue on the forge, through the injected :class:`IssueTracker`."""

    name: str
    config: ChannelConfig
    context: ChannelContext

    def send(self, alert: Alert) -> None:
        """Open the issue."""
        if self.context.forge is None:
            raise ChannelError(f"channel {self.name!r}: no forge is configured to open issues on")
        labels = [*self.config.labels, alert.priority]
        try:
            self.context.forge.open_issue(alert.title, alert.body(), labels)
        except MlopsError as exc:
            message = f"channel {self.name!r}: the forge refused the issue ({exc})"
            raise ChannelError(message) from exc


CHANNEL_TYPES: dict[str, ChannelFactory] = {
    "webhook": WebhookChannel,
    "slack": SlackChannel,
    "email": EmailChannel,
    "forge_issue": ForgeIssueChannel,
}


CHANNELS: PluginPoint[ChannelFactory] = PluginPoint(
    group=ENTRY_POINT_GROUP,
    what="channel type",
    protocol=ChannelFactory,
    builtins=CHANNEL_TYPES,
    error=ChannelError,
)


def channel_types() -> dict[str, ChannelFactory]:
    """Return the built-in channel types plus those of installed plug-ins."""
    return {name: CHANNELS.load(name) for name in CHANNELS.names()}


def build_channel(name: str, config: ChannelConfig, context: ChannelContext) -> AlertChannel:
    """Return the channel ``name`` of the manifest.

    Raises:
        ChannelError: the channel's type is neither built in nor an installed plug-in,
            or its plug-in cannot be loaded.
    """
    factory = CHANNELS.load(config.type, where=f"monitoring.channels.{name}.type")
    return factory(name, config, context)
