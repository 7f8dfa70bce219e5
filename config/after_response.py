"""Work that runs once a response has been sent, so that its cost never shows in the answer.

An endpoint that must answer alike whether or not an address has an account (password
reset, verification resend) cannot do the lookup, the token and the mail before it answers:
only known addresses cost that time, and the response's timing would tell them apart. It
answers first and queues that work here.

The server calls the response's ``close()`` once the last byte is sent (WSGI and ASGI
alike; Django's test client does the same), and ``close()`` runs the response's resource
closers before it sends ``request_finished``, which ends the request's database connection.
So ``work`` runs after the client has its answer, on the request's thread and connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpResponseBase

logger = logging.getLogger(__name__)


def run_after_response(response: HttpResponseBase, work: Callable[[], object]) -> None:
    """Call ``work`` when ``response`` is closed, i.e. after it has been sent.

    A failure is logged: there is nobody left to answer, and Django would drop it silently.
    """

    def run() -> None:
        # Let go of the GIL once first: the server's own threads may still need it to
        # hand the answer to the socket, and the work would hold them back for up to
        # the interpreter's switch interval (5 ms), which is time the client would see.
        time.sleep(0)
        try:
            work()
        except Exception:
            logger.exception("Work deferred until after the response failed.")

    # Django's own hook for what a response must do at close() (FileResponse closes its
    # file through it); there is no public way to add one.
    response._resource_closers.append(run)  # type: ignore[attr-defined]
