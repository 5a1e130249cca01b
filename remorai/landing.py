"""`/`: a small page pointing a new user to the admin, the API docs and the health checks."""

from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def landing(request):
    return render(request, "landing.html")
