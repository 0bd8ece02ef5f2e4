"""The canonical row form shared by every interop check in Streamhouse's tests.

Rows of a table are compared across implementations (Streamhouse, pypaimon, the `paimon` crate,
a scenario's own expectation) as JSON values in ONE form. The Rust side implements the same rules
in `tests/support/src/lib.rs` (`arrow_rows_canonical`, crate streamhouse-test-support) and in
`tests/paimon-peer/src/canonical.rs`; keep the three in step.

A row is a JSON object {column name: value}. Values by column type:

  BOOLEAN                         true / false
  TINYINT SMALLINT INT BIGINT     JSON integer (exact, also beyond 2^53)
  FLOAT, DOUBLE                   JSON number; a FLOAT is widened exactly to double first
                                  (FLOAT 0.1 -> 0.10000000149011612); NaN, +inf, -inf are the
                                  strings "NaN", "Infinity", "-Infinity"
  DECIMAL(p, s)                   string, plain notation with exactly s fraction digits
                                  ("12.30", "-0.05", "7" when s = 0); never an exponent
  CHAR, VARCHAR, STRING           JSON string, as stored (no padding or trimming)
  BINARY, VARBINARY, BYTES        string of lowercase hex digits ("00ff10"; "" when empty)
  DATE                            "YYYY-MM-DD"
  TIME(p)                         "HH:MM:SS.fff" (3 fraction digits; 6 or 9 if a finer
                                  digit is non-zero)
  TIMESTAMP(p)                    "YYYY-MM-DDTHH:MM:SS.ffffff" (6 fraction digits; 9 if the
                                  nanosecond digits are non-zero), whatever p is
  TIMESTAMP_LTZ(p)                the UTC instant in the TIMESTAMP form followed by "Z"
  any NULL                        null

Years 0000..9999 are printed with 4 digits; other years with a sign and at least 4 digits
("+10000", "-0001"), proleptic Gregorian calendar. Instants before 1970 use floor division
(1969-12-31T23:59:59.999000 is -1 ms).

The fraction rule does not depend on the declared precision or on the Arrow unit used to carry the
value (pypaimon maps TIMESTAMP(3) to milliseconds, TIMESTAMP(0) to seconds), so any two readers of
the same stored value agree.

Row order: rows are sorted by their serialization `json.dumps(row, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`; on output each row is printed in exactly that form,
one per line. Consumers re-sort after parsing (float text may differ between languages, e.g.
"1e+20" vs "1e20", so ordering is only meaningful inside one language).
"""

import decimal
import json
import math

import pyarrow as pa

NANOS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_NANOS_PER_DAY = 86_400 * 1_000_000_000


def civil_from_days(days):
    """(year, month, day) of a day count since 1970-01-01, proleptic Gregorian."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def render_date(days):
    year, month, day = civil_from_days(days)
    if 0 <= year <= 9999:
        y = f"{year:04d}"
    else:
        y = f"{'+' if year > 0 else '-'}{abs(year):04d}"
    return f"{y}-{month:02d}-{day:02d}"


def render_fraction(nanos, min_digits):
    """`nanos` (0..10^9) as '.' + min_digits digits, widened to 6 or 9 digits when needed."""
    digits = min_digits
    if nanos % 1_000:
        digits = 9
    elif nanos % 1_000_000:
        digits = max(digits, 6)
    return "." + f"{nanos:09d}"[:digits]


def render_time_of_day(nanos_of_day, min_digits):
    secs, nanos = divmod(nanos_of_day, 1_000_000_000)
    hours, rest = divmod(secs, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}" + render_fraction(nanos, min_digits)


def render_timestamp(nanos_since_epoch, utc):
    days, nanos_of_day = divmod(nanos_since_epoch, _NANOS_PER_DAY)
    text = render_date(days) + "T" + render_time_of_day(nanos_of_day, 6)
    return text + "Z" if utc else text


def render_float(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return float(x)


def render_decimal(d, scale):
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        scaled = d.scaleb(scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"decimal {d} has more than {scale} fraction digits")
        unscaled = int(scaled)
    return render_unscaled_decimal(unscaled, scale)


def render_unscaled_decimal(unscaled, scale):
    sign = "-" if unscaled < 0 else ""
    digits = str(abs(unscaled))
    if scale == 0:
        return sign + digits
    digits = digits.rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def _as_int_list(arr, int_type):
    return arr.cast(int_type).to_pylist()


def render_column(arr):
    """Canonical values of one pyarrow Array (or ChunkedArray) as a Python list."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
    t = arr.type
    if pa.types.is_dictionary(t):
        return render_column(arr.dictionary_decode())
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return arr.to_pylist()
    if pa.types.is_floating(t):
        return [None if v is None else render_float(v) for v in arr.to_pylist()]
    if pa.types.is_decimal(t):
        return [None if v is None else render_decimal(v, t.scale) for v in arr.to_pylist()]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return arr.to_pylist()
    if (pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
            or pa.types.is_binary_view(t)):
        return [None if v is None else v.hex() for v in arr.to_pylist()]
    if pa.types.is_date32(t):
        return [None if v is None else render_date(v) for v in _as_int_list(arr, pa.int32())]
    if pa.types.is_date64(t):
        return [None if v is None else render_date(v // 86_400_000)
                for v in _as_int_list(arr, pa.int64())]
    if pa.types.is_time32(t) or pa.types.is_time64(t):
        scale = NANOS_PER_UNIT[t.unit]
        int_type = pa.int32() if pa.types.is_time32(t) else pa.int64()
        return [None if v is None else render_time_of_day(v * scale, 3)
                for v in _as_int_list(arr, int_type)]
    if pa.types.is_timestamp(t):
        scale = NANOS_PER_UNIT[t.unit]
        utc = t.tz is not None
        return [None if v is None else render_timestamp(v * scale, utc)
                for v in _as_int_list(arr, pa.int64())]
    raise TypeError(f"canonical form: unsupported Arrow type {t}")


def table_rows(table):
    """Canonical rows (unsorted dicts) of a pyarrow Table or RecordBatch."""
    names = table.schema.names
    columns = [render_column(table.column(i)) for i in range(len(names))]
    return [dict(zip(names, values)) for values in zip(*columns)] if columns else []


def row_line(row):
    """The one-line serialization rows are sorted by and printed in."""
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sorted_lines(rows):
    return sorted(row_line(r) for r in rows)


def print_rows(rows, out):
    for line in sorted_lines(rows):
        out.write(line + "\n")


def read_lines(text):
    """Parse JSON lines (as printed by any of the peers) back into rows; blank lines ignored."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
