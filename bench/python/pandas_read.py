"""The client half of the bench scenario pandas_10m (run by `make bench`).

Times, in this one Python process and interleaved, (a) a query's result read
into a pandas DataFrame through the ADBC Flight SQL DB-API driver and (b) the
same rows read from a local Parquet file with pyarrow into a DataFrame.
Prints one JSON object: {"ours": [seconds...], "local": [seconds...], ...}.
"""

import argparse
import json
import time

import adbc_driver_flightsql.dbapi as flightsql
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--parquet", required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    conn = flightsql.connect(args.uri, db_kwargs={"username": args.user, "password": args.password},
                             autocommit=True)

    def ours():
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(args.query)
            tbl = cur.fetch_arrow_table()
            out["ours_read"].append(time.perf_counter() - t0)
            df = tbl.to_pandas()
        out["schema_ours"] = str(tbl.schema).replace("\n", "; ")
        dt = time.perf_counter() - t0
        if len(df) != args.rows:
            raise SystemExit(f"ADBC read {len(df)} rows, want {args.rows}")
        return dt, list(df.columns), str(df.dtypes.to_dict())

    def local():
        t0 = time.perf_counter()
        tbl = pq.read_table(args.parquet)
        out["local_read"].append(time.perf_counter() - t0)
        df = tbl.to_pandas()
        dt = time.perf_counter() - t0
        out["schema_local"] = str(tbl.schema).replace("\n", "; ")
        if len(df) != args.rows:
            raise SystemExit(f"Parquet read {len(df)} rows, want {args.rows}")
        return dt, list(df.columns), str(df.dtypes.to_dict())

    out = {"ours_read": [], "local_read": []}
    # One untimed warm-up each, then interleaved repetitions.
    _, cols_ours, types_ours = ours()
    _, cols_local, types_local = local()
    if cols_ours != cols_local:
        raise SystemExit(f"columns differ: ADBC {cols_ours}, Parquet {cols_local}")
    out.update({"ours": [], "local": [], "ours_read": [], "local_read": [],
                "dtypes_ours": types_ours, "dtypes_local": types_local})
    for _ in range(args.reps):
        out["ours"].append(ours()[0])
        out["local"].append(local()[0])
    conn.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
