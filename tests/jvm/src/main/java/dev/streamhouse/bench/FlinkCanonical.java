package dev.streamhouse.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.MultisetType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.Row;

/**
 * Flink's external row values (what {@code TableResult.collect()} yields) in the canonical row
 * form of {@link Canonical}: the same rendering per SQL type, from Java objects ({@code Long},
 * {@code BigDecimal}, {@code LocalDateTime}, {@code Instant}, {@code byte[]}, arrays, maps,
 * {@link Row}) instead of Paimon's internal values.
 */
final class FlinkCanonical {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private FlinkCanonical() {}

    /** One row as a JSON object {column name: canonical value}. */
    static ObjectNode row(Row row, List<String> names, List<LogicalType> types) {
        ObjectNode out = JSON.objectNode();
        for (int i = 0; i < names.size(); i++) {
            out.set(names.get(i), value(row.getField(i), types.get(i)));
        }
        return out;
    }

    static JsonNode value(Object v, LogicalType type) {
        if (v == null) {
            return JSON.nullNode();
        }
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return JSON.booleanNode((Boolean) v);
            case TINYINT:
            case SMALLINT:
            case INTEGER:
            case BIGINT:
                return JSON.numberNode(((Number) v).longValue());
            case FLOAT:
            case DOUBLE: {
                double x = ((Number) v).doubleValue();
                if (Double.isNaN(x)) {
                    return JSON.textNode("NaN");
                }
                if (Double.isInfinite(x)) {
                    return JSON.textNode(x > 0 ? "Infinity" : "-Infinity");
                }
                return JSON.numberNode(x);
            }
            case DECIMAL:
                return JSON.textNode(
                        ((BigDecimal) v).setScale(((DecimalType) type).getScale()).toPlainString());
            case CHAR:
            case VARCHAR:
                return JSON.textNode(v.toString());
            case BINARY:
            case VARBINARY:
                return JSON.textNode(Canonical.hex((byte[]) v));
            case DATE:
                return JSON.textNode(Canonical.date(((LocalDate) v).toEpochDay()));
            case TIME_WITHOUT_TIME_ZONE:
                return JSON.textNode(Canonical.timeOfDay(((LocalTime) v).toNanoOfDay(), 3));
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return JSON.textNode(timestamp((LocalDateTime) v));
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return JSON.textNode(
                        timestamp(LocalDateTime.ofInstant((Instant) v, ZoneOffset.UTC)) + "Z");
            case ARRAY: {
                LogicalType element = ((ArrayType) type).getElementType();
                ArrayNode out = JSON.arrayNode();
                for (int i = 0; i < Array.getLength(v); i++) {
                    out.add(value(Array.get(v, i), element));
                }
                return out;
            }
            case MULTISET: {
                LogicalType element = ((MultisetType) type).getElementType();
                ArrayNode out = JSON.arrayNode();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    for (int i = 0; i < ((Number) e.getValue()).intValue(); i++) {
                        out.add(value(e.getKey(), element));
                    }
                }
                return out;
            }
            case MAP: {
                MapType m = (MapType) type;
                ObjectNode out = JSON.objectNode();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    JsonNode key = value(e.getKey(), m.getKeyType());
                    out.set(key.isTextual() ? key.textValue() : key.toString(),
                            value(e.getValue(), m.getValueType()));
                }
                return out;
            }
            case ROW: {
                RowType r = (RowType) type;
                Row nested = (Row) v;
                ObjectNode out = JSON.objectNode();
                for (int i = 0; i < r.getFieldCount(); i++) {
                    out.set(r.getFieldNames().get(i), value(nested.getField(i), r.getTypeAt(i)));
                }
                return out;
            }
            default:
                throw new IllegalArgumentException(
                        "the canonical form has no rendering for Flink type " + type);
        }
    }

    private static String timestamp(LocalDateTime t) {
        return Canonical.date(t.toLocalDate().toEpochDay()) + "T"
                + Canonical.timeOfDay(t.toLocalTime().toNanoOfDay(), 6);
    }
}
