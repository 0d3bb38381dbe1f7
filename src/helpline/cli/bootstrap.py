"""First-run steps shared by ``serve`` and the other commands."""

from __future__ import annotations

import secrets
import sys

from django.conf import settings
from django.core.management import call_command


def migrate(*, verbose: bool = False) -> None:
    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def ensure_first_admin(*, email: str = "admin@helpline.local") -> tuple[str, str] | None:
    """Create the first admin if there is no admin yet; return (email, password) when created.

    The password is also written to ``<data dir>/admin-credentials.txt`` (mode 0600) so a
    newcomer who missed the console line can still sign in.
    """
    from helpline.accounts.choices import Role
    from helpline.accounts.models import User
    from helpline.accounts.services import user_create

    if User.objects.filter(role=Role.ADMIN).exists():
        return None
    password = secrets.token_urlsafe(12)
    user_create(email=email, name="Admin", password=password, role=Role.ADMIN)
    path = settings.DATA_DIR / "admin-credentials.txt"
    path.write_text(f"email: {email}\npassword: {password}\n")
    path.chmod(0o600)
    return email, password


def print_admin(credentials: tuple[str, str] | None) -> None:
    if credentials is None:
        return
    email, password = credentials
    print(
        f"\n  First admin created. Sign in with\n    email:    {email}\n    password: {password}\n"
        f"  (also saved in {settings.DATA_DIR / 'admin-credentials.txt'})\n",
        file=sys.stderr,
        flush=True,
    )
