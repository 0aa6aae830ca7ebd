"""Minimal Flight SQL over plain ``pyarrow.flight`` (no ADBC).

pyarrow has no Flight SQL client, so the few commands the suite needs are encoded
by hand: a Flight SQL command is a ``google.protobuf.Any`` whose ``type_url`` is
``type.googleapis.com/arrow.flight.protocol.sql.<Message>`` and whose value is the
serialized message.  Only string fields (wire type 2) are needed here.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.flight as flight

_PREFIX = "type.googleapis.com/arrow.flight.protocol.sql."


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    return _varint(num << 3 | 2) + _varint(len(value)) + value


def command(message: str, **fields: tuple[int, str]) -> bytes:
    """Serialize ``Any{type_url, value=<message with the given (field number, string) fields>}``."""
    body = b"".join(_field(num, val) for num, val in fields.values() if val is not None)
    return _field(1, _PREFIX + message) + _field(2, body)


def statement_query(sql: str) -> bytes:
    return command("CommandStatementQuery", query=(1, sql))


def get_primary_keys(table: str, db_schema: str | None = None, catalog: str | None = None) -> bytes:
    return command(
        "CommandGetPrimaryKeys", catalog=(1, catalog), db_schema=(2, db_schema), table=(3, table)
    )


def fetch(client: flight.FlightClient, cmd: bytes, options: flight.FlightCallOptions | None = None) -> pa.Table:
    """GetFlightInfo for ``cmd`` then DoGet every endpoint; returns the concatenated table."""
    info = client.get_flight_info(flight.FlightDescriptor.for_command(cmd), options)
    tables = [client.do_get(ep.ticket, options).read_all() for ep in info.endpoints]
    if not tables:
        return info.schema.empty_table()
    return pa.concat_tables(tables)
