"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): the PDF arrives as an attachment;
a failing server is retried, recorded and does not stop other reports."""
from __future__ import annotations

import email
import email.policy
import json
import socket
from dataclasses import replace

import pytest

from pipelines.core.errors import ConfigError
from pipelines.reports.delivery import (
    LOG_NAME,
    RetryPolicy,
    SmtpSettings,
    deliver,
    deliver_all,
    delivery_log,
    outbox_dir,
    redeliver_failed,
)
from pipelines.reports.model import Cooperative
from pipelines.reports.render import render_irrigation_bulletin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler that keeps messages, or answers 451 to the first `fail_first` DATA commands."""

    def __init__(self, fail_first: int = 0):
        self.messages, self.fail_first, self.refused = [], fail_first, 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.fail_first:
            self.refused += 1
            return "451 4.3.0 mailbox temporarily unavailable"
        self.messages.append((envelope.rcpt_tos,
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    started = []

    def start(handler):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        return SmtpSettings("127.0.0.1", controller.port, "none", "rapports@saqi.example", timeout_s=5)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="module")
def bulletin_pdf(bulletin, tmp_path_factory):
    return render_irrigation_bulletin(bulletin, "fr", tmp_path_factory.mktemp("rendered"))


def test_report_arrives_with_its_pdf_and_is_filed(smtp_server, bulletin_pdf, bulletin, tmp_path):
    inbox = Inbox()
    settings = smtp_server(inbox)
    record = deliver(bulletin_pdf, bulletin.cooperative, tmp_path, smtp=settings, sleep=lambda s: None)
    assert record.status == "sent" and record.attempts == 1
    [(recipients, message)] = inbox.messages
    assert recipients == ["bureau@alkhair.coop.example"]
    assert message["Subject"] == bulletin_pdf.subject == "Bulletin d'irrigation, semaine du 16 mars 2026"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == bulletin_pdf.pdf_path.read_bytes()
    assert "Veuillez trouver ci-joint" in message.get_body(("plain",)).get_content()
    outbox = outbox_dir(tmp_path, bulletin.cooperative.name)
    assert (outbox / bulletin_pdf.pdf_path.name).read_bytes() == bulletin_pdf.pdf_path.read_bytes()
    [logged] = [json.loads(line) for line in (outbox / LOG_NAME).read_text().splitlines()]
    assert logged["status"] == "sent" and logged["message_id"] == message["Message-ID"]


def test_failing_server_is_retried_recorded_and_blocks_nobody(smtp_server, bulletin_pdf, bulletin, tmp_path):
    good = smtp_server(Inbox())
    dead = SmtpSettings("127.0.0.1", free_port(), "none", "rapports@saqi.example", timeout_s=2)
    waits = []
    retry = RetryPolicy(attempts=3, first_delay_s=5, max_delay_s=8)
    down = deliver(bulletin_pdf, bulletin.cooperative, tmp_path, smtp=dead, retry=retry, sleep=waits.append)
    assert down.status == "failed" and down.attempts == 3 and len(down.errors) == 3
    assert waits == [5, 8], "bounded exponential backoff between rounds"
    assert (outbox_dir(tmp_path,
                       bulletin.cooperative.name) / bulletin_pdf.pdf_path.name).is_file(), "kept in the outbox"
    other = Cooperative("Coopérative Tifawin", "Souss-Massa", "Taroudant", "tifawin@coop.example")
    up = deliver(bulletin_pdf, other, tmp_path, smtp=good, retry=retry, sleep=waits.append)
    assert up.status == "sent"
    [resent] = redeliver_failed(tmp_path, smtp=good, retry=retry, sleep=waits.append)
    assert resent.status == "sent" and resent.cooperative == bulletin.cooperative.name
    statuses = [(r.cooperative, r.status) for r in delivery_log(tmp_path)]
    assert statuses.count((bulletin.cooperative.name, "failed")) == 1 and statuses.count((bulletin.cooperative.name,
                                                                                          "sent")) == 1
    assert redeliver_failed(tmp_path, smtp=good, sleep=waits.append) == [], "nothing left to resend"


def test_temporary_refusal_then_success_within_one_batch(smtp_server, bulletin_pdf, bulletin, tmp_path):
    inbox = Inbox(fail_first=1)
    settings = smtp_server(inbox)
    no_mail = Cooperative("Coopérative sans courriel", "Drâa-Tafilalet", "Zagora")
    records = deliver_all([(bulletin_pdf, bulletin.cooperative), (bulletin_pdf, no_mail)], tmp_path, smtp=settings,
                          sleep=lambda s: None)
    assert [(r.status, r.attempts) for r in records] == [("sent", 2), ("outbox", 0)]
    assert "451" in records[0].errors[0] and len(inbox.messages) == 1


def test_smtp_settings_come_from_the_environment_only():
    env = {"SAQI_SMTP_HOST": "smtp.example.ma", "SAQI_SMTP_TLS": "ssl", "SAQI_SMTP_USER": "u",
           "SAQI_SMTP_PASSWORD": "secret", "SAQI_SMTP_FROM": "rapports@coop.ma"}
    settings = SmtpSettings.from_env(env)
    assert (settings.host, settings.port, settings.tls, settings.user) == ("smtp.example.ma", 465, "ssl", "u")
    assert "secret" not in repr(settings)
    assert SmtpSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="SAQI_SMTP_TLS.*one of"):
        SmtpSettings.from_env({**env, "SAQI_SMTP_TLS": "tls1.0"})
    with pytest.raises(ConfigError, match="SAQI_SMTP_PASSWORD.*only one"):
        SmtpSettings.from_env({k: v for k, v in env.items() if k != "SAQI_SMTP_PASSWORD"})
    with pytest.raises(ConfigError, match="SAQI_SMTP_PORT"):
        SmtpSettings.from_env({**env, "SAQI_SMTP_PORT": "smtp"})


def test_starttls_and_login_against_a_local_server(bulletin_pdf, bulletin, tmp_path):
    """STARTTLS with a self-signed certificate for 127.0.0.1 (trusted through SAQI_SMTP_CAFILE) and AUTH LOGIN."""
    import shutil
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    if not shutil.which("openssl"):
        pytest.skip("openssl command not installed: needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"coop" and auth_data.password == b"s3cret")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator)
    controller.start()
    try:
        env = {"SAQI_SMTP_HOST": "127.0.0.1", "SAQI_SMTP_PORT": str(controller.port), "SAQI_SMTP_TLS": "starttls",
               "SAQI_SMTP_USER": "coop",
               "SAQI_SMTP_PASSWORD": "s3cret", "SAQI_SMTP_FROM": "rapports@saqi.example", "SAQI_SMTP_CAFILE": str(cert)}
        record = deliver(bulletin_pdf, bulletin.cooperative, tmp_path / "outbox",
                         smtp=replace(SmtpSettings.from_env(env), timeout_s=5), sleep=lambda s: None)
        assert record.status == "sent", record.errors
        assert logins == [(b"coop", b"s3cret")] and len(inbox.messages) == 1
    finally:
        controller.stop()


def test_only_temporary_failures_are_retried():
    import smtplib

    from pipelines.reports.delivery import _permanent

    assert _permanent(smtplib.SMTPAuthenticationError(535, b"bad credentials"))
    assert _permanent(smtplib.SMTPRecipientsRefused({"x@coop.example": (550, b"no such user")}))
    assert not _permanent(smtplib.SMTPDataError(451, b"try later"))
    assert not _permanent(ConnectionRefusedError(111, "refused"))
