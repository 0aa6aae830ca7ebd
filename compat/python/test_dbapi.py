"""ADBC Flight SQL DB-API: DDL, DML, SELECT, result fetching and errors."""

import uuid

import adbc_driver_manager
import adbc_driver_manager.dbapi as dbapi
import pyarrow as pa
import pytest

from conftest import connect, query_all, scalar


def test_select_without_table(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT 1 AS one, 'x' AS s, 2.5 AS d")
        assert [d[0] for d in cur.description] == ["one", "s", "d"]
        assert cur.fetchall() == [(1, "x", 2.5)]


def test_ddl_dml_select_roundtrip(conn, ns):
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)")
        cur.execute(f"INSERT INTO {ns}.t VALUES (1, 'a', 1.5)")
        cur.execute(f"INSERT INTO {ns}.t VALUES (2, 'b', 2.5), (3, NULL, NULL)")
        cur.execute(f"UPDATE {ns}.t SET name = 'B' WHERE id = 2")
        cur.execute(f"DELETE FROM {ns}.t WHERE id = 1")
        cur.execute(f"SELECT id, name, x FROM {ns}.t ORDER BY id")
        assert cur.fetchall() == [(2, "B", 2.5), (3, None, None)]


def test_select_star_has_declared_columns_and_seq_by_name(conn, table_t):
    # README: `_seq` is a system column, hidden from SELECT * and selectable by name.
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table_t} ORDER BY id")
        assert [d[0] for d in cur.description] == ["id", "name", "x"]
        assert cur.fetchall() == [(1, "a", 1.5), (2, "b", 2.5), (3, "c", 3.5)]
        cur.execute(f"SELECT _seq, * FROM {table_t} ORDER BY id")
        assert [d[0] for d in cur.description] == ["_seq", "id", "name", "x"]
        seqs = [r[0] for r in cur.fetchall()]
    assert all(isinstance(s, int) and s > 0 for s in seqs)


def test_fetchone_fetchmany(conn, table_t):
    with conn.cursor() as cur:
        cur.execute(f"SELECT id FROM {table_t} ORDER BY id")
        assert cur.fetchone() == (1,)
        assert cur.fetchmany(5) == [(2,), (3,)]
        assert cur.fetchone() is None


def test_fetch_arrow_table_types(conn, table_t):
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, name, x FROM {table_t} ORDER BY id")
        t = cur.fetch_arrow_table()
    assert t.schema.field("id").type == pa.int64()
    # No view types: plain Utf8 strings, so every Arrow consumer can read them.
    assert t.schema.field("name").type == pa.string()
    assert t.schema.field("x").type == pa.float64()
    assert t.to_pydict() == {"id": [1, 2, 3], "name": ["a", "b", "c"], "x": [1.5, 2.5, 3.5]}


def test_insert_rowcount(conn, ns):
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.t (id BIGINT PRIMARY KEY, name TEXT)")
        cur.execute(f"INSERT INTO {ns}.t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        assert cur.rowcount == 3, "DB-API rowcount after a 3-row INSERT"


def test_syntax_error_is_programming_error_with_message(conn):
    with conn.cursor() as cur:
        with pytest.raises(dbapi.ProgrammingError) as ei:
            cur.execute("SELEC 1")
    msg = str(ei.value)
    assert "syntax error" in msg.lower(), msg
    assert ei.value.status_code == adbc_driver_manager.AdbcStatusCode.INVALID_ARGUMENT


def test_unknown_table_is_not_found(conn, ns):
    with conn.cursor() as cur:
        with pytest.raises(dbapi.ProgrammingError) as ei:
            cur.execute(f"SELECT * FROM {ns}.does_not_exist")
    assert "does_not_exist" in str(ei.value)
    assert ei.value.status_code == adbc_driver_manager.AdbcStatusCode.NOT_FOUND


def test_duplicate_primary_key_raises_and_writes_nothing(conn, table_t):
    with conn.cursor() as cur:
        with pytest.raises(dbapi.DatabaseError):
            cur.execute(f"INSERT INTO {table_t} VALUES (4, 'd', 4.5), (1, 'dup', 0.0)")
    assert scalar(conn, f"SELECT count(*) FROM {table_t}") == 3


def test_create_existing_table_raises_already_exists(conn, table_t):
    with conn.cursor() as cur:
        with pytest.raises(dbapi.DatabaseError) as ei:
            cur.execute(f"CREATE SHARED TABLE {table_t} (id BIGINT PRIMARY KEY)")
    assert ei.value.status_code == adbc_driver_manager.AdbcStatusCode.ALREADY_EXISTS


def test_wrong_password_fails_on_connect(uri):
    with pytest.raises(dbapi.Error) as ei:
        connect(uri, password="definitely-wrong")
    assert ei.value.status_code == adbc_driver_manager.AdbcStatusCode.UNAUTHENTICATED


def test_new_user_can_connect_and_user_tables_are_per_user(conn, uri, ns):
    user = "u_" + uuid.uuid4().hex[:8]
    with conn.cursor() as cur:
        cur.execute(f"CREATE USER {user} WITH PASSWORD 'alice-pass' ROLE user")
        cur.execute(f"CREATE USER TABLE {ns}.notes (id BIGINT PRIMARY KEY, body TEXT)")
        cur.execute(f"INSERT INTO {ns}.notes VALUES (1, 'root note')")
    alice = connect(uri, username=user, password="alice-pass")
    try:
        assert scalar(alice, "SELECT 1") == 1
        # alice sees none of root's rows, and her own row only.
        assert query_all(alice, f"SELECT id, body FROM {ns}.notes") == []
        with alice.cursor() as cur:
            cur.execute(f"INSERT INTO {ns}.notes VALUES (1, 'alice note')")
        assert query_all(alice, f"SELECT id, body FROM {ns}.notes") == [(1, "alice note")]
    finally:
        alice.close()
    assert query_all(conn, f"SELECT id, body FROM {ns}.notes") == [(1, "root note")]


def test_user_cannot_read_private_shared_table(conn, uri, table_t):
    user = "u_" + uuid.uuid4().hex[:8]
    with conn.cursor() as cur:
        cur.execute(f"CREATE USER {user} WITH PASSWORD 'bob-pass-1' ROLE user")
    bob = connect(uri, username=user, password="bob-pass-1")
    try:
        with bob.cursor() as cur:
            with pytest.raises(dbapi.Error) as ei:
                cur.execute(f"SELECT * FROM {table_t}")
        assert ei.value.status_code == adbc_driver_manager.AdbcStatusCode.UNAUTHORIZED
    finally:
        bob.close()
