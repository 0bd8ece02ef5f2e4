package dev.streamhouse.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import org.apache.paimon.data.DataGetters;
import org.apache.paimon.data.InternalArray;
import org.apache.paimon.data.InternalMap;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.data.Timestamp;
import org.apache.paimon.types.ArrayType;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.DataType;
import org.apache.paimon.types.DecimalType;
import org.apache.paimon.types.LocalZonedTimestampType;
import org.apache.paimon.types.MapType;
import org.apache.paimon.types.MultisetType;
import org.apache.paimon.types.RowType;
import org.apache.paimon.types.TimestampType;

/**
 * Paimon's internal values in the canonical row form every interop check of Streamhouse
 * compares (tests/python/canonical.py, tests/paimon-peer/src/canonical.rs):
 *
 * <ul>
 *   <li>BOOLEAN true/false; TINYINT..BIGINT JSON integers;
 *   <li>FLOAT widened exactly to double, FLOAT/DOUBLE as JSON numbers, NaN and infinities as
 *       the strings "NaN", "Infinity", "-Infinity";
 *   <li>DECIMAL(p, s) a plain string with exactly s fraction digits;
 *   <li>CHAR/VARCHAR/STRING as stored; BINARY/VARBINARY/BYTES lowercase hex;
 *   <li>DATE "YYYY-MM-DD" (years outside 0..9999 signed, at least 4 digits);
 *   <li>TIME "HH:MM:SS.fff" (6 or 9 digits only when a finer digit is set);
 *   <li>TIMESTAMP "YYYY-MM-DDTHH:MM:SS.ffffff" (9 digits when the nanoseconds are set),
 *       TIMESTAMP_LTZ the UTC instant in that form plus "Z";
 *   <li>nested (the form of tests/integration/java_support.rs): ARRAY and MULTISET a JSON
 *       array; MAP a JSON object whose keys are the canonical key values (a non-string key as
 *       its compact JSON text); ROW a JSON object by field name;
 *   <li>NULL null.
 * </ul>
 */
final class Canonical {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final long MILLIS_PER_DAY = 86_400_000L;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Canonical() {}

    /** One row as a JSON object {field name: canonical value}. */
    static ObjectNode row(InternalRow row, List<DataField> fields) {
        ObjectNode out = JSON.objectNode();
        for (int i = 0; i < fields.size(); i++) {
            DataField field = fields.get(i);
            out.set(field.name(), value(row, i, field.type()));
        }
        return out;
    }

    /** The value at `pos` of a row or array, of type `type`. */
    static JsonNode value(DataGetters g, int pos, DataType type) {
        if (g.isNullAt(pos)) {
            return JSON.nullNode();
        }
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return JSON.booleanNode(g.getBoolean(pos));
            case TINYINT:
                return JSON.numberNode((long) g.getByte(pos));
            case SMALLINT:
                return JSON.numberNode((long) g.getShort(pos));
            case INTEGER:
                return JSON.numberNode((long) g.getInt(pos));
            case BIGINT:
                return JSON.numberNode(g.getLong(pos));
            case FLOAT:
                return floating((double) g.getFloat(pos));
            case DOUBLE:
                return floating(g.getDouble(pos));
            case DECIMAL: {
                DecimalType d = (DecimalType) type;
                BigDecimal v = g.getDecimal(pos, d.getPrecision(), d.getScale()).toBigDecimal();
                return JSON.textNode(v.setScale(d.getScale()).toPlainString());
            }
            case CHAR:
            case VARCHAR:
                return JSON.textNode(g.getString(pos).toString());
            case BINARY:
            case VARBINARY:
                return JSON.textNode(hex(g.getBinary(pos)));
            case DATE:
                return JSON.textNode(date(g.getInt(pos)));
            case TIME_WITHOUT_TIME_ZONE:
                return JSON.textNode(timeOfDay((long) g.getInt(pos) * 1_000_000L, 3));
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return JSON.textNode(
                        timestamp(g.getTimestamp(pos, ((TimestampType) type).getPrecision())));
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return JSON.textNode(
                        timestamp(g.getTimestamp(pos, ((LocalZonedTimestampType) type).getPrecision()))
                                + "Z");
            case ARRAY:
                return array(g.getArray(pos), ((ArrayType) type).getElementType());
            case MULTISET:
                return array(g.getArray(pos), ((MultisetType) type).getElementType());
            case MAP: {
                MapType m = (MapType) type;
                InternalMap map = g.getMap(pos);
                InternalArray keys = map.keyArray();
                InternalArray values = map.valueArray();
                ObjectNode out = JSON.objectNode();
                for (int i = 0; i < map.size(); i++) {
                    JsonNode key = value(keys, i, m.getKeyType());
                    out.set(key.isTextual() ? key.textValue() : key.toString(),
                            value(values, i, m.getValueType()));
                }
                return out;
            }
            case ROW: {
                RowType r = (RowType) type;
                return row(g.getRow(pos, r.getFieldCount()), r.getFields());
            }
            default:
                throw new IllegalArgumentException(
                        "the canonical form has no rendering for type " + type);
        }
    }

    private static JsonNode array(InternalArray array, DataType element) {
        ArrayNode out = JSON.arrayNode();
        for (int i = 0; i < array.size(); i++) {
            out.add(value(array, i, element));
        }
        return out;
    }

    private static JsonNode floating(double x) {
        if (Double.isNaN(x)) {
            return JSON.textNode("NaN");
        }
        if (Double.isInfinite(x)) {
            return JSON.textNode(x > 0 ? "Infinity" : "-Infinity");
        }
        return JSON.numberNode(x);
    }

    static String hex(byte[] bytes) {
        char[] out = new char[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[bytes[i] & 0xf];
        }
        return new String(out);
    }

    /** "YYYY-MM-DD" of a day count since 1970-01-01, proleptic Gregorian (year 0 exists). */
    static String date(long epochDay) {
        LocalDate d = LocalDate.ofEpochDay(epochDay);
        int year = d.getYear();
        String y = (year >= 0 && year <= 9999)
                ? String.format("%04d", year)
                : (year > 0 ? "+" : "-") + String.format("%04d", Math.abs((long) year));
        return String.format("%s-%02d-%02d", y, d.getMonthValue(), d.getDayOfMonth());
    }

    /** "." and `minDigits` fraction digits of `nanos` (< 10^9), widened to 6 or 9 when needed. */
    static String fraction(long nanos, int minDigits) {
        int digits = minDigits;
        if (nanos % 1_000 != 0) {
            digits = 9;
        } else if (nanos % 1_000_000 != 0) {
            digits = Math.max(digits, 6);
        }
        return "." + String.format("%09d", nanos).substring(0, digits);
    }

    static String timeOfDay(long nanosOfDay, int minDigits) {
        long secs = nanosOfDay / 1_000_000_000L;
        long nanos = nanosOfDay % 1_000_000_000L;
        return String.format("%02d:%02d:%02d", secs / 3600, secs / 60 % 60, secs % 60)
                + fraction(nanos, minDigits);
    }

    /** "YYYY-MM-DDTHH:MM:SS.ffffff[fff]" of a Paimon timestamp (UTC for LTZ values). */
    static String timestamp(Timestamp ts) {
        long millis = ts.getMillisecond();
        long days = Math.floorDiv(millis, MILLIS_PER_DAY);
        long nanosOfDay = Math.floorMod(millis, MILLIS_PER_DAY) * 1_000_000L + ts.getNanoOfMillisecond();
        return date(days) + "T" + timeOfDay(nanosOfDay, 6);
    }
}
