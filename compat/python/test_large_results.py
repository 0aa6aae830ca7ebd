"""Client-side half of the throughput benchmark: a 10M-row Arrow result."""

import time

import pyarrow.compute as pc

N = 10_000_000


def test_ten_million_rows_fetch_arrow_table(conn):
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(f"SELECT i, i * 2 AS j, i % 7 AS k FROM range({N}) t(i)")
        table = cur.fetch_arrow_table()
    elapsed = time.perf_counter() - t0
    print(f"\n10M rows x 3 BIGINT via fetch_arrow_table: {elapsed:.2f}s "
          f"({N / elapsed / 1e6:.1f} M rows/s, {table.nbytes / elapsed / 2**20:.0f} MiB/s)")
    assert table.num_rows == N
    assert table.column_names == ["i", "j", "k"]
    assert pc.sum(table["i"]).as_py() == N * (N - 1) // 2
    assert pc.sum(table["j"]).as_py() == N * (N - 1)
    full, rest = divmod(N, 7)
    assert pc.sum(table["k"]).as_py() == full * 21 + sum(range(rest))
