"""polars reading through ADBC.

``pl.read_database_uri(query, uri, engine="adbc")`` cannot be used with this server:
polars derives the ADBC driver module from the URI scheme (``grpc+tcp`` →
``adbc_driver_grpc+tcp``, which does not exist) and calls ``driver.connect(uri)``
with no way to pass a username/password.  Users open the ADBC connection
themselves and hand it to ``pl.read_database`` / ``DataFrame.write_database``
(see test_ingest.py for the latter).
"""

import polars as pl


def test_read_database_with_adbc_connection(conn, table_t):
    df = pl.read_database(f"SELECT id, name, x FROM {table_t} ORDER BY id", connection=conn)
    assert df.schema == pl.Schema({"id": pl.Int64, "name": pl.String, "x": pl.Float64})
    assert df.to_dicts() == [
        {"id": 1, "name": "a", "x": 1.5},
        {"id": 2, "name": "b", "x": 2.5},
        {"id": 3, "name": "c", "x": 3.5},
    ]


def test_read_database_large_result(conn):
    n = 2_000_000
    df = pl.read_database(f"SELECT i, i % 7 AS k FROM range({n}) t(i)", connection=conn)
    assert df.height == n
    assert df["i"].sum() == n * (n - 1) // 2
    assert df.group_by("k").len().height == 7
