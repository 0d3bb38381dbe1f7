"""XOAUTH2 with a refresh token: an access token lives about an hour, so a mailbox whose IMAP URL
carries the provider's token endpoint, the client and a refresh token gets new access tokens
itself. Against the test Dovecot, whose ``oauth2`` passdb asks the local provider (RFC 7662
introspection), and that provider's token endpoint (RFC 6749 section 6), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from helpline.config.env import ConfigError
from helpline.connectors.email import imap, oauth, services
from helpline.connectors.email.models import Mailbox
from helpline.connectors.email.tests.dovecot import Dovecot
from helpline.connectors.email.tests.factories import raw_email
from helpline.connectors.email.tests.imap_helpers import append, seen_flags
from helpline.tickets.models import Ticket

EXPIRED = "ya29.expired-an-hour-ago"


@pytest.fixture
def provider(dovecot_server: Dovecot) -> Iterator[Dovecot]:
    """The session's Dovecot with its provider's token state restored after the test, and this
    process's access tokens forgotten before and after."""
    state = dovecot_server.oauth
    saved = (state.token, state.refresh_token, state.rotate)
    asked, refreshed = len(state.asked), len(state.refreshed)
    oauth.tokens.clear()
    try:
        yield dovecot_server
    finally:
        oauth.tokens.clear()
        state.token, state.refresh_token, state.rotate = saved
        del state.asked[asked:]
        del state.refreshed[refreshed:]


def _mailbox(server: Dovecot, folder: str, *, access: str = EXPIRED, **options: str) -> Mailbox:
    url = server.url(folder, secret=access, query=server.oauth.refresh_query(**options))
    return services.mailbox_create(address="oauth@example.org", imap_url=url)


def test_an_expired_access_token_is_refreshed_and_the_mail_fetched(
    transactional_db, provider, folder
):
    state = provider.oauth
    asked_before = len(state.asked)
    mailbox = _mailbox(provider, folder)
    append(provider, folder, raw_email(to="oauth@example.org", subject="after refresh"))

    assert imap.imap_poll(mailbox) == 1

    assert Ticket.objects.filter(subject="after refresh").exists()
    assert seen_flags(provider, folder) == [True]
    # The provider was asked once, as RFC 6749 says, with this client's credentials.
    assert state.refreshed[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": "1//refresh-token-for-tests",
        "client_id": "helpline-test-client",
        "client_secret": "client-secret-for-tests",
    }
    issued = state.token
    # Dovecot was shown the URL's expired token first (refused), then the one just issued.
    assert state.asked[asked_before:] == [EXPIRED, issued]
    mailbox.refresh_from_db()
    assert mailbox.imap_error == ""


def test_the_token_is_reused_while_it_is_good(transactional_db, provider, folder):
    state = provider.oauth
    mailbox = _mailbox(provider, folder)
    append(provider, folder, raw_email(to="oauth@example.org", subject="first"))
    assert imap.imap_poll(mailbox) == 1
    refreshes, asked = len(state.refreshed), len(state.asked)

    append(provider, folder, raw_email(to="oauth@example.org", subject="second"))
    assert imap.imap_poll(mailbox) == 1

    assert len(state.refreshed) == refreshes  # no new grant within its hour
    assert state.asked[asked:] == [state.token]  # one login, with the token in hand
    assert Ticket.objects.filter(subject="second").exists()


def test_without_an_access_token_the_first_login_uses_a_new_one(
    transactional_db, provider, folder
):
    state = provider.oauth
    asked_before = len(state.asked)
    mailbox = _mailbox(provider, folder, access="")
    append(provider, folder, raw_email(to="oauth@example.org", subject="no token given"))

    assert imap.imap_poll(mailbox) == 1

    assert state.asked[asked_before:] == [state.token]  # asked for one before any login


def test_a_token_refused_later_is_refreshed_once_more(transactional_db, provider, folder):
    state = provider.oauth
    mailbox = _mailbox(provider, folder)
    assert imap.imap_poll(mailbox) == 0
    state.token = "ya29.provider-revoked-the-issued-one"  # e.g. the password was changed
    refreshes = len(state.refreshed)
    append(provider, folder, raw_email(to="oauth@example.org", subject="after revocation"))

    assert imap.imap_poll(mailbox) == 1
    assert len(state.refreshed) == refreshes + 1


def test_a_rotated_refresh_token_is_kept_in_the_mailbox(transactional_db, provider, folder):
    state = provider.oauth
    state.rotate = True  # Microsoft's way: every grant brings a new refresh token
    mailbox = _mailbox(provider, folder)
    assert imap.imap_poll(mailbox) == 0

    mailbox.refresh_from_db()
    assert state.refresh_token == "1//rotated-" + str(len(state.refreshed))
    assert imap.parse_imap_url(mailbox.imap_url).refresh == oauth.RefreshConfig(
        token_url=state.token_url,
        client_id=state.client_id,
        client_secret=state.client_secret,
        refresh_token=state.refresh_token,
    )
    # Stored encrypted like the rest of the URL.
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Mailbox._meta.db_table)
        cursor.execute(f"SELECT imap_url FROM {table} WHERE id = %s", [mailbox.pk])  # noqa: S608
        stored = cursor.fetchone()[0]
    assert state.refresh_token not in stored and "rotated" not in stored
    # Another process (nothing in memory) with the old token expired logs in with the kept one.
    oauth.tokens.clear()
    state.token = "ya29.expired-too"
    append(provider, folder, raw_email(to="oauth@example.org", subject="rotated"))
    assert imap.imap_poll(mailbox) == 1
    assert state.refreshed[-1]["refresh_token"] == "1//rotated-" + str(len(state.refreshed) - 1)


def test_a_revoked_refresh_token_is_a_clear_error_without_secrets(
    transactional_db, provider, folder
):
    state = provider.oauth
    _mailbox(provider, folder, refresh_token="1//revoked-by-the-user")
    append(provider, folder, raw_email(to="oauth@example.org"))

    assert imap.imap_poll_due() == 0

    mailbox = Mailbox.objects.get(address="oauth@example.org")
    assert mailbox.imap_error == (
        f"ImapError: XOAUTH2 login as helpdesk on 127.0.0.1:{provider.port}: no access token. "
        f"The token endpoint 127.0.0.1:{state.port} refused the refresh token: invalid_grant "
        "(Token has been expired or revoked.)"
    )
    for secret in ("1//revoked-by-the-user", state.client_secret, EXPIRED):
        assert secret not in mailbox.imap_error
    assert seen_flags(provider, folder) == [False]


def test_a_wrong_client_secret_is_named_as_the_providers_answer(
    transactional_db, provider, folder
):
    _mailbox(provider, folder, client_secret="not-the-secret")
    assert imap.imap_poll_due() == 0
    mailbox = Mailbox.objects.get(address="oauth@example.org")
    assert mailbox.imap_error.endswith("refused the refresh token: invalid_client")
    assert "not-the-secret" not in mailbox.imap_error


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "token_url=https://oauth2.googleapis.com/token&client_id=c&refresh_token=r",
            "only with auth=xoauth2",
        ),
        (
            "auth=xoauth2&token_url=https://oauth2.googleapis.com/token&refresh_token=r",
            "missing: client_id",
        ),
        (
            "auth=xoauth2&token_url=http://oauth.example.org/token&client_id=c&refresh_token=r",
            "token_url must be https://",
        ),
    ],
)
def test_refresh_options_are_checked_when_the_mailbox_is_saved(query, message):
    with pytest.raises(ConfigError, match=message):
        imap.parse_imap_url(f"imaps://help@example.org:tok@imap.gmail.com/INBOX?{query}")


def test_an_xoauth2_url_needs_a_token_or_a_way_to_get_one():
    with pytest.raises(ConfigError, match="needs an access token"):
        imap.parse_imap_url("imaps://help@example.org@imap.gmail.com/INBOX?auth=xoauth2")
    target = imap.parse_imap_url(
        "imaps://help%40example.org@imap.gmail.com/INBOX?auth=xoauth2&client_secret=s3cr3t"
        "&token_url=https://oauth2.googleapis.com/token&client_id=c&refresh_token=1//r3fr3sh"
    )
    assert target.refresh is not None and target.password == ""
    assert target.refresh.client_secret == "s3cr3t"
    for shown in (repr(target), repr(target.refresh)):
        assert "s3cr3t" not in shown and "r3fr3sh" not in shown


# --- The first refresh token: consent in a browser, the code caught on a loopback port ---------


def _browser(url: str) -> None:
    """The admin's browser: open the consent address; the provider (already answered yes)
    redirects back to Helpline's loopback listener, which the browser then visits."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback test)
        assert response.status == 200
        assert b"you can close this tab" in response.read()


def _consent_in_thread(url: str) -> None:
    import threading

    threading.Thread(target=_browser, args=(url,), daemon=True).start()


def test_consent_makes_an_oauth_mailbox_that_fetches_mail(transactional_db, provider, folder):
    state = provider.oauth
    shown: list[str] = []

    def show(url: str) -> None:
        shown.append(url)
        _consent_in_thread(url)

    mailbox = services.mailbox_oauth_connect(
        address="oauth@example.org",
        imap_user=provider.user,
        provider=oauth.Provider(
            auth_url=state.auth_url, token_url=state.token_url, scope="imap", imap_host="127.0.0.1"
        ),
        client_id=state.client_id,
        client_secret=state.client_secret,
        catcher=oauth.RedirectCatcher(),
        show=show,
        imap_port=provider.tls_port,
        folder=folder,
        imap_options=[("ca_file", str(provider.ca_file))],
        timeout=30,
    )

    # The consent address carried PKCE (S256) and the loopback redirect; the code was traded
    # with its verifier (the provider checked both).
    assert "code_challenge_method=S256" in shown[0]
    assert "redirect_uri=http%3A%2F%2F127.0.0.1" in shown[0]
    assert state.refreshed[-1]["grant_type"] == "authorization_code"
    target = imap.parse_imap_url(mailbox.imap_url)
    assert target.xoauth2 and target.refresh is not None
    assert target.refresh.refresh_token == state.refresh_token
    append(provider, folder, raw_email(to="oauth@example.org", subject="after consent"))
    assert imap.imap_poll(mailbox) == 1
    assert Ticket.objects.filter(subject="after consent").exists()


def test_consent_for_an_existing_mailbox_replaces_its_imap_url(transactional_db, provider, folder):
    state = provider.oauth
    existing = services.mailbox_create(address="oauth@example.org")
    mailbox = services.mailbox_oauth_connect(
        address="OAuth@Example.org",
        imap_user=provider.user,
        provider=oauth.Provider(state.auth_url, state.token_url, "imap", "127.0.0.1"),
        client_id=state.client_id,
        client_secret=state.client_secret,
        catcher=oauth.RedirectCatcher(),
        show=_consent_in_thread,
        timeout=30,
    )
    assert mailbox.pk == existing.pk and mailbox.transport == "imap"
    assert Mailbox.objects.count() == 1


def test_a_refused_consent_is_an_error_and_changes_nothing(transactional_db, provider):
    state = provider.oauth
    catcher = oauth.RedirectCatcher()

    def deny(url: str) -> None:  # the admin clicks "Cancel": the provider says so
        import urllib.parse

        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        back = catcher.redirect_uri + "?" + urllib.parse.urlencode(
            {"error": "access_denied", "state": query["state"][0]}
        )
        _consent_in_thread(back)

    with pytest.raises(oauth.TokenRefreshError, match="refused the consent: access_denied"):
        services.mailbox_oauth_connect(
            address="oauth@example.org",
            imap_user=provider.user,
            provider=oauth.Provider(state.auth_url, state.token_url, "imap", "127.0.0.1"),
            client_id=state.client_id,
            client_secret=state.client_secret,
            catcher=catcher,
            show=deny,
            timeout=30,
        )
    assert not Mailbox.objects.exists()
