"""``helpline mailbox``: the operator's interface (tested here: cli is the top layer)."""

from __future__ import annotations

from helpline.cli import main
from helpline.connectors.email.choices import Transport
from helpline.connectors.email.models import InboundEmail, Mailbox
from helpline.connectors.email.tests.factories import raw_email


def test_mailbox_add_list_remove(db, capsys):
    assert main(["mailbox", "add", "--address", "Support@Example.org"]) == 0
    assert (
        main(
            [
                "mailbox",
                "add",
                "--address",
                "help@example.org",
                "--imap-url",
                "imaps://user:pw@imap.example.org:993/INBOX",
            ]
        )
        == 0
    )
    smtp = Mailbox.objects.get(address="support@example.org")
    imap = Mailbox.objects.get(address="help@example.org")
    assert (smtp.transport, imap.transport) == (Transport.SMTP, Transport.IMAP)
    assert main(["mailbox", "add", "--address", "help@example.org"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["mailbox", "add", "--address", "x@example.org", "--imap-url", "http://nope"]) == 1
    main(["mailbox", "list"])
    out = capsys.readouterr().out
    assert "support@example.org\tsmtp" in out and "help@example.org\timap" in out
    assert main(["mailbox", "remove", "--address", "help@example.org"]) == 0
    assert not Mailbox.objects.filter(address="help@example.org").exists()


def test_mailbox_ingest_file(db, tmp_path, capsys):
    main(["mailbox", "add", "--address", "support@example.org"])
    path = tmp_path / "m.eml"
    path.write_bytes(raw_email())
    assert main(["mailbox", "ingest", str(path), "--mailbox", "support@example.org"]) == 0
    assert InboundEmail.objects.get().status == "processed"
    assert "processed" in capsys.readouterr().out
