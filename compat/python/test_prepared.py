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


def test_executemany_is_all_or_nothing(conn, ns):
    """A failing parameter row writes nothing, and the error names it."""
    import adbc_driver_manager.dbapi as dbapi
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.t (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        rows = [(i, f"n{i}") for i in range(1, 11)]
        rows[6] = (7, None)
        with pytest.raises(dbapi.Error, match="parameter row 7"):
            cur.executemany(f"INSERT INTO {ns}.t VALUES (?, ?)", rows)
        rows[6] = (3, "again")
        with pytest.raises(dbapi.Error, match="parameter row 7: duplicate primary key 3"):
            cur.executemany(f"INSERT INTO {ns}.t VALUES (?, ?)", rows)
    assert scalar(conn, f"SELECT count(*) FROM {ns}.t") == 0


def test_executemany_many_rows(conn, ns):
    """100k parameter rows in one executemany, as DuckDB's INSERT stores them."""
    import datetime
    import decimal
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.t (id BIGINT PRIMARY KEY, name TEXT, n DECIMAL(10,2), "
                    "x DOUBLE, ts TIMESTAMP)")
        epoch = datetime.datetime(2024, 1, 1)
        rows = [(i, f"n{i}", decimal.Decimal(i) / 1000, i / 3, epoch + datetime.timedelta(microseconds=i))
                for i in range(100_000)]
        cur.executemany(f"INSERT INTO {ns}.t VALUES (?, ?, ?, ?, ?)", rows)
    assert scalar(conn, f"SELECT count(*) FROM {ns}.t") == 100_000
    # DECIMAL(10,2) rounds i/1000 half away from zero, as DuckDB's cast does.
    assert query_all(conn, f"SELECT id, name, n, x, ts FROM {ns}.t WHERE id IN (5, 99995) ORDER BY id") == [
        (5, "n5", decimal.Decimal("0.01"), 5 / 3, epoch + datetime.timedelta(microseconds=5)),
        (99995, "n99995", decimal.Decimal("100.00"), 99995 / 3, epoch + datetime.timedelta(microseconds=99995)),
    ]


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
