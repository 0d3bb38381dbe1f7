"""A throw-away Dovecot IMAP server on a loopback port, for the IMAP tests.

Debian's dovecot-imapd with a config written to a temp dir: plaintext auth on 127.0.0.1 only,
one user from a passwd-file, mail stored as the ``mail`` user (never uid 0), the daemon's output
sent to a file (a pipe nobody reads would block it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int
    user: str
    password: str
    process: subprocess.Popen[bytes]

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/{folder}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> bool:
    return Path(DOVECOT).exists() and os.geteuid() == 0 and shutil.which("chown") is not None


def start(port: int, *, user: str = "helpdesk", password: str = "s3cret-imap") -> Dovecot:
    root = Path(tempfile.mkdtemp(prefix="hl-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    shutil.chown(root / "mail", user="mail", group="mail")
    (root / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, port=port))
    output = (root / "output.log").open("wb")
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    output.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((root / "output.log").read_text() + _log(root))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Dovecot(root=root, port=port, user=user, password=password, process=process)
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("dovecot did not start: " + _log(root))


def _log(root: Path) -> str:
    path = root / "dovecot.log"
    return path.read_text() if path.exists() else ""
