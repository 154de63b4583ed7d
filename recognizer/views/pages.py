"""Home, help and sign-up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from recognizer.forms import SignupForm
from recognizer.views.sending import upload_limits


def home(request):
    return render(request, "recognizer/home.html", upload_limits())


def help_page(request):
    return render(request, "recognizer/help.html", upload_limits())


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("upload")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Welcome, %(name)s! Send a picture of a number to begin.") % {"name": user})
        return redirect("upload")
    return render(request, "registration/signup.html", {"form": form})
