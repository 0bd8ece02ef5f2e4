package dev.streamhouse.bench;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * {@code flink SPEC.json OUT_DIR}: Flink SQL (Flink 1.20, Paimon's Flink connector) on one
 * local mini-cluster in this JVM, against a Paimon catalog over one filesystem warehouse.
 *
 * <p>SPEC:
 *
 * <pre>
 * {
 *   "warehouse": "/tmp/wh",        // the catalog `wh` (type paimon), current in both modes
 *   "parallelism": 2,              // optional, default 2
 *   "checkpoint_ms": 1000,         // optional, the checkpoint interval of streaming
 *                                  // statements (streaming queries run without checkpoints)
 *   "cases": [CASE, ...]
 * }
 * </pre>
 *
 * a CASE:
 *
 * <pre>
 * {
 *   "name": "pk_latest",           // output file stem: [A-Za-z0-9_.-]+, unique in SPEC
 *   "mode": "batch",               // or "streaming" (default batch)
 *   "await_file": "/tmp/x/done",   // optional: start only once this file exists
 *   "statements": ["INSERT ..."],  // optional, run in order, each to its end (jobs awaited)
 *   "query_setup": ["CREATE TEMPORARY TABLE ..."], // optional DDL in the query's environment
 *   "query": "SELECT ...",         // optional: its rows are the case's output
 *   "row_kind": true,              // add "rowkind" (+I, -U, +U, -D); default: streaming mode
 *   "arrival": false,              // add "arrival_ms": epoch millis when the row arrived here
 *   "min_rows": 0,                 // bounds of the query: it ends at its own end, or after
 *   "max_rows": null,              //   max_rows rows, or quiet_ms without a row once it has
 *   "quiet_ms": 3000,              //   min_rows, or at timeout_ms (then "timed_out" in the
 *   "timeout_ms": 60000            //   stderr line); the job is cancelled
 * }
 * </pre>
 *
 * <p>Each case writes OUT_DIR/NAME.jsonl (the query's canonical rows in arrival order, see
 * {@link FlinkCanonical}; empty without a query), OUT_DIR/NAME.running once a statement's job
 * was submitted or the query's job runs (a test can start writing next to it then), or
 * OUT_DIR/NAME.error with the exception chain when it failed; the next case runs either way.
 * One stderr line per case: rows, time, how the query ended.
 */
final class FlinkCommand {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .disable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    /** Collector thread → case loop: a row (with its arrival time), the end, or a failure. */
    private static final class Item {
        final Row row;
        final long arrivalMs;
        final Throwable error;
        final boolean end;

        Item(Row row, long arrivalMs, Throwable error, boolean end) {
            this.row = row;
            this.arrivalMs = arrivalMs;
            this.error = error;
            this.end = end;
        }
    }

    private FlinkCommand() {}

    static void run(String specPath, String outDir) throws Exception {
        JsonNode spec = MAPPER.readTree(Paths.get(specPath).toFile());
        JsonNode cases = spec.get("cases");
        if (cases == null || !cases.isArray() || !spec.hasNonNull("warehouse")) {
            throw new IllegalArgumentException(
                    specPath + ": expected {\"warehouse\": ..., \"cases\": [...]}");
        }
        String warehouse = spec.get("warehouse").asText();
        int parallelism = spec.path("parallelism").asInt(2);
        long checkpointMs = spec.path("checkpoint_ms").asLong(1000);
        Path out = Paths.get(outDir);
        Files.createDirectories(out);

        long started = System.nanoTime();
        try (SharedMiniCluster cluster = new SharedMiniCluster(2 * parallelism + 2)) {
            System.err.printf("flink: mini-cluster up in %d ms%n", millisSince(started));
            // Created on first use: batch, streaming writes (checkpointed: Paimon's sink commits
            // on checkpoints), streaming reads (not checkpointed: a checkpointed collect sink
            // would hold every row back until the next checkpoint completes).
            Map<String, StreamTableEnvironment> envs = new HashMap<>();
            for (JsonNode c : cases) {
                String name = CaseFiles.name(c);
                long caseStarted = System.nanoTime();
                try {
                    boolean isStreaming = "streaming".equals(c.path("mode").asText("batch"));
                    String writeKind = isStreaming ? "streaming-write" : "batch";
                    String readKind = isStreaming ? "streaming-read" : "batch";
                    StreamTableEnvironment writeEnv = envs.computeIfAbsent(writeKind, k ->
                            environment(cluster, warehouse, parallelism, k, checkpointMs));
                    StreamTableEnvironment readEnv = envs.computeIfAbsent(readKind, k ->
                            environment(cluster, warehouse, parallelism, k, checkpointMs));
                    String ended = runCase(writeEnv, readEnv, c, isStreaming, out, name);
                    System.err.printf("case %s: %s in %d ms%n", name, ended, millisSince(caseStarted));
                } catch (Throwable t) {
                    CaseFiles.writeError(out, name, t);
                    System.err.printf("case %s: FAILED after %d ms: %s%n", name,
                            millisSince(caseStarted), t);
                }
            }
        }
        System.err.printf("flink: %d cases in %d ms%n", cases.size(), millisSince(started));
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /** A table environment of `kind`: batch, streaming-write or streaming-read. */
    private static StreamTableEnvironment environment(SharedMiniCluster cluster, String warehouse,
            int parallelism, String kind, long checkpointMs) {
        boolean streaming = !kind.equals("batch");
        Configuration conf = new Configuration();
        SharedMiniCluster.target(conf);
        conf.set(ExecutionOptions.RUNTIME_MODE,
                streaming ? RuntimeExecutionMode.STREAMING : RuntimeExecutionMode.BATCH);
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(
                cluster, conf, Thread.currentThread().getContextClassLoader());
        env.setParallelism(parallelism);
        if (kind.equals("streaming-write")) {
            env.enableCheckpointing(checkpointMs);
        }
        EnvironmentSettings settings = streaming
                ? EnvironmentSettings.inStreamingMode()
                : EnvironmentSettings.inBatchMode();
        StreamTableEnvironment tenv = StreamTableEnvironment.create(env, settings);
        // Batch: DML and procedures run to their end before executeSql returns (Paimon's CALL
        // procedures submit their job themselves and wait only under table.dml-sync).
        // Streaming: executeSql returns once the job is submitted; runCase awaits it.
        tenv.getConfig().set("table.dml-sync", streaming ? "false" : "true");
        tenv.executeSql("CREATE CATALOG wh WITH ('type' = 'paimon', 'warehouse' = '"
                + warehouse.replace("'", "''") + "')");
        tenv.executeSql("USE CATALOG wh");
        return tenv;
    }

    /** Runs one case; returns how its query ended. */
    private static String runCase(StreamTableEnvironment env, StreamTableEnvironment readEnv,
            JsonNode c, boolean streaming, Path out, String name) throws Exception {
        long timeoutMs = c.path("timeout_ms").asLong(60_000);
        if (c.hasNonNull("await_file")) {
            Path awaited = Paths.get(c.get("await_file").asText());
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (!Files.exists(awaited)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(awaited + " did not appear within "
                            + timeoutMs + " ms");
                }
                Thread.sleep(20);
            }
        }
        for (JsonNode statement : c.path("statements")) {
            TableResult result = env.executeSql(statement.asText());
            if (result.getJobClient().isPresent()) {
                Files.writeString(out.resolve(name + ".running"), "", StandardCharsets.UTF_8);
                JobClient job = result.getJobClient().get();
                try {
                    job.getJobExecutionResult().get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    job.cancel();
                    throw new IllegalStateException("statement ran longer than " + timeoutMs
                            + " ms and was cancelled: " + statement.asText());
                }
            } else if (result.getResultKind() == ResultKind.SUCCESS_WITH_CONTENT) {
                try (CloseableIterator<Row> rows = result.collect()) {
                    rows.forEachRemaining(r -> { });
                }
            }
        }
        List<String> lines = new ArrayList<>();
        String ended = "no query";
        for (JsonNode statement : c.path("query_setup")) {
            readEnv.executeSql(statement.asText()); // DDL only, e.g. a temporary source table
        }
        if (c.hasNonNull("query")) {
            ended = query(readEnv, c, streaming, out, name, lines, timeoutMs);
        }
        CaseFiles.writeLines(out, name, lines);
        return lines.size() + " rows, " + ended;
    }

    private static String query(StreamTableEnvironment env, JsonNode c, boolean streaming,
            Path out, String name, List<String> lines, long timeoutMs) throws Exception {
        boolean withKind = c.path("row_kind").asBoolean(streaming);
        boolean arrival = c.path("arrival").asBoolean(false);
        long minRows = c.path("min_rows").asLong(0);
        long maxRows = c.hasNonNull("max_rows") ? c.get("max_rows").asLong() : Long.MAX_VALUE;
        long quietMs = c.path("quiet_ms").asLong(3000);

        TableResult result = env.executeSql(c.get("query").asText());
        List<Column> columns = result.getResolvedSchema().getColumns();
        List<String> names = columns.stream().map(Column::getName).collect(Collectors.toList());
        List<LogicalType> types = columns.stream()
                .map(col -> col.getDataType().getLogicalType())
                .collect(Collectors.toList());
        JobClient job = result.getJobClient().orElse(null);
        CloseableIterator<Row> rows = result.collect();

        BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
        Thread collector = new Thread(() -> {
            try {
                while (rows.hasNext()) {
                    Row row = rows.next();
                    queue.add(new Item(row, System.currentTimeMillis(), null, false));
                }
                queue.add(new Item(null, 0, null, true));
            } catch (Throwable t) {
                queue.add(new Item(null, 0, t, true));
            }
        }, "collect-" + name);
        collector.setDaemon(true);
        collector.start();

        String ended;
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long lastRow = start;
        boolean markedRunning = false;
        try {
            while (true) {
                if (!markedRunning && job != null && isRunning(job)) {
                    Files.writeString(out.resolve(name + ".running"), "", StandardCharsets.UTF_8);
                    markedRunning = true;
                }
                long now = System.nanoTime();
                if (now >= deadline) {
                    ended = "timed_out";
                    break;
                }
                // A batch query runs to the end of its input (or the timeout): on a loaded
                // machine its first rows may take longer than any quiet period.
                if (streaming && lines.size() >= minRows
                        && now - lastRow >= TimeUnit.MILLISECONDS.toNanos(quietMs)) {
                    ended = "quiet";
                    break;
                }
                Item item = queue.poll(markedRunning || job == null ? 100 : 20, TimeUnit.MILLISECONDS);
                if (item == null) {
                    continue;
                }
                if (item.error != null) {
                    throw new RuntimeException("the query failed", item.error);
                }
                if (item.end) {
                    ended = "end of input";
                    break;
                }
                ObjectNode json = FlinkCanonical.row(item.row, names, types);
                if (withKind) {
                    json.put("rowkind", item.row.getKind().shortString());
                }
                if (arrival) {
                    json.put("arrival_ms", item.arrivalMs);
                }
                lines.add(MAPPER.writeValueAsString(MAPPER.treeToValue(json, Object.class)));
                lastRow = System.nanoTime();
                if (lines.size() >= maxRows) {
                    ended = "max_rows";
                    break;
                }
            }
        } finally {
            rows.close(); // cancels the job when it still runs
            if (job != null) {
                waitForEnd(job);
            }
        }
        return ended;
    }

    private static boolean isRunning(JobClient job) {
        try {
            JobStatus status = job.getJobStatus().get(5, TimeUnit.SECONDS);
            return status == JobStatus.RUNNING || status.isTerminalState();
        } catch (Exception e) {
            return false;
        }
    }

    /** Waits (bounded) until a finished or cancelled job has left the cluster. */
    private static void waitForEnd(JobClient job) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (job.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
                    return;
                }
            } catch (Exception e) {
                return; // the cluster no longer knows the job
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
