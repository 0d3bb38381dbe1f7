"""Sign in with email and password; sign out."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from helpline.web import ratelimit
from helpline.web.forms import SignInForm
from helpline.web.views.common import client_ip


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("web:inbox")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_next_url(request))
    form = SignInForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        ip = client_ip(request)
        if ratelimit.signin_blocked(ip=ip, email=email):
            error = "Too many failed attempts. Wait a few minutes and try again."
            status = 429
        else:
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is None:
                ratelimit.signin_failed(ip=ip, email=email)
                error = "That email and password do not match an active account."
                status = 401
            else:
                ratelimit.signin_succeeded(ip=ip, email=email)
                login(request, user)
                return HttpResponseRedirect(_next_url(request))
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "web/auth/sign_in.html",
        {
            "form": form,
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=status,
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("web:sign_in"))


urlpatterns = [
    path("login/", sign_in, name="sign_in"),
    path("logout/", sign_out, name="sign_out"),
]
