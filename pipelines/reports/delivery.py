"""Deliver rendered reports: copy them into the cooperative's outbox folder, then e-mail the PDF.

SMTP settings come from environment variables only (never from configuration files):
SAQI_SMTP_HOST, SAQI_SMTP_PORT (default 587 for starttls, 465 for ssl, 25 for none),
SAQI_SMTP_TLS = none | starttls | ssl (default starttls), SAQI_SMTP_USER and SAQI_SMTP_PASSWORD
(both or neither), SAQI_SMTP_FROM (sender address), optional SAQI_SMTP_CAFILE (a private CA).

A report is never lost: it is in the outbox before any e-mail is tried, and every outcome is
appended to `<outbox>/<cooperative>/deliveries.jsonl`. Temporary failures (connection refused,
timeouts, SMTP 4xx) are retried in rounds with bounded exponential backoff, so one unreachable
server delays nobody's first attempt; permanent ones (SMTP 5xx) are recorded at once.
`redeliver_failed` sends again whatever the log still marks as failed.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import smtplib
import ssl
import time
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Callable, Mapping

from pipelines.core.errors import ConfigError
from pipelines.reports.i18n import N_, Formatter
from pipelines.reports.model import Cooperative
from pipelines.reports.render import RenderedReport, file_stem

LOG_NAME = "deliveries.jsonl"
TLS_MODES = {"none": 25, "starttls": 587, "ssl": 465}
ENVIRONMENT = "environment variables"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send e-mail; build it with `from_env`."""

    host: str
    port: int
    tls: str
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    timeout_s: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "SmtpSettings | None":
        """Settings from SAQI_SMTP_* variables, or None when SAQI_SMTP_HOST is not set."""
        host = environ.get("SAQI_SMTP_HOST", "").strip()
        if not host:
            return None
        tls = environ.get("SAQI_SMTP_TLS", "starttls").strip().lower()
        if tls not in TLS_MODES:
            raise ConfigError(ENVIRONMENT, "SAQI_SMTP_TLS", f"'{tls}' is not a TLS mode",
                              f"set it to one of {sorted(TLS_MODES)}")
        port_text = environ.get("SAQI_SMTP_PORT", str(TLS_MODES[tls])).strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(ENVIRONMENT, "SAQI_SMTP_PORT", f"'{port_text}' is not a TCP port",
                              "set a number between 1 and 65535")
        user, password = environ.get("SAQI_SMTP_USER") or None, environ.get("SAQI_SMTP_PASSWORD") or None
        if (user is None) != (password is None):
            raise ConfigError(ENVIRONMENT, "SAQI_SMTP_USER/SAQI_SMTP_PASSWORD", "only one of the two is set",
                              "set both to log in, or neither")
        sender = environ.get("SAQI_SMTP_FROM", "").strip()
        if "@" not in sender:
            raise ConfigError(ENVIRONMENT, "SAQI_SMTP_FROM", f"'{sender}' is not a sender address",
                              "set it, e.g. SAQI_SMTP_FROM=reports@cooperative.ma")
        cafile = environ.get("SAQI_SMTP_CAFILE") or None
        if cafile and not Path(cafile).is_file():
            raise ConfigError(ENVIRONMENT, "SAQI_SMTP_CAFILE", f"{cafile} does not exist",
                              "point it at the CA certificate (PEM) or unset it")
        return cls(host, int(port_text), tls, sender, user, password, cafile)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; waits first_delay_s, 2×, 4×… capped at max_delay_s between rounds."""

    attempts: int = 4
    first_delay_s: float = 5.0
    max_delay_s: float = 120.0

    def delay_s(self, round_index: int) -> float:
        """Wait (s) after round `round_index` (0-based): first_delay_s · 2^round_index, at most max_delay_s."""
        return min(self.max_delay_s, self.first_delay_s * 2.0**round_index)


@dataclass
class DeliveryRecord:
    """The outcome of delivering one report: `sent`, `failed` (stays in the outbox) or `outbox`
    (no e-mail address or no SMTP settings: the report waits in the folder)."""

    report: str
    cooperative: str
    outbox_dir: str
    files: list[str]
    subject: str
    language: str
    recipient: str | None
    status: str = "outbox"
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    message_id: str | None = None
    recorded_at: str = ""


def outbox_dir(outbox_root: Path, cooperative_name: str) -> Path:
    """The cooperative's outbox folder under `outbox_root` (file-name-safe name)."""
    return Path(outbox_root) / file_stem(cooperative_name)


def _file_into(outbox: Path, source: Path) -> Path:
    """Copy a file into the outbox atomically (temporary name, then rename)."""
    target = outbox / source.name
    staging = outbox / f".{source.name}.partial"
    shutil.copyfile(source, staging)
    os.replace(staging, target)
    return target


def _message(record: DeliveryRecord, settings: SmtpSettings) -> EmailMessage:
    fmt = Formatter(record.language)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, record.recipient, record.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[1])
    body = (fmt.gettext(N_("Hello,\n\nPlease find attached: %(subject)s.\n\n"
                           "This report was prepared by Saqi from the latest drone flight."))
            % {"subject": record.subject})
    message.set_content(body)
    pdf = next(Path(path) for path in record.files if path.endswith(".pdf"))
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    return message


def _send(message: EmailMessage, settings: SmtpSettings) -> None:
    context = ssl.create_default_context(cafile=settings.cafile) if settings.tls != "none" else None
    if settings.tls == "ssl":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_s, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    with client:
        if settings.tls == "starttls":
            client.starttls(context=context)
        if settings.user:
            client.login(settings.user, settings.password)
        client.send_message(message)


def _permanent(exc: Exception) -> bool:
    """SMTP 5xx replies (bad address, rejected message) will not succeed on a retry."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min(reply[0] for reply in exc.recipients.values())
    return isinstance(code, int) and 500 <= code < 600


def _log(record: DeliveryRecord) -> None:
    record.recorded_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with (Path(record.outbox_dir) / LOG_NAME).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")


def _send_in_rounds(records: list[DeliveryRecord], settings: SmtpSettings | None, retry: RetryPolicy,
                    sleep: Callable[[float], None]) -> None:
    pending = [r for r in records if r.recipient and settings is not None]
    for round_index in range(retry.attempts):
        if not pending:
            return
        if round_index:
            sleep(retry.delay_s(round_index - 1))
        still = []
        for record in pending:
            record.attempts += 1
            try:
                message = _message(record, settings)
                _send(message, settings)
            except (smtplib.SMTPException, OSError) as exc:
                record.status = "failed"
                record.errors.append(f"attempt {record.attempts}: {type(exc).__name__}: {exc}")
                if not _permanent(exc):
                    still.append(record)
            else:
                record.status, record.message_id = "sent", message["Message-ID"]
        pending = still


def deliver_all(items: list[tuple[RenderedReport, Cooperative]], outbox_root: Path, smtp_from_env: bool = True, *,
                smtp: SmtpSettings | None = None, retry: RetryPolicy = RetryPolicy(),
                sleep: Callable[[float], None] = time.sleep) -> list[DeliveryRecord]:
    """File every report into its cooperative's outbox, e-mail them round by round, log each outcome."""
    settings = smtp if smtp is not None else (SmtpSettings.from_env() if smtp_from_env else None)
    records = []
    for rendered, cooperative in items:
        outbox = outbox_dir(outbox_root, cooperative.name)
        outbox.mkdir(parents=True, exist_ok=True)
        files = [str(_file_into(outbox, Path(p))) for p in (rendered.pdf_path, rendered.html_path)]
        records.append(DeliveryRecord(Path(rendered.pdf_path).name, cooperative.name, str(outbox), files,
                                      rendered.subject, rendered.language, cooperative.email))
    _send_in_rounds(records, settings, retry, sleep)
    for record in records:
        _log(record)
    return records


def deliver(rendered: RenderedReport, cooperative: Cooperative, outbox_root: Path, smtp_from_env: bool = True, *,
            smtp: SmtpSettings | None = None, retry: RetryPolicy = RetryPolicy(),
            sleep: Callable[[float], None] = time.sleep) -> DeliveryRecord:
    """Deliver one report (see `deliver_all`); never raises for an SMTP failure, it records it."""
    return deliver_all([(rendered, cooperative)], outbox_root, smtp_from_env, smtp=smtp, retry=retry, sleep=sleep)[0]


def delivery_log(outbox_root: Path) -> list[DeliveryRecord]:
    """Every logged delivery of every cooperative under `outbox_root`, oldest first per cooperative."""
    records = []
    for log in sorted(Path(outbox_root).glob(f"*/{LOG_NAME}")):
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(DeliveryRecord(**json.loads(line)))
    return records


def redeliver_failed(outbox_root: Path, smtp_from_env: bool = True, *, smtp: SmtpSettings | None = None,
                     retry: RetryPolicy = RetryPolicy(),
                     sleep: Callable[[float], None] = time.sleep) -> list[DeliveryRecord]:
    """Send again every report whose latest logged outcome is `failed`; returns the new records."""
    latest = {}
    for record in delivery_log(outbox_root):
        latest[(record.outbox_dir, record.report)] = record
    failed = [r for r in latest.values() if r.status == "failed"]
    settings = smtp if smtp is not None else (SmtpSettings.from_env() if smtp_from_env else None)
    retried = [DeliveryRecord(r.report, r.cooperative, r.outbox_dir, r.files, r.subject, r.language,
                              r.recipient) for r in failed]
    _send_in_rounds(retried, settings, retry, sleep)
    for record in retried:
        _log(record)
    return retried
