"""pandas on top of the ADBC connection."""

import pandas as pd


def test_read_sql(conn, table_t):
    df = pd.read_sql(f"SELECT id, name, x FROM {table_t} ORDER BY id", conn)
    assert list(df.columns) == ["id", "name", "x"]
    assert df["id"].tolist() == [1, 2, 3]
    assert df["name"].tolist() == ["a", "b", "c"]
    assert df["x"].sum() == 7.5


def test_million_rows_fetch_df(conn):
    n = 1_000_000
    with conn.cursor() as cur:
        cur.execute(f"SELECT i, i * 2 AS j, i % 7 AS k FROM range({n}) t(i)")
        df = cur.fetch_df()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == n
    assert int(df["i"].sum()) == n * (n - 1) // 2
    assert int(df["j"].sum()) == n * (n - 1)
    assert int(df["k"].sum()) == sum(i % 7 for i in range(n))
    assert int(df["i"].max()) == n - 1
