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


def test_mailbox_oauth_consents_in_a_browser_and_keeps_the_refresh_token(db, capsys):
    """``helpline mailbox oauth``: the printed address is opened (by a thread standing for the
    admin's browser), the provider redirects to the command's loopback listener, the code is
    traded for the tokens, and the mailbox is an XOAUTH2 IMAP mailbox with the refresh token."""
    import re
    import threading
    import time
    import urllib.request

    from helpline.connectors.email.imap import parse_imap_url
    from helpline.connectors.email.tests.dovecot import start_token_server

    provider = start_token_server(token="ya29.unused", user="help@example.org")
    seen: list[str] = []

    def browser() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            seen.append(capsys.readouterr().out)
            found = re.search(r"^(http://127\.0\.0\.1:\d+/authorize\?\S+)$", "".join(seen), re.M)
            if found:
                with urllib.request.urlopen(found.group(1), timeout=10) as page:  # noqa: S310
                    page.read()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=browser, daemon=True)
    thread.start()
    try:
        code = main(
            [
                "mailbox", "oauth", "--address", "help@example.org", "--provider", "other",
                "--client-id", provider.client_id, "--client-secret", provider.client_secret,
                "--auth-url", provider.auth_url, "--token-url", provider.token_url,
                "--scope", "imap", "--imap-host", "imap.example.org", "--timeout", "30",
            ]
        )
        thread.join(timeout=10)
    finally:
        provider.stop()
    out = "".join(seen) + capsys.readouterr().out
    assert code == 0, out
    assert "Open this address in a browser, sign in as help@example.org" in out
    assert "now signs in to imap.example.org with OAuth" in out
    mailbox = Mailbox.objects.get(address="help@example.org")
    target = parse_imap_url(mailbox.imap_url)
    assert (mailbox.transport, target.host, target.port, target.xoauth2) == (
        Transport.IMAP, "imap.example.org", 993, True,
    )
    assert target.refresh is not None and target.refresh.refresh_token == provider.refresh_token
    assert provider.refresh_token not in out and provider.client_secret not in out


def test_mailbox_oauth_for_another_provider_needs_its_addresses(db, capsys):
    code = main(["mailbox", "oauth", "--address", "a@example.org", "--provider", "other",
                 "--client-id", "c"])
    assert code == 2
    assert "--auth-url, --token-url, --scope, --imap-host" in capsys.readouterr().err
