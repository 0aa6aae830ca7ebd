"""Transactions through DB-API.

ADBC's DB-API Connection has no ``autocommit`` attribute: a transactional connection
is opened with ``connect(..., autocommit=False)`` (the DB-API default), which calls
``AdbcConnectionSetOption(autocommit=false)``.  If the server does not support
transactions the driver only *warns* ("Cannot disable autocommit") and every
statement autocommits, so these tests turn that warning into an error.
"""

import warnings

import pytest

from conftest import connect, query_all


@pytest.fixture
def txconn(uri):
    """Opened lazily inside the test body, so an unsupported server shows as a test
    FAILURE (not a setup error)."""
    opened = []

    def open_tx():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            c = connect(uri, autocommit=False)
        opened.append(c)
        return c

    yield open_tx
    for c in opened:
        c.close()


def _ids(conn, table):
    return [r[0] for r in query_all(conn, f"SELECT id FROM {table} ORDER BY id")]


def test_rollback_discards_writes(conn, txconn, table_t):
    txconn = txconn()
    with txconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table_t} VALUES (10, 'tx', 0.0)")
        # read-your-own-writes inside the transaction
        cur.execute(f"SELECT count(*) FROM {table_t} WHERE id = 10")
        assert cur.fetchall() == [(1,)]
    # not visible to another session before commit
    assert _ids(conn, table_t) == [1, 2, 3]
    txconn.rollback()
    assert _ids(txconn, table_t) == [1, 2, 3]
    assert _ids(conn, table_t) == [1, 2, 3]


def test_commit_publishes_writes(conn, txconn, table_t):
    txconn = txconn()
    with txconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table_t} VALUES (10, 'tx', 0.0)")
        cur.execute(f"DELETE FROM {table_t} WHERE id = 1")
    assert _ids(conn, table_t) == [1, 2, 3]
    txconn.commit()
    assert _ids(conn, table_t) == [2, 3, 10]


def test_transaction_after_commit_is_fresh(conn, txconn, table_t):
    txconn = txconn()
    with txconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table_t} VALUES (10, 'a', 0.0)")
    txconn.commit()
    with txconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table_t} VALUES (11, 'b', 0.0)")
    txconn.rollback()
    assert _ids(conn, table_t) == [1, 2, 3, 10]
