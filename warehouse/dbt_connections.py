"""dbt's PostgreSQL connections kept from one node to the next within a dbt command.

dbt closes a node's connection when the node ends, and the next node on that thread opens a new
one: a new server process, whose catalog caches start empty. A build of the large night's 132 nodes
opened 138 connections. `keep_connections_between_nodes()` makes the end of a node leave its connection open
and as a new one would be instead:

- the node's transaction rolled back, as closing the connection would have done: a node commits
  what it keeps. psycopg2 may still count open a transaction that a `commit;` statement of dbt's
  ended on the server, and would otherwise send the next node's statements without beginning one:
  it is left counting none (`end_transaction`);
- `discard all`, as a connection pooler resets a connection between clients: the node's temporary
  tables (dbt's `__dbt_tmp` tables among them), session settings, advisory locks and prepared
  statements go, and the role dbt's profile names is set again.

A connection that cannot be reset so (broken, or closed by the server) is closed as dbt would
have closed it, and the next node opens a new one. dbt closes the kept connections at the end of
the command, as it always does. `PMO_DBT_KEEP_CONNECTIONS=0` leaves dbt as it is.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg2.extensions import STATUS_READY, TRANSACTION_STATUS_IDLE

from warehouse import settings

log = logging.getLogger(__name__)

KEEP_CONNECTIONS_VARIABLE = "PMO_DBT_KEEP_CONNECTIONS"


def keep_connections_wanted(environ: dict[str, str] | None = None) -> bool:
    """Whether `PMO_DBT_KEEP_CONNECTIONS` leaves connections kept (anything but 0, false, no, off)."""
    return settings.switched_on(KEEP_CONNECTIONS_VARIABLE, environ)


def keep_connections_between_nodes() -> bool:
    """Make dbt-postgres keep a node's connection for the thread's next node (once per process);
    returns whether connections are kept."""
    if not keep_connections_wanted():
        return False
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    if getattr(PostgresConnectionManager.release, "keeps_connection", False):
        return True
    close_connection = PostgresConnectionManager.release

    def release(self: PostgresConnectionManager) -> None:
        with self.lock:
            connection = self.get_if_exists()
            if connection is None:
                return
        if not _reset_for_next_node(self, connection):
            close_connection(self)

    release.keeps_connection = True  # type: ignore[attr-defined]
    PostgresConnectionManager.release = release  # type: ignore[method-assign]
    return True


def end_transaction(handle: Any) -> None:
    """Leave psycopg2 counting no transaction open, without a statement the server would warn about.

    psycopg2 still counts open a transaction that a `commit;` statement ended on the server; its
    rollback would then send a `rollback` the server logs a warning for (there is no transaction in
    progress): a `begin` first makes what psycopg2 counts true, and its rollback ends it."""
    if handle.status == STATUS_READY:
        return
    if handle.info.transaction_status == TRANSACTION_STATUS_IDLE:
        with handle.cursor() as cursor:
            cursor.execute("begin")
    handle.rollback()


def _reset_for_next_node(manager: Any, connection: Any) -> bool:
    """Leave an open connection as a new one would be; False when it is not open or cannot be reset."""
    if connection.state != "open":
        return False
    handle = connection.handle
    try:
        if handle.closed:
            return False
        if connection.transaction_open:
            manager._rollback(connection)
        end_transaction(handle)
        autocommit = handle.autocommit
        handle.autocommit = True  # `discard all` cannot run inside a transaction block
        try:
            with handle.cursor() as cursor:
                if handle.info.transaction_status != TRANSACTION_STATUS_IDLE:
                    # a profile with `autocommit: true`: psycopg2's rollback sends nothing, and a
                    # transaction dbt began with a `begin` statement may still be open
                    cursor.execute("rollback")
                cursor.execute("discard all")
                role = getattr(connection.credentials, "role", None)
                if role:
                    cursor.execute(f"set role {role}")
        finally:
            handle.autocommit = autocommit
    except Exception as error:  # whatever went wrong, closing the connection is what dbt would have done
        log.debug("dbt connection %s not kept for the next node: %s", connection.name, error)
        return False
    return True
