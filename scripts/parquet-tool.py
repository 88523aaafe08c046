#!/usr/bin/env python3
"""Independent Parquet readers and writers for the Parquet module's tests.

  parquet-tool.py dump FILE [pyarrow|duckdb|polars]   the file's columns and rows as canonical JSON lines
  parquet-tool.py dump-many OUTDIR ENGINE FILE...     the same for many files, into OUTDIR/<i>.jsonl (or .err)
  parquet-tool.py stats FILE                          row-group column statistics (pyarrow), JSON
  parquet-tool.py seeds DIR                           small files for Fuzz/parquet/seeds
  parquet-tool.py gen DIR                             writes a matrix of files with pyarrow, DuckDB, Polars

Canonical cells (shared with Tests/ParquetTests): null; "true"/"false"; integers (also dates as days,
timestamps and times in their unit) as decimal text; floats as "nan" or "f:<bits of the double>";
strings and decimals as text; bytes as "b:<hex>". Line 1 is {"columns": [[name, category], ...]}.
"""
import json
import math
import os
import struct
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def category(t):
    if isinstance(t, pa.BaseExtensionType):
        t = t.storage_type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or str(t) == "binary_view":
        return "binary"
    if pa.types.is_timestamp(t):
        return "timestamp[%s]" % t.unit
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_time(t):
        return "time[%s]" % t.unit
    if pa.types.is_decimal(t):
        return "decimal"
    return "unsupported:" + str(t)


def canonical_column(col, cat):
    if isinstance(col.type, pa.BaseExtensionType):
        col = col.storage
    if cat.startswith("timestamp") or cat.startswith("time["):
        col = col.cast(pa.int64())
    elif cat == "date":
        col = col.cast(pa.int32())
    out = []
    for v in col.to_pylist():
        out.append(canonical(v, cat))
    return out


def canonical(v, cat):
    if v is None:
        return None
    if cat == "boolean":
        return "true" if v else "false"
    if cat == "float":
        v = float(v)
        if math.isnan(v):
            return "nan"
        return "f:%d" % struct.unpack("<Q", struct.pack("<d", v))[0]
    if cat == "decimal":
        return format(v, "f")
    if cat == "binary":
        return "b:" + bytes(v).hex()
    if cat == "string":
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return str(int(v))


def table_for(path, engine):
    if engine == "pyarrow":
        return pq.read_table(path)
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        return con.sql("SELECT * FROM read_parquet('%s')" % path.replace("'", "''")).to_arrow_table()
    if engine == "polars":
        import polars as pl

        return pl.read_parquet(path).to_arrow()
    raise SystemExit("unknown engine " + engine)


def dump(path, engine, out=sys.stdout):
    table = table_for(path, engine)
    cats = [category(f.type) for f in table.schema]
    out.write(json.dumps({"columns": [[f.name, c] for f, c in zip(table.schema, cats)]}) + "\n")
    cols = []
    for i, c in enumerate(cats):
        cols.append(canonical_column(table.column(i).combine_chunks(), c) if not c.startswith("unsupported") else [None] * table.num_rows)
    for r in range(table.num_rows):
        out.write(json.dumps([col[r] for col in cols], ensure_ascii=False) + "\n")


def dump_many(outdir, engine, paths):
    """One process for many files: OUTDIR/<i>.jsonl, or OUTDIR/<i>.err with the reader's error."""
    os.makedirs(outdir, exist_ok=True)
    for i, path in enumerate(paths):
        try:
            with open(os.path.join(outdir, "%d.jsonl" % i), "w", encoding="utf-8") as f:
                dump(path, engine, f)
        except Exception as e:
            os.remove(os.path.join(outdir, "%d.jsonl" % i))
            with open(os.path.join(outdir, "%d.err" % i), "w", encoding="utf-8") as f:
                f.write("%s: %s" % (type(e).__name__, e))


def stats(path):
    f = pq.ParquetFile(path)
    md = f.metadata
    arrow_schema = f.schema_arrow
    out = []
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        cols = []
        for c in range(rg.num_columns):
            cc = rg.column(c)
            st = cc.statistics
            cat = category(arrow_schema.field(c).type)
            entry = {"name": cc.path_in_schema, "codec": cc.compression, "encodings": list(cc.encodings),
                     "physical": cc.physical_type}
            if st is not None:
                entry["null_count"] = st.null_count if st.has_null_count else None
                if st.has_min_max:
                    mn, mx = st.min, st.max
                    if cat.startswith("timestamp") or cat.startswith("time[") or cat == "date":
                        t = arrow_schema.field(c).type
                        target = pa.int32() if cat == "date" else pa.int64()
                        mn, mx = pa.scalar(mn, t).cast(target).as_py(), pa.scalar(mx, t).cast(target).as_py()
                    entry["min"] = canonical(mn, cat)
                    entry["max"] = canonical(mx, cat)
            cols.append(entry)
        out.append({"rows": rg.num_rows, "columns": cols})
    print(json.dumps({"row_groups": out, "created_by": md.created_by, "format_version": md.format_version}))


def sample_table(n=3000):
    import datetime
    import decimal

    ints = [None if i % 7 == 3 else (i * 7919) % 1000 - 500 for i in range(n)]
    ints[0], ints[1] = -(2**63), 2**63 - 1
    floats = [None if i % 11 == 5 else i / 3.0 for i in range(n)]
    floats[0:6] = [float("inf"), float("-inf"), float("nan"), -0.0, 1.7976931348623157e308, 5e-324]
    words = ["", "héllo", "日本語", "emoji 🎉", "plain", "a\"quote", "tab\there", "x" * 300]
    strings = [None if i % 13 == 4 else words[i % len(words)] + (str(i // 100) if i % 3 else "") for i in range(n)]
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    ts = [None if i % 17 == 2 else base + datetime.timedelta(seconds=i * 3601, microseconds=i) for i in range(n)]
    ts[0] = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)
    ts[1] = datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.timezone.utc)
    dates = [None if i % 19 == 1 else datetime.date(2000, 1, 1) + datetime.timedelta(days=i) for i in range(n)]
    return pa.table({
        "i64": pa.array(ints, pa.int64()),
        "i32": pa.array([None if v is None else max(min(v, 2**31 - 1), -(2**31)) for v in ints], pa.int32()),
        "f64": pa.array(floats, pa.float64()),
        "f32": pa.array([None if v is None else v for v in floats], pa.float32()),
        "flag": pa.array([None if i % 5 == 0 else i % 3 == 0 for i in range(n)], pa.bool_()),
        "s": pa.array(strings, pa.string()),
        "req": pa.array([f"row-{i}" for i in range(n)], pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "d": pa.array(dates, pa.date32()),
        "dec": pa.array([None if i % 9 == 0 else decimal.Decimal(i * 37 - 5000) / 100 for i in range(n)], pa.decimal128(12, 2)),
        "bin": pa.array([None if i % 6 == 0 else bytes([i % 256, (i * 3) % 256]) for i in range(n)], pa.binary()),
    }, schema=pa.schema([
        pa.field("i64", pa.int64()), pa.field("i32", pa.int32()), pa.field("f64", pa.float64()),
        pa.field("f32", pa.float32()), pa.field("flag", pa.bool_()), pa.field("s", pa.string()),
        pa.field("req", pa.string(), nullable=False), pa.field("ts", pa.timestamp("us", tz="UTC")),
        pa.field("d", pa.date32()), pa.field("dec", pa.decimal128(12, 2)), pa.field("bin", pa.binary()),
    ]))


def gen(directory):
    os.makedirs(directory, exist_ok=True)
    table = sample_table()
    written = []

    def attempt(name, fn):
        path = os.path.join(directory, name)
        try:
            fn(path)
            written.append(name)
        except Exception as e:  # a writer option this version lacks: say so, keep going
            print("skip %s: %s" % (name, e), file=sys.stderr)

    for codec in ["none", "snappy", "gzip", "zstd"]:
        for page in ["1.0", "2.0"]:
            for dictionary in [True, False]:
                attempt("pyarrow-%s-v%s-%s.parquet" % (codec, page[0], "dict" if dictionary else "plain"),
                        lambda p, c=codec, pg=page, d=dictionary: pq.write_table(
                            table, p, compression=c, data_page_version=pg, use_dictionary=d, data_page_size=4096))
    delta = {"i64": "DELTA_BINARY_PACKED", "i32": "DELTA_BINARY_PACKED", "s": "DELTA_LENGTH_BYTE_ARRAY",
             "req": "DELTA_BYTE_ARRAY", "bin": "DELTA_BYTE_ARRAY", "ts": "DELTA_BINARY_PACKED", "d": "DELTA_BINARY_PACKED",
             "f64": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT", "flag": "RLE"}
    for page in ["1.0", "2.0"]:
        attempt("pyarrow-delta-v%s.parquet" % page[0], lambda p, pg=page: pq.write_table(
            table, p, compression="zstd", data_page_version=pg, use_dictionary=False, column_encoding=delta,
            data_page_size=4096))
    bss = {"i64": "BYTE_STREAM_SPLIT", "i32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT",
           "dec": "BYTE_STREAM_SPLIT"}
    attempt("pyarrow-bss.parquet", lambda p: pq.write_table(
        table, p, compression="snappy", use_dictionary=False, column_encoding=bss, store_decimal_as_integer=False))
    attempt("pyarrow-int96.parquet", lambda p: pq.write_table(
        table, p, use_deprecated_int96_timestamps=True, compression="gzip"))
    attempt("pyarrow-decimal-int.parquet", lambda p: pq.write_table(table, p, store_decimal_as_integer=True))
    attempt("pyarrow-v1-format.parquet", lambda p: pq.write_table(table, p, version="1.0", compression="snappy"))
    attempt("pyarrow-rowgroups.parquet", lambda p: pq.write_table(table, p, row_group_size=700, compression="zstd"))

    import duckdb

    con = duckdb.connect()
    con.register("t", table)
    for codec in ["uncompressed", "snappy", "gzip", "zstd"]:
        attempt("duckdb-%s.parquet" % codec, lambda p, c=codec: con.execute(
            "COPY (SELECT * FROM t) TO '%s' (FORMAT parquet, COMPRESSION %s)" % (p, c)))
    attempt("duckdb-v2.parquet", lambda p: con.execute(
        "COPY (SELECT * FROM t) TO '%s' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2)" % p))
    attempt("duckdb-small-rowgroups.parquet", lambda p: con.execute(
        "COPY (SELECT * FROM t) TO '%s' (FORMAT parquet, ROW_GROUP_SIZE 1000)" % p))

    try:
        import polars as pl

        df = pl.from_arrow(table)
        for codec in ["uncompressed", "snappy", "gzip", "zstd"]:
            attempt("polars-%s.parquet" % codec, lambda p, c=codec: df.write_parquet(p, compression=c))
        attempt("polars-pyarrow.parquet", lambda p: df.write_parquet(p, use_pyarrow=True))
    except ImportError:
        print("skip polars: not installed", file=sys.stderr)
    for name in written:
        print(name)


def seeds(directory):
    """Small files (< 4 KiB, libFuzzer's -max_len) for Fuzz/parquet/seeds."""
    os.makedirs(directory, exist_ok=True)
    table = sample_table(24)
    small = table.select(["i64", "f64", "flag", "s", "ts", "dec"])
    pq.write_table(small, os.path.join(directory, "plain-v1.parquet"), compression="none", use_dictionary=False)
    pq.write_table(small, os.path.join(directory, "dict-v2-snappy.parquet"), compression="snappy", data_page_version="2.0")
    pq.write_table(small, os.path.join(directory, "zstd.parquet"), compression="zstd")
    pq.write_table(small, os.path.join(directory, "gzip.parquet"), compression="gzip", use_dictionary=False)
    pq.write_table(small, os.path.join(directory, "delta.parquet"), compression="none", use_dictionary=False,
                   column_encoding={"i64": "DELTA_BINARY_PACKED", "s": "DELTA_BYTE_ARRAY", "f64": "BYTE_STREAM_SPLIT",
                                    "ts": "DELTA_BINARY_PACKED", "flag": "RLE"})
    pq.write_table(table.select(["s", "bin"]), os.path.join(directory, "delta-length.parquet"), compression="none",
                   use_dictionary=False, column_encoding={"s": "DELTA_LENGTH_BYTE_ARRAY", "bin": "DELTA_BYTE_ARRAY"})
    pq.write_table(small, os.path.join(directory, "int96.parquet"), compression="none", use_deprecated_int96_timestamps=True)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "dump":
        dump(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "pyarrow")
    elif cmd == "dump-many":
        dump_many(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "stats":
        stats(sys.argv[2])
    elif cmd == "seeds":
        seeds(sys.argv[2])
    elif cmd == "gen":
        gen(sys.argv[2])
    else:
        raise SystemExit(__doc__)
