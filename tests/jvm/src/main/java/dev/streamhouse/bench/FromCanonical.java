package dev.streamhouse.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.paimon.data.BinaryString;
import org.apache.paimon.data.Decimal;
import org.apache.paimon.data.GenericArray;
import org.apache.paimon.data.GenericMap;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.data.Timestamp;
import org.apache.paimon.types.ArrayType;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.DataType;
import org.apache.paimon.types.DataTypeFamily;
import org.apache.paimon.types.DecimalType;
import org.apache.paimon.types.MapType;
import org.apache.paimon.types.RowType;

/** Canonical JSON values (the form {@link Canonical} prints) as Paimon's internal values. */
final class FromCanonical {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private FromCanonical() {}

    static Object value(JsonNode v, DataType type) {
        if (v == null || v.isNull()) {
            return null;
        }
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return v.asBoolean();
            case TINYINT:
                return (byte) v.asInt();
            case SMALLINT:
                return (short) v.asInt();
            case INTEGER:
                return v.asInt();
            case BIGINT:
                return v.asLong();
            case FLOAT:
                return (float) floating(v);
            case DOUBLE:
                return floating(v);
            case DECIMAL: {
                DecimalType d = (DecimalType) type;
                return Decimal.fromBigDecimal(new BigDecimal(v.asText()), d.getPrecision(), d.getScale());
            }
            case CHAR:
            case VARCHAR:
                return BinaryString.fromString(v.asText());
            case BINARY:
            case VARBINARY:
                return unhex(v.asText());
            case DATE:
                return (int) LocalDate.parse(v.asText()).toEpochDay();
            case TIME_WITHOUT_TIME_ZONE:
                return (int) (LocalTime.parse(v.asText()).toNanoOfDay() / 1_000_000L);
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return Timestamp.fromLocalDateTime(LocalDateTime.parse(v.asText()));
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE: {
                String s = v.asText();
                if (!s.endsWith("Z")) {
                    throw new IllegalArgumentException("a TIMESTAMP_LTZ value ends with Z: " + s);
                }
                return Timestamp.fromLocalDateTime(LocalDateTime.parse(s.substring(0, s.length() - 1)));
            }
            case ARRAY: {
                DataType element = ((ArrayType) type).getElementType();
                Object[] items = new Object[v.size()];
                for (int i = 0; i < items.length; i++) {
                    items[i] = value(v.get(i), element);
                }
                return new GenericArray(items);
            }
            case MAP: {
                MapType m = (MapType) type;
                Map<Object, Object> map = new LinkedHashMap<>();
                Iterator<Map.Entry<String, JsonNode>> it = v.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    // Keys are JSON object keys: a string key as is, any other as its JSON text.
                    JsonNode key = m.getKeyType().is(DataTypeFamily.CHARACTER_STRING)
                            ? TextNode.valueOf(e.getKey())
                            : parse(e.getKey());
                    map.put(value(key, m.getKeyType()), value(e.getValue(), m.getValueType()));
                }
                return new GenericMap(map);
            }
            case ROW: {
                RowType r = (RowType) type;
                GenericRow row = new GenericRow(r.getFieldCount());
                for (int i = 0; i < r.getFieldCount(); i++) {
                    DataField f = r.getFields().get(i);
                    row.setField(i, value(v.get(f.name()), f.type()));
                }
                return row;
            }
            default:
                throw new IllegalArgumentException("no canonical input for type " + type);
        }
    }

    private static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException("bad map key " + json, e);
        }
    }

    private static double floating(JsonNode v) {
        if (v.isTextual()) {
            switch (v.asText()) {
                case "NaN":
                    return Double.NaN;
                case "Infinity":
                    return Double.POSITIVE_INFINITY;
                case "-Infinity":
                    return Double.NEGATIVE_INFINITY;
                default:
                    throw new IllegalArgumentException("not a canonical float: " + v);
            }
        }
        return v.asDouble();
    }

    private static byte[] unhex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
