"""Prepared statements and bound parameters (CreatePreparedStatement & co.).

Note: the ADBC DB-API cursor *always* tries to prepare a statement first and only
falls back to a plain statement query when the server answers Unimplemented, so once
prepared statements exist every query of every other test goes through them.
"""

import pytest

from conftest import query_all, scalar


def test_qmark_parameter(conn):
    assert scalar(conn, "SELECT ? + 1", parameters=(41,)) == 42


def test_dollar_parameter(conn):
    assert scalar(conn, "SELECT $1 * 2", parameters=(21,)) == 42


def test_parameter_types(conn):
    rows = query_all(conn, "SELECT ? AS i, ? AS s, ? AS d, ? AS b, ? AS n",
                     parameters=(7, "text", 2.5, True, None))
    assert rows == [(7, "text", 2.5, True, None)]


def test_parameter_in_where_clause(conn, table_t):
    assert query_all(conn, f"SELECT name FROM {table_t} WHERE id = ?", parameters=(2,)) == [("b",)]
    assert query_all(conn, f"SELECT id FROM {table_t} WHERE name = ? ORDER BY id",
                     parameters=("zzz",)) == []


def test_reexecute_same_statement_with_new_parameters(conn, table_t):
    sql = f"SELECT x FROM {table_t} WHERE id = ?"
    with conn.cursor() as cur:
        got = []
        for i in (1, 2, 3):
            cur.execute(sql, parameters=(i,))
            got.append(cur.fetchall())
    assert got == [[(1.5,)], [(2.5,)], [(3.5,)]]


def test_executemany_insert(conn, ns):
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)")
        rows = [(i, f"n{i}", i / 2) for i in range(1, 101)]
        cur.executemany(f"INSERT INTO {ns}.t VALUES (?, ?, ?)", rows)
    assert scalar(conn, f"SELECT count(*) FROM {ns}.t") == 100
    assert scalar(conn, f"SELECT sum(x) FROM {ns}.t") == sum(r[2] for r in rows)
    assert query_all(conn, f"SELECT id, name, x FROM {ns}.t WHERE id = 42") == [(42, "n42", 21.0)]


def test_parameterized_update_and_delete(conn, table_t):
    with conn.cursor() as cur:
        cur.execute(f"UPDATE {table_t} SET name = ? WHERE id = ?", parameters=("B", 2))
        cur.execute(f"DELETE FROM {table_t} WHERE id = ?", parameters=(3,))
    assert query_all(conn, f"SELECT id, name FROM {table_t} ORDER BY id") == [(1, "a"), (2, "B")]


def test_wrong_parameter_count_raises(conn):
    import adbc_driver_manager.dbapi as dbapi
    assert scalar(conn, "SELECT ? + ?", parameters=(1, 2)) == 3
    with conn.cursor() as cur:
        with pytest.raises(dbapi.Error):
            cur.execute("SELECT ? + ?", parameters=(1,))
            cur.fetchall()
