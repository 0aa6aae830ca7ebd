"""Bulk ingest (CommandStatementIngest): cursor.adbc_ingest and polars write_database.

Contract (from the lead): ingest creates a SHARED table; if the data has an ``id``
column it becomes the primary key.
"""

import adbc_driver_manager.dbapi as dbapi
import polars as pl
import pyarrow as pa
import pytest

from conftest import connect, query_all, scalar


def _data(ids, names=None):
    names = names or [f"n{i}" for i in ids]
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array(names, pa.string()),
        "x": pa.array([i * 1.5 for i in ids], pa.float64()),
    })


def _rows(conn, table):
    return query_all(conn, f"SELECT id, name, x FROM {table} ORDER BY id")


def test_ingest_create(conn, ns):
    data = _data([1, 2, 3])
    with conn.cursor() as cur:
        n = cur.adbc_ingest("t2", data, mode="create", db_schema_name=ns)
    assert n in (3, -1), n  # rows ingested, or -1 if the driver does not know
    assert _rows(conn, f"{ns}.t2") == [(1, "n1", 1.5), (2, "n2", 3.0), (3, "n3", 4.5)]
    assert query_all(conn, f"SELECT table_type FROM system.tables "
                           f"WHERE namespace_id = '{ns}' AND table_name = 't2'") == [("SHARED",)]
    assert query_all(conn, f"SELECT column_name FROM system.columns WHERE namespace_id = '{ns}' "
                           f"AND table_name = 't2' AND primary_key") == [("id",)]


def test_ingest_create_existing_table_fails(conn, ns):
    with conn.cursor() as cur:
        cur.adbc_ingest("t2", _data([1]), mode="create", db_schema_name=ns)
        with pytest.raises(dbapi.Error):
            cur.adbc_ingest("t2", _data([2]), mode="create", db_schema_name=ns)
    assert _rows(conn, f"{ns}.t2") == [(1, "n1", 1.5)]


def test_ingest_append(conn, ns):
    with conn.cursor() as cur:
        cur.adbc_ingest("t2", _data([1, 2]), mode="create", db_schema_name=ns)
        cur.adbc_ingest("t2", _data([3, 4]), mode="append", db_schema_name=ns)
    assert [r[0] for r in _rows(conn, f"{ns}.t2")] == [1, 2, 3, 4]


def test_ingest_append_into_sql_created_table(conn, table_t):
    ns = table_t.split(".")[0]
    with conn.cursor() as cur:
        cur.adbc_ingest("t", _data([10, 11]), mode="append", db_schema_name=ns)
    assert [r[0] for r in _rows(conn, table_t)] == [1, 2, 3, 10, 11]


def test_ingest_append_duplicate_primary_key_raises(conn, ns):
    with conn.cursor() as cur:
        cur.adbc_ingest("t2", _data([1, 2]), mode="create", db_schema_name=ns)
        with pytest.raises(dbapi.Error):
            cur.adbc_ingest("t2", _data([2, 3]), mode="append", db_schema_name=ns)
    assert [r[0] for r in _rows(conn, f"{ns}.t2")] == [1, 2]


def test_ingest_replace(conn, ns):
    with conn.cursor() as cur:
        cur.adbc_ingest("t2", _data([1, 2, 3]), mode="create", db_schema_name=ns)
        cur.adbc_ingest("t2", _data([7], ["seven"]), mode="replace", db_schema_name=ns)
    assert _rows(conn, f"{ns}.t2") == [(7, "seven", 10.5)]


def test_ingest_create_append(conn, ns):
    with conn.cursor() as cur:
        cur.adbc_ingest("t2", _data([1]), mode="create_append", db_schema_name=ns)
        cur.adbc_ingest("t2", _data([2]), mode="create_append", db_schema_name=ns)
    assert [r[0] for r in _rows(conn, f"{ns}.t2")] == [1, 2]


def test_ingest_append_schema_mismatch_raises(conn, ns):
    with conn.cursor() as cur:
        cur.adbc_ingest("t2", _data([1, 2]), mode="create", db_schema_name=ns)
        bad = pa.table({"id": pa.array([3], pa.int64()), "other": pa.array([True])})
        with pytest.raises(dbapi.Error):
            cur.adbc_ingest("t2", bad, mode="append", db_schema_name=ns)
    assert [r[0] for r in _rows(conn, f"{ns}.t2")] == [1, 2]


def test_ingest_large_batch_stream(conn, ns):
    n = 200_000
    data = pa.table({"id": pa.array(range(n), pa.int64()),
                     "v": pa.array([i % 100 for i in range(n)], pa.int32())})
    reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=10_000))
    with conn.cursor() as cur:
        cur.adbc_ingest("big", reader, mode="create", db_schema_name=ns)
    assert scalar(conn, f"SELECT count(*) FROM {ns}.big") == n
    assert scalar(conn, f"SELECT sum(v) FROM {ns}.big") == sum(i % 100 for i in range(n))


def test_polars_write_database(conn, ns):
    # polars hands the DataFrame over by the Arrow PyCapsule interface, so strings
    # arrive as string_view (Utf8View): the server must accept view types on ingest.
    df = pl.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"], "x": [0.5, 1.0, 1.5]})
    n = df.write_database(f"{ns}.pl", connection=conn, engine="adbc")
    assert n in (3, -1), n
    more = pl.DataFrame({"id": [4], "name": ["d"], "x": [2.0]})
    more.write_database(f"{ns}.pl", connection=conn, engine="adbc", if_table_exists="append")
    back = pl.read_database(f"SELECT id, name, x FROM {ns}.pl ORDER BY id", connection=conn)
    assert back.equals(pl.concat([df, more]))
    df.head(1).write_database(f"{ns}.pl", connection=conn, engine="adbc", if_table_exists="replace")
    assert query_all(conn, f"SELECT id, name FROM {ns}.pl") == [(1, "a")]


def test_pandas_to_sql(conn, ns):
    import pandas as pd
    df = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    df.to_sql("pd", conn, schema=ns, index=False)
    assert query_all(conn, f"SELECT id, name FROM {ns}.pd ORDER BY id") == [(1, "a"), (2, "b")]


def _table_info(conn, ns, table):
    kind = scalar(conn, f"SELECT table_type FROM system.tables WHERE namespace_id = '{ns}' AND table_name = '{table}'")
    pk = query_all(conn, f"SELECT column_name FROM system.columns WHERE namespace_id = '{ns}' "
                         f"AND table_name = '{table}' AND primary_key")
    return kind, pk


def test_ingest_options_through_call_headers(uri, conn, ns):
    """The stock driver refuses unknown ingest options; call headers carry them."""
    data = pa.table({"k": pa.array([1, 2], pa.int64()), "v": pa.array(["a", "b"])})
    hdr = "adbc.flight.sql.rpc.call_header."
    with connect(uri, conn_kwargs={hdr + "kalamdb-table-type": "USER", hdr + "kalamdb-primary-key": "k"}) as c:
        with c.cursor() as cur:
            cur.adbc_ingest("byhdr", data, mode="create", db_schema_name=ns)
        assert query_all(c, f"SELECT k, v FROM {ns}.byhdr ORDER BY k") == [(1, "a"), (2, "b")]
    assert _table_info(conn, ns, "byhdr") == ("USER", [("k",)])


def test_user_role_ingest_creates_user_table(uri, conn, ns):
    """A user-role account may create USER tables only: its ingest makes one."""
    user = "ing_" + ns[-6:]
    with conn.cursor() as cur:
        cur.execute(f"CREATE USER {user} WITH PASSWORD 'ingest-password' ROLE user")
    with connect(uri, username=user, password="ingest-password") as c:
        with c.cursor() as cur:
            cur.adbc_ingest("mine", _data([1, 2]), mode="create", db_schema_name=ns)
        assert [r[0] for r in _rows(c, f"{ns}.mine")] == [1, 2]
    assert _table_info(conn, ns, "mine") == ("USER", [("id",)])
    assert _rows(conn, f"{ns}.mine") == []  # root's own partition of the USER table
