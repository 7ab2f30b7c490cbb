"""``zhixing pki``: the seal PKI's root CA, certificates, revocations and CRL."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.courts.models import Court, User
from zhixing.esign import services, tokens
from zhixing.esign.models import Certificate

PKCS12_PASSWORD_ENV = "ZHIXING_PKCS12_PASSWORD"  # noqa: S105 - a variable name, no secret


def _court(code: str) -> Court:
    court = Court.objects.filter(code=code).first()
    if court is None:
        raise CommandError(f"Court {code!r} not found; `zhixing courts` lists the court codes.")
    return court


def _user(username: str) -> User:
    user = User.objects.filter(username=username).select_related("court").first()
    if user is None:
        raise CommandError(f"User {username!r} not found.")
    return user


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Manage the certificates of electronic seals (root CA, seals, officers, CRL)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        init = commands.add_parser(
            "init",
            help="Create the root CA and every missing seal and bureau-head certificate; "
            "running it again issues none.",
        )
        init.add_argument("--root-only", action="store_true", help="Create only the root CA.")

        issue = commands.add_parser(
            "issue", help="Issue a court's seal certificate or a bureau head's certificate."
        )
        owner = issue.add_mutually_exclusive_group(required=True)
        owner.add_argument("--court", metavar="CODE", help="Court code, e.g. 粤0104.")
        owner.add_argument("--user", metavar="NAME", help="User name of a bureau head.")
        issue.add_argument(
            "--replace",
            action="store_true",
            help="Replace a current certificate, revoking it as superseded.",
        )

        revoke = commands.add_parser("revoke", help="Revoke a certificate.")
        revoke.add_argument("fingerprint", help="SHA-256 fingerprint (hex), as `pki list` shows.")
        revoke.add_argument(
            "--reason",
            default=Certificate.RevocationReason.UNSPECIFIED,
            choices=Certificate.RevocationReason.values,
        )

        imported = commands.add_parser(
            "import",
            help="Import a certificate and key from an external CA (PKCS#12) in place of the "
            f"built-in one. The password is read from {PKCS12_PASSWORD_ENV} or asked for.",
        )
        imported.add_argument("file", type=Path, metavar="FILE", help=".p12 or .pfx file.")
        imported.add_argument("--court", metavar="CODE", required=True)
        imported.add_argument("--user", metavar="NAME", help="For a bureau head's certificate.")

        trust = commands.add_parser(
            "trust", help="Store an external CA certificate (PEM or DER); a root becomes trusted."
        )
        trust.add_argument("file", type=Path, metavar="FILE")

        token = commands.add_parser(
            "token",
            help="Use a key on the configured PKCS#11 token (ZHIXING_PKCS11_MODULE) for a "
            "court's seal or a bureau head's signature.",
        )
        token.add_argument("--court", metavar="CODE", required=True)
        token.add_argument("--user", metavar="NAME", help="For a bureau head's certificate.")
        token.add_argument("--key-label", required=True, help="Label of the key pair on the token.")

        export = commands.add_parser("export-root", help="Write the root CA certificate as PEM.")
        export.add_argument("file", type=Path, metavar="FILE")

        crl = commands.add_parser("crl", help="Write the current CRL (DER).")
        crl.add_argument("file", type=Path, metavar="FILE")

        commands.add_parser("list", help="List the certificates.")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, "handle_" + options["command"].replace("-", "_"))
        with acting_as(Actor(user=None, client_address="", channel="cli")):
            try:
                handler(options)
            except ValidationError as error:
                raise CommandError(_message(error)) from error
            except (services.PkiNotReady, tokens.TokenError) as error:
                raise CommandError(str(error)) from error

    def handle_init(self, options: dict[str, Any]) -> None:
        if options["root_only"]:
            root = services.ensure_root()
            issued = 0
        else:
            root, issued = services.init_pki()
        self.stdout.write(f"Root CA {root.fingerprint}; {issued} certificate(s) issued.")

    def handle_issue(self, options: dict[str, Any]) -> None:
        if options["court"]:
            row = services.issue_seal_certificate(
                _court(options["court"]), replace=options["replace"]
            )
        else:
            row = services.issue_officer_certificate(
                _user(options["user"]), replace=options["replace"]
            )
        self.stdout.write(f"{row.subject}: {row.fingerprint}")

    def handle_revoke(self, options: dict[str, Any]) -> None:
        row = Certificate.objects.filter(fingerprint=options["fingerprint"].lower()).first()
        if row is None:
            raise CommandError(
                f"No certificate with fingerprint {options['fingerprint']}; see `zhixing pki list`."
            )
        services.revoke(row, reason=options["reason"])
        self.stdout.write(f"Revoked {row.subject}.")

    def handle_import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} not found.")
        password = os.environ.get(PKCS12_PASSWORD_ENV)
        if password is None:
            password = getpass.getpass(f"Password of {path.name}: ")
        user = _user(options["user"]) if options["user"] else None
        row = services.import_pkcs12(
            path.read_bytes(),
            password.encode("utf-8") if password else None,
            court=_court(options["court"]),
            user=user,
        )
        self.stdout.write(f"Imported {row.subject}: {row.fingerprint}")

    def handle_trust(self, options: dict[str, Any]) -> None:
        data = Path(options["file"]).read_bytes()
        try:
            certificate = (
                x509.load_pem_x509_certificate(data)
                if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data)
            )
        except ValueError as error:
            raise CommandError(f"{options['file']} is not a certificate in PEM or DER.") from error
        row = services.add_ca_certificate(certificate)
        state = "trusted root" if row.trust_anchor else "intermediate CA"
        self.stdout.write(f"Stored {row.subject} as {state}.")

    def handle_token(self, options: dict[str, Any]) -> None:
        user = _user(options["user"]) if options["user"] else None
        with tokens.open_session() as session:
            certificate, public_key = tokens.read_key(session, options["key_label"])
        row = services.register_token_certificate(
            court=_court(options["court"]),
            user=user,
            key_label=options["key_label"],
            certificate=certificate,
            public_key=public_key,
        )
        self.stdout.write(f"{row.subject}: {row.fingerprint} (key on the token)")

    def handle_export_root(self, options: dict[str, Any]) -> None:
        root = services.ensure_root()
        Path(options["file"]).write_text(root.certificate_pem, encoding="ascii")
        self.stdout.write(f"Wrote the root CA certificate to {options['file']}.")

    def handle_crl(self, options: dict[str, Any]) -> None:
        Path(options["file"]).write_bytes(services.current_crl())
        self.stdout.write(f"Wrote the CRL to {options['file']}.")

    def handle_list(self, options: dict[str, Any]) -> None:
        for row in Certificate.objects.select_related("court", "user"):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "current"
            owner = row.court.code if row.court else ""
            if row.user:
                owner = f"{owner} {row.user.username}"
            self.stdout.write(
                f"{row.fingerprint}  {row.kind:<8} {row.source:<8} {state:<18} {owner}  "
                f"{row.subject}"
            )
