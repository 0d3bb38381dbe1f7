"""Speaking to the test Dovecot as a mail client would: create a folder, append, read flags."""

from __future__ import annotations

import imaplib
import time

from helpline.connectors.email.tests.dovecot import Dovecot


def client(server: Dovecot) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", server.port)
    conn.login(server.user, server.password)
    return conn


def new_folder(server: Dovecot) -> str:
    name = f"T{time.monotonic_ns()}"
    conn = client(server)
    typ, _ = conn.create(name)
    assert typ == "OK"
    conn.logout()
    return name


def delete_folder(server: Dovecot, name: str) -> None:
    conn = client(server)
    conn.delete(name)
    conn.logout()


def append(server: Dovecot, folder: str, raw: bytes) -> None:
    conn = client(server)
    typ, _ = conn.append(folder, None, None, raw)
    assert typ == "OK"
    conn.logout()


def seen_flags(server: Dovecot, folder: str) -> list[bool]:
    conn = client(server)
    conn.select(folder, readonly=True)
    typ, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    if typ != "OK":
        return []
    return [b"\\Seen" in item for item in data if isinstance(item, bytes)]
