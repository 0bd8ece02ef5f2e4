package dev.streamhouse.bench;

/** {@code write SPEC.json}: tables written by Paimon's Java writer (not implemented yet). */
final class WriteCommand {
    private WriteCommand() {}

    static void run(String specPath) {
        throw new UnsupportedOperationException("write is not implemented yet (" + specPath + ")");
    }
}
