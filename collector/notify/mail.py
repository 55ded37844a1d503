"""E-mail: a report file to its subscriber, over SMTP with STARTTLS, in French or English.

The password comes from ``mail.password_file`` (or a systemd credential); STARTTLS checks
the server's certificate against the system's authorities, or ``mail.ca_file``. Every SMTP
failure becomes a :class:`MailError` with the server's reply code, so the delivery log says
what the server said. A refused recipient (5xx) is final; anything else is retried.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from collector.settings import CollectorSettings, ConfigError, MailSettings

TITLES = {
    "fr": {
        "airtime": "Temps d'antenne",
        "activity": "Activité des stations",
        "playlist": "Relevé de diffusion",
    },
    "en": {"airtime": "Airtime", "activity": "Station activity", "playlist": "Playlist"},
}
MEDIA = {
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("application", "pdf"),
    "csv": ("text", "csv"),
}
_TEXT = {
    "fr": {
        "subject": "SODAV Monitor : {title}, {scope}, {period}",
        "all": "toutes les stations",
        "attached": "Le relevé « {title} » ({scope}, {period}) vient d'être produit. Il est joint à ce "
        "message : {file}, {size} Ko, {rows} lignes.",
        "too_big": "Le relevé « {title} » ({scope}, {period}) vient d'être produit ({size} Ko) : trop lourd "
        "pour un courriel, téléchargez-le sur {url}",
        "footer": "Vous recevez ce message parce que {email} est abonné à ce relevé (abonnement n° {sub}). "
        "Pour vous désabonner, demandez-le à l'administrateur du collecteur.",
        "hello": "Bonjour,",
        "test": "Message d'essai de SODAV Monitor : l'envoi de courriels du collecteur fonctionne.",
        "test_subject": "SODAV Monitor : message d'essai",
    },
    "en": {
        "subject": "SODAV Monitor: {title}, {scope}, {period}",
        "all": "all stations",
        "attached": 'The report "{title}" ({scope}, {period}) has just been generated. It is attached to '
        "this message: {file}, {size} KB, {rows} lines.",
        "too_big": 'The report "{title}" ({scope}, {period}) has just been generated ({size} KB): too '
        "large for e-mail, download it from {url}",
        "footer": "You receive this message because {email} subscribes to this report (subscription "
        "#{sub}). To unsubscribe, ask the collector's administrator.",
        "hello": "Hello,",
        "test": "Test message from SODAV Monitor: the collector's e-mail works.",
        "test_subject": "SODAV Monitor: test message",
    },
}


class MailError(Exception):
    def __init__(self, message: str, code: int | None = None, final: bool = False):
        super().__init__(message)
        self.code = code
        self.final = final


def _message(settings: CollectorSettings, to: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="sodav-monitor")
    msg.set_content(text)
    return msg


def report_message(
    settings: CollectorSettings,
    to: str,
    lang: str,
    subscription_id: int,
    report: dict[str, Any],
    data: bytes | None,
) -> EmailMessage:
    """The message for one generated file; ``data`` None: the file is too large, send a link."""
    t = _TEXT["en" if lang == "en" else "fr"]
    fields = {
        "title": TITLES["en" if lang == "en" else "fr"].get(report["report"], report["report"]),
        "scope": t["all"] if report["scope"] == "all" else report["scope"],
        "period": report["period"],
        "file": report["name"].rsplit("/", 1)[-1],
        "size": max(1, round(report["size"] / 1024)),
        "rows": report["rows"],
        "url": f"{settings.public_url or ''}/api/v1/reports/files/{report['id']}",
    }
    lines = [t["hello"], "", (t["attached"] if data is not None else t["too_big"]).format(**fields), ""]
    lines += [f"SHA-256: {report['sha256']}", "", "-- ", t["footer"].format(email=to, sub=subscription_id)]
    msg = _message(settings, to, t["subject"].format(**fields), "\n".join(lines) + "\n")
    if data is not None:
        maintype, subtype = MEDIA.get(report["format"], ("application", "octet-stream"))
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=fields["file"])
    return msg


def test_message(settings: CollectorSettings, to: str, lang: str) -> EmailMessage:
    t = _TEXT["en" if lang == "en" else "fr"]
    return _message(settings, to, t["test_subject"], t["test"] + "\n")


def send(mail: MailSettings, msg: EmailMessage, timeout: float) -> None:
    """Send ``msg`` through the configured server; raises :class:`MailError`."""
    if not mail.host:
        raise MailError("no SMTP server: set mail.host (and mail.username, mail.password_file)", final=False)
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if mail.starttls:
                context = ssl.create_default_context(cafile=str(mail.ca_file) if mail.ca_file else None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if mail.username:
                password = mail.password()
                smtp.login(mail.username, password.get_secret_value() if password else "")
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise MailError(
            f"recipient refused: {code} {reply.decode(errors='replace')}", code, code >= 500
        ) from exc
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise MailError(f"SMTP {exc.smtp_code}: {text}", exc.smtp_code) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(
            f"the server does not offer it: {exc} (set mail.starttls = false only for a local relay)"
        ) from exc
    except ssl.SSLError as exc:
        raise MailError(f"TLS failed: {exc} (a private authority? set mail.ca_file)") from exc
    except ConfigError as exc:
        raise MailError(str(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
