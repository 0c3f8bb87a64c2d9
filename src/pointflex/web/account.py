"""``/account/password``: signed-in users change their own password."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from pointflex.errors import AuthenticationFailed, PointflexError, Throttled
from pointflex.services.access import portal_users
from pointflex.services.access.sessions import SignedIn
from pointflex.web.deps import portal_session, runtime
from pointflex.web.flash import flash, redirect
from pointflex.web.render import render

router = APIRouter()
TITLE = "Change your password"


@router.get("/account/password")
def password_page(request: Request, signed: SignedIn = Depends(portal_session)) -> Response:
    return render(request, "account_password.html", title=TITLE)


@router.post("/account/password")
def change_password(
    request: Request,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    signed: SignedIn = Depends(portal_session),
) -> Response:
    address = request.client.host if request.client else ""
    if new != confirm:
        return _refused(request, "The new password and its confirmation differ.")
    try:
        portal_users.change_own_password(runtime(request), signed, current, new, address)
    except Throttled as exc:
        minutes = math.ceil(exc.retry_after / 60)
        return _refused(request, f"Too many wrong passwords. Try again in {minutes} minute(s).")
    except AuthenticationFailed:
        return _refused(request, "The current password is wrong.")
    except PointflexError as exc:
        return _refused(request, exc.message[:1].upper() + exc.message[1:] + ".")
    flash(request, "Your password was changed. Your other sessions were signed out.")
    return redirect(request, "/")


def _refused(request: Request, error: str) -> Response:
    # 200, as the sign-in form answers a wrong password: the page itself is fine.
    return render(request, "account_password.html", title=TITLE, error=error)
