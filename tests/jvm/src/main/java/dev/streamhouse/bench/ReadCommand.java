package dev.streamhouse.bench;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.paimon.catalog.Catalog;
import org.apache.paimon.catalog.CatalogContext;
import org.apache.paimon.catalog.CatalogFactory;
import org.apache.paimon.catalog.Identifier;
import org.apache.paimon.data.InternalRow;
import org.apache.paimon.options.Options;
import org.apache.paimon.reader.RecordReader;
import org.apache.paimon.table.Table;
import org.apache.paimon.table.source.ReadBuilder;
import org.apache.paimon.table.source.Split;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.RowType;

/**
 * {@code read SPEC.json OUT_DIR}: batch-reads tables with Paimon's Java reader.
 *
 * <p>SPEC is {@code {"cases": [CASE, ...]}}, a CASE:
 *
 * <pre>
 * {
 *   "name": "pk_latest",              // output file stem: [A-Za-z0-9_.-]+, unique in SPEC
 *   "warehouse": "/tmp/wh",           // filesystem warehouse (a path or file:// URL)
 *   "table": "db.t",
 *   "snapshot": 3,                    // optional: scan.snapshot-id
 *   "tag": "t1",                      // optional: scan.tag-name
 *   "columns": ["b", "a"],            // optional projection, in this order
 *   "options": {"k": "v"},            // optional further dynamic table options
 *   "row_kind": true                  // optional: add "rowkind" ("+I", "-U", "+U", "-D")
 * }
 * </pre>
 *
 * <p>Every case reads all splits of one plan, and writes OUT_DIR/NAME.jsonl: one canonical row
 * per line (see {@link Canonical}), written to a temporary file first and renamed when
 * complete. A failing case writes OUT_DIR/NAME.error (its exception chain) instead, and the
 * next case runs.
 */
final class ReadCommand {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER) // shortest round-trip doubles
            .disable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    private ReadCommand() {}

    static void run(String specPath, String outDir) throws IOException {
        JsonNode spec = MAPPER.readTree(Paths.get(specPath).toFile());
        JsonNode cases = spec.get("cases");
        if (cases == null || !cases.isArray()) {
            throw new IllegalArgumentException(specPath + ": expected {\"cases\": [...]}");
        }
        Path out = Paths.get(outDir);
        Files.createDirectories(out);
        Map<String, Catalog> catalogs = new HashMap<>();
        try {
            for (JsonNode c : cases) {
                String name = CaseFiles.name(c);
                long started = System.nanoTime();
                try {
                    List<String> lines = readCase(c, catalogs);
                    CaseFiles.writeLines(out, name, lines);
                    System.err.printf("case %s: %d rows in %d ms%n", name, lines.size(),
                            (System.nanoTime() - started) / 1_000_000);
                } catch (Throwable t) {
                    CaseFiles.writeError(out, name, t);
                    System.err.printf("case %s: FAILED: %s%n", name, t);
                }
            }
        } finally {
            for (Catalog catalog : catalogs.values()) {
                try {
                    catalog.close();
                } catch (Exception e) {
                    // closing is best effort: every case's output is already written
                }
            }
        }
    }

    private static List<String> readCase(JsonNode c, Map<String, Catalog> catalogs) throws Exception {
        String warehouse = CaseFiles.text(c, "warehouse");
        Catalog catalog = catalogs.get(warehouse);
        if (catalog == null) {
            Options options = new Options();
            options.set("warehouse", warehouse);
            catalog = CatalogFactory.createCatalog(CatalogContext.create(options));
            catalogs.put(warehouse, catalog);
        }
        Table table = catalog.getTable(Identifier.fromString(CaseFiles.text(c, "table")));

        Map<String, String> dynamic = new LinkedHashMap<>();
        if (c.hasNonNull("snapshot")) {
            dynamic.put("scan.snapshot-id", Long.toString(c.get("snapshot").asLong()));
        }
        if (c.hasNonNull("tag")) {
            dynamic.put("scan.tag-name", c.get("tag").asText());
        }
        Iterator<Map.Entry<String, JsonNode>> extra = c.path("options").fields();
        while (extra.hasNext()) {
            Map.Entry<String, JsonNode> e = extra.next();
            dynamic.put(e.getKey(), e.getValue().asText());
        }
        if (!dynamic.isEmpty()) {
            table = table.copy(dynamic);
        }

        ReadBuilder builder = table.newReadBuilder();
        RowType rowType = table.rowType();
        List<DataField> fields = rowType.getFields();
        if (c.hasNonNull("columns")) {
            List<String> names = rowType.getFieldNames();
            int[] projection = new int[c.get("columns").size()];
            List<DataField> projected = new ArrayList<>();
            for (int i = 0; i < projection.length; i++) {
                String column = c.get("columns").get(i).asText();
                projection[i] = names.indexOf(column);
                if (projection[i] < 0) {
                    throw new IllegalArgumentException("no column " + column + " in " + names);
                }
                projected.add(fields.get(projection[i]));
            }
            builder = builder.withProjection(projection);
            fields = projected;
        }
        boolean withKind = c.path("row_kind").asBoolean(false);

        List<Split> splits = builder.newScan().plan().splits();
        List<String> lines = new ArrayList<>();
        final List<DataField> outFields = fields;
        try (RecordReader<InternalRow> reader = builder.newRead().createReader(splits)) {
            reader.forEachRemaining(row -> {
                ObjectNode json = Canonical.row(row, outFields);
                if (withKind) {
                    json.put("rowkind", row.getRowKind().shortString());
                }
                try {
                    lines.add(MAPPER.writeValueAsString(MAPPER.treeToValue(json, Object.class)));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        return lines;
    }

}
