"""A throw-away Dovecot IMAP server on loopback ports, for the IMAP tests.

Debian's dovecot-imapd with a config written to a temp dir: one user from a passwd-file, mail
stored as the ``mail`` user (never uid 0), the daemon's output sent to a file (a pipe nobody
reads would block it). Three ways in:

- ``imap`` on ``port``: plaintext login allowed (and STARTTLS offered);
- ``imaps`` on ``tls_port``: TLS from the first byte, with a certificate for 127.0.0.1 and
  ``localhost`` signed by a CA generated for this run (``ca_file``);
- XOAUTH2/OAUTHBEARER: Dovecot's ``oauth2`` passdb asks a tiny HTTP server here (RFC 7662
  token introspection, ``POST token=…``) whether the bearer token is valid; it knows one token,
  ``oauth_token``, for ``user``. The same server is the provider's token endpoint
  (``POST /token``, RFC 6749 section 6): the right client and refresh token get a new access
  token, which replaces the valid one (the old one has "expired"), and, with ``rotate``, a new
  refresh token that replaces the old one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from helpline.connectors.email.tests.tlsutil import Pki, make_pki

DOVECOT = "/usr/sbin/dovecot"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
# No pause after a refused login (2 s by default): the tests refuse logins on purpose.
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
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
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""

OAUTH2_CONFIG = """\
introspection_mode = post
introspection_url = http://127.0.0.1:{port}/introspect
username_attribute = username
active_attribute = active
active_value = true
"""


@dataclass
class TokenServer:
    """The OAuth provider's introspection and token endpoints, reduced to one valid access
    token and one valid refresh token."""

    token: str
    user: str
    httpd: ThreadingHTTPServer
    asked: list[str] = field(default_factory=list)
    client_id: str = "helpline-test-client"
    client_secret: str = "client-secret-for-tests"
    refresh_token: str = "1//refresh-token-for-tests"
    rotate: bool = False
    refreshed: list[dict[str, str]] = field(default_factory=list)  # forms posted to /token
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> challenge, uri

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def refresh_query(self, **overrides: str) -> str:
        """The IMAP URL options that let Helpline refresh the access token here."""
        options = {
            "auth": "xoauth2",
            "token_url": self.token_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            **overrides,
        }
        return "&".join(f"{k}={quote(v, safe='')}" for k, v in options.items())

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/authorize"

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        """The consent screen, already answered yes: a redirect back with a one-time code."""
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = (query["code_challenge"], query.get("redirect_uri", ""))
        target = query.get("redirect_uri", "") + "?" + urlencode(
            {"code": code, "state": query.get("state", "")}
        )
        return 302, {"Location": target}

    def _exchange(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """The authorization-code grant, with the PKCE check (RFC 7636 4.6)."""
        challenge, redirect_uri = self.codes.pop(form.get("code", ""), ("", ""))
        verifier = form.get("code_verifier", "")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if not challenge or computed.rstrip(b"=").decode() != challenge:
            return 400, {"error": "invalid_grant", "error_description": "Bad code or verifier."}
        if form.get("redirect_uri") != redirect_uri or form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_grant", "error_description": "Bad redirect_uri."}
        self.token = f"ya29.consented-{len(self.refreshed)}"
        return 200, {
            "access_token": self.token,
            "token_type": "Bearer",
            "expires_in": 3599,
            "refresh_token": self.refresh_token,
        }

    def _grant(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        self.refreshed.append(form)
        if form.get("grant_type") == "authorization_code":
            return self._exchange(form)
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return 401, {"error": "invalid_client"}
        if form.get("refresh_token") != self.refresh_token:
            return 400, {
                "error": "invalid_grant",
                "error_description": "Token has been expired or revoked.",
            }
        n = len(self.refreshed)
        self.token = f"ya29.issued-{n}"
        answer: dict[str, object] = {
            "access_token": self.token,
            "token_type": "Bearer",
            "expires_in": 3599,
            "scope": "https://mail.google.com/",
        }
        if self.rotate:
            self.refresh_token = f"1//rotated-{n}"
            answer["refresh_token"] = self.refresh_token
        return 200, answer

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_token_server(*, token: str, user: str) -> TokenServer:
    server: TokenServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            status, headers = server._authorize(query)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            status = 200
            answer: dict[str, object] = {"active": False}
            if self.path.startswith("/token"):
                status, answer = server._grant({k: v[0] for k, v in form.items()})
            else:
                presented = form.get("token", [""])[0]
                server.asked.append(presented)
                if presented == server.token:
                    answer = {"active": True, "username": server.user, "scope": "imap"}
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = TokenServer(token=token, user=user, httpd=httpd)
    threading.Thread(target=httpd.serve_forever, name="oauth-introspect", daemon=True).start()
    return server


@dataclass
class Dovecot:
    root: Path
    port: int
    tls_port: int
    user: str
    password: str
    pki: Pki
    oauth: TokenServer
    process: subprocess.Popen[bytes]

    @property
    def ca_file(self) -> Path:
        return self.pki.ca_file

    @property
    def oauth_token(self) -> str:
        return self.oauth.token

    def url(
        self,
        folder: str = "INBOX",
        *,
        tls: bool = False,
        host: str = "127.0.0.1",
        secret: str | None = None,
        query: str = "",
    ) -> str:
        scheme, port = ("imaps", self.tls_port) if tls else ("imap", self.port)
        password = quote(self.password if secret is None else secret, safe="")
        return f"{scheme}://{self.user}:{password}@{host}:{port}/{folder}" + (
            f"?{query}" if query else ""
        )

    def log(self) -> str:
        return _log(self.root)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.oauth.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> bool:
    return Path(DOVECOT).exists() and os.geteuid() == 0 and shutil.which("chown") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    port: int,
    *,
    user: str = "helpdesk",
    password: str = "s3cret-imap",
    oauth_token: str = "ya29.test-access-token-valid",
) -> Dovecot:
    root = Path(tempfile.mkdtemp(prefix="hl-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    shutil.chown(root / "mail", user="mail", group="mail")
    (root / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    pki = make_pki(root / "tls")
    oauth = start_token_server(token=oauth_token, user=user)
    (root / "oauth2.conf.ext").write_text(OAUTH2_CONFIG.format(port=oauth.port))
    tls_port = _free_port()
    (root / "dovecot.conf").write_text(
        CONFIG.format(root=root, port=port, tls_port=tls_port, cert=pki.cert_file, key=pki.key_file)
    )
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
            oauth.stop()
            raise RuntimeError((root / "output.log").read_text() + _log(root))
        try:
            for p in (port, tls_port):
                with socket.create_connection(("127.0.0.1", p), timeout=0.5):
                    pass
        except OSError:
            time.sleep(0.1)
            continue
        return Dovecot(
            root=root,
            port=port,
            tls_port=tls_port,
            user=user,
            password=password,
            pki=pki,
            oauth=oauth,
            process=process,
        )
    process.terminate()
    oauth.stop()
    raise RuntimeError("dovecot did not start: " + _log(root))


def _log(root: Path) -> str:
    path = root / "dovecot.log"
    return path.read_text() if path.exists() else ""
