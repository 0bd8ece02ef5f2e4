package dev.streamhouse.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** What the subcommands share about specs and their cases' output files in OUT_DIR. */
final class CaseFiles {
    private CaseFiles() {}

    /** The case's "name", which names its output files: letters, digits, '_', '.', '-'. */
    static String name(JsonNode c) {
        String name = c.path("name").asText("");
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("bad case name " + c.path("name"));
        }
        return name;
    }

    /** Writes OUT_DIR/NAME.jsonl, one line each, whole or not at all (written aside, then moved). */
    static void writeLines(Path out, String name, List<String> lines) throws IOException {
        Path tmp = out.resolve(name + ".jsonl.tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (String line : lines) {
                w.write(line);
                w.write('\n');
            }
        }
        Files.move(tmp, out.resolve(name + ".jsonl"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Writes OUT_DIR/NAME.error: the failure's stack trace. */
    static void writeError(Path out, String name, Throwable t) throws IOException {
        StringWriter text = new StringWriter();
        t.printStackTrace(new PrintWriter(text));
        Files.writeString(out.resolve(name + ".error"), text.toString(), StandardCharsets.UTF_8);
    }

    /** The string `field` of `node`; an error naming the node when it is missing or not text. */
    static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("needs a string \"" + field + "\": " + node);
        }
        return v.asText();
    }
}
