"""Catalog metadata: GetCatalogs/GetDbSchemas/GetTables/GetTableTypes/GetPrimaryKeys/GetSqlInfo."""

import adbc_driver_manager
import adbc_driver_manager.dbapi as dbapi
import pyarrow as pa
import pyarrow.flight as flight
import pytest

import flightsql_raw as raw
from conftest import ROOT_PASSWORD


def _schemas(conn, **kw):
    """adbc_get_objects flattened to {db_schema_name: {table_name: [column names]}}."""
    out = {}
    for cat in conn.adbc_get_objects(**kw).read_all().to_pylist():
        for sch in cat["catalog_db_schemas"] or []:
            tables = out.setdefault(sch["db_schema_name"], {})
            for tbl in sch["db_schema_tables"] or []:
                tables[tbl["table_name"]] = (
                    tbl["table_type"],
                    [c["column_name"] for c in (tbl["table_columns"] or [])],
                )
    return out


def test_get_info_vendor(conn):
    info = conn.adbc_get_info()
    assert info["vendor_name"] == "KalamDB"
    assert info["vendor_version"]


def test_get_table_types(conn):
    types = set(conn.adbc_get_table_types())
    assert {"USER", "SHARED", "STREAM", "SYSTEM"} <= types, types


def test_get_objects_catalogs(conn):
    cats = conn.adbc_get_objects(depth="catalogs").read_all()
    assert cats.num_rows >= 1


def test_get_objects_db_schemas_lists_namespace(conn, ns):
    assert ns in _schemas(conn, depth="db_schemas")


def test_get_objects_all_lists_table_and_columns(conn, table_t):
    ns = table_t.split(".")[0]
    objs = _schemas(conn, depth="all", db_schema_filter=ns)
    assert set(objs) == {ns}
    ttype, cols = objs[ns]["t"]
    assert ttype == "SHARED"
    assert cols[:3] == ["id", "name", "x"]


def test_get_objects_table_filter(conn, ns):
    with conn.cursor() as cur:
        cur.execute(f"CREATE SHARED TABLE {ns}.apple (id BIGINT PRIMARY KEY)")
        cur.execute(f"CREATE SHARED TABLE {ns}.banana (id BIGINT PRIMARY KEY)")
    objs = _schemas(conn, depth="tables", db_schema_filter=ns, table_name_filter="app%")
    assert set(objs[ns]) == {"apple"}


def test_get_table_schema(conn, table_t):
    ns = table_t.split(".")[0]
    schema = conn.adbc_get_table_schema("t", db_schema_filter=ns)
    assert isinstance(schema, pa.Schema)
    assert schema.names[:3] == ["id", "name", "x"]
    assert schema.field("id").type == pa.int64()
    assert schema.field("name").type == pa.string()
    assert schema.field("x").type == pa.float64()


def test_get_table_schema_unknown_table_is_not_found(conn, ns):
    # polars' write_database(if_table_exists="append") relies on NOT_FOUND here.
    with pytest.raises(dbapi.Error) as ei:
        conn.adbc_get_table_schema("nope", db_schema_filter=ns)
    assert ei.value.status_code == adbc_driver_manager.AdbcStatusCode.NOT_FOUND


def test_get_primary_keys_raw_flight(uri, table_t):
    ns = table_t.split(".")[0]
    client = flight.FlightClient(uri)
    try:
        opts = flight.FlightCallOptions(headers=[client.authenticate_basic_token("root", ROOT_PASSWORD)])
        pk = raw.fetch(client, raw.get_primary_keys("t", db_schema=ns), opts).to_pylist()
    finally:
        client.close()
    assert [(r["db_schema_name"], r["table_name"], r["column_name"], r["key_sequence"]) for r in pk] \
        == [(ns, "t", "id", 1)]
