"""Plain pyarrow.flight against the server: the Basic handshake and Bearer tokens."""

import pyarrow.flight as flight
import pytest

import flightsql_raw as raw
from conftest import ROOT_PASSWORD


@pytest.fixture
def client(uri):
    c = flight.FlightClient(uri)
    yield c
    c.close()


def test_basic_handshake_returns_bearer_header(client):
    key, value = client.authenticate_basic_token("root", ROOT_PASSWORD)
    assert key.lower() == b"authorization"
    assert value.startswith(b"Bearer ") and len(value) > len(b"Bearer ") + 10


def test_bearer_token_runs_a_flight_sql_query(client):
    header = client.authenticate_basic_token("root", ROOT_PASSWORD)
    opts = flight.FlightCallOptions(headers=[header])
    table = raw.fetch(client, raw.statement_query("SELECT 40 + 2 AS answer, 'hi' AS s"), opts)
    assert table.column_names == ["answer", "s"]
    assert table.to_pylist() == [{"answer": 42, "s": "hi"}]


def test_wrong_password_handshake_is_unauthenticated(client):
    with pytest.raises(flight.FlightUnauthenticatedError):
        client.authenticate_basic_token("root", "not-the-password")


def test_unknown_user_handshake_is_unauthenticated(client):
    with pytest.raises(flight.FlightUnauthenticatedError):
        client.authenticate_basic_token("nobody_here", "whatever")


def test_call_without_token_is_unauthenticated(client):
    with pytest.raises(flight.FlightUnauthenticatedError):
        raw.fetch(client, raw.statement_query("SELECT 1"))


def test_garbage_bearer_token_is_unauthenticated(client):
    opts = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer not.a.jwt")])
    with pytest.raises(flight.FlightUnauthenticatedError):
        raw.fetch(client, raw.statement_query("SELECT 1"), opts)
