package dev.streamhouse.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.paimon.catalog.Catalog;
import org.apache.paimon.catalog.CatalogContext;
import org.apache.paimon.catalog.CatalogFactory;
import org.apache.paimon.catalog.Identifier;
import org.apache.paimon.data.GenericRow;
import org.apache.paimon.disk.IOManager;
import org.apache.paimon.options.Options;
import org.apache.paimon.schema.Schema;
import org.apache.paimon.table.Table;
import org.apache.paimon.table.sink.BatchTableCommit;
import org.apache.paimon.table.sink.BatchTableWrite;
import org.apache.paimon.table.sink.BatchWriteBuilder;
import org.apache.paimon.table.sink.CommitMessage;
import org.apache.paimon.types.DataField;
import org.apache.paimon.types.DataTypeJsonParser;
import org.apache.paimon.types.RowKind;
import org.apache.paimon.types.RowType;

/**
 * {@code write SPEC.json}: creates tables and commits rows with Paimon's Java writer
 * ({@code BatchWriteBuilder}, one builder per commit).
 *
 * <p>SPEC:
 *
 * <pre>
 * {
 *   "warehouse": "/tmp/wh",
 *   "tables": [{
 *     "table": "db.t",
 *     // Paimon schema JSON; without "fields" the table must exist and is written as it is,
 *     // with "options" as dynamic options of the write
 *     "fields": [{"id": 0, "name": "id", "type": "BIGINT NOT NULL"}, ...],
 *     "partition_keys": ["dt"], "primary_keys": ["dt", "id"],
 *     "options": {"bucket": "2"},
 *     "commits": [[{"rowkind": "+I", "id": 1, ...}, ...], ...]   // canonical rows + kind
 *   }]
 * }
 * </pre>
 *
 * <p>Rows are in the canonical form {@link Canonical} prints (a missing column is null,
 * "rowkind" defaults to "+I"). Any failure ends the command with exit status 1.
 */
final class WriteCommand {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final org.apache.paimon.shade.jackson2.com.fasterxml.jackson.databind.ObjectMapper
            PAIMON_JSON = new org.apache.paimon.shade.jackson2.com.fasterxml.jackson.databind.ObjectMapper();

    private WriteCommand() {}

    static void run(String specPath) throws Exception {
        JsonNode spec = MAPPER.readTree(Paths.get(specPath).toFile());
        Options options = new Options();
        options.set("warehouse", CaseFiles.text(spec, "warehouse"));
        // Spill and lookup files (lookup compaction, deletion vectors) go to a temporary directory.
        Path tmp = Files.createTempDirectory("streamhouse-bench-io");
        try (Catalog catalog = CatalogFactory.createCatalog(CatalogContext.create(options));
                IOManager io = IOManager.create(tmp.toString())) {
            for (JsonNode t : spec.path("tables")) {
                writeTable(catalog, io, t);
            }
        }
    }

    private static void writeTable(Catalog catalog, IOManager io, JsonNode t) throws Exception {
        Identifier id = Identifier.fromString(CaseFiles.text(t, "table"));
        Table table;
        if (t.hasNonNull("fields")) {
            createTable(catalog, id, t);
            table = catalog.getTable(id);
        } else {
            // An existing table: "options" are dynamic options of this write (e.g. write-only).
            table = catalog.getTable(id).copy(options(t));
        }
        RowType rowType = table.rowType();

        for (JsonNode commit : t.path("commits")) {
            BatchWriteBuilder builder = table.newBatchWriteBuilder();
            List<CommitMessage> messages;
            try (BatchTableWrite write = builder.newWrite()) {
                write.withIOManager(io);
                for (JsonNode row : commit) {
                    write.write(toRow(row, rowType));
                }
                messages = write.prepareCommit();
            }
            try (BatchTableCommit committer = builder.newCommit()) {
                committer.commit(messages);
            }
        }
        System.err.printf("table %s: %d commits%n", id.getFullName(), t.path("commits").size());
    }

    private static void createTable(Catalog catalog, Identifier id, JsonNode t) throws Exception {
        catalog.createDatabase(id.getDatabaseName(), true);
        Schema.Builder schema = Schema.newBuilder();
        for (JsonNode f : t.path("fields")) {
            DataField field = DataTypeJsonParser.parseDataField(PAIMON_JSON.readTree(f.toString()));
            schema.column(field.name(), field.type());
        }
        schema.partitionKeys(strings(t.path("partition_keys")));
        schema.primaryKey(strings(t.path("primary_keys")));
        schema.options(options(t));
        catalog.createTable(id, schema.build(), false);
    }

    private static Map<String, String> options(JsonNode t) {
        Map<String, String> options = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = t.path("options").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            options.put(e.getKey(), e.getValue().asText());
        }
        return options;
    }

    private static GenericRow toRow(JsonNode row, RowType rowType) {
        String kind = row.path("rowkind").asText("+I");
        GenericRow out = new GenericRow(RowKind.fromShortString(kind), rowType.getFieldCount());
        Iterator<String> names = row.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!name.equals("rowkind") && rowType.getFieldIndex(name) < 0) {
                throw new IllegalArgumentException("no column " + name + " for row " + row);
            }
        }
        for (int i = 0; i < rowType.getFieldCount(); i++) {
            DataField field = rowType.getFields().get(i);
            out.setField(i, FromCanonical.value(row.get(field.name()), field.type()));
        }
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : array) {
            out.add(s.asText());
        }
        return out;
    }
}
