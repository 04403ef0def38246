"""The one bridge between the worker's event loop and Django's synchronous ORM.

Tools and the entrypoint run on an asyncio loop, where the sync ORM raises SynchronousOnlyOperation.
`run_orm` runs ORM code in Django's thread for sync code, and closes connections that are stale or past
CONN_MAX_AGE around each call, the way Django does around each request (a job process lives for many
calls and its database connection can go away in between).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

P = ParamSpec("P")
T = TypeVar("T")


def _fresh(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    # Inside a transaction (a test's, or a caller's atomic block) the connection must stay as it is.
    recycle = not connection.in_atomic_block
    if recycle:
        close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        if recycle:
            close_old_connections()


async def run_orm(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Await `fn(*args, **kwargs)`, a function that uses the ORM, without blocking the event loop."""
    return await sync_to_async(_fresh, thread_sensitive=True)(fn, *args, **kwargs)
