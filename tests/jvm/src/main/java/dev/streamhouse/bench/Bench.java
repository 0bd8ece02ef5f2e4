package dev.streamhouse.bench;

import java.util.Arrays;

/**
 * The JVM test bench: Apache Paimon's Java library (and later its engines) run against tables
 * Streamhouse writes. One main class, one subcommand per job:
 *
 * <pre>
 *   read SPEC.json OUT_DIR   batch-read every case of SPEC with Paimon's Java reader
 *                            (see {@link ReadCommand}); OUT_DIR/&lt;name&gt;.jsonl per case,
 *                            or OUT_DIR/&lt;name&gt;.error when the case failed
 *   write SPEC.json          write tables with Paimon's Java writer (see {@link WriteCommand})
 *   flink SPEC.json OUT_DIR  Flink SQL statements and queries on a local mini-cluster (see
 *                            {@link FlinkCommand}); the same output files as read
 * </pre>
 *
 * Exit status: 0 when the command ran (failed cases are reported in their .error files), 1 when
 * the command itself could not run (bad SPEC, unwritable OUT_DIR), 2 on a usage error.
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            usage("no subcommand");
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "read":
                    if (rest.length != 2) {
                        usage("read takes SPEC.json OUT_DIR");
                    }
                    ReadCommand.run(rest[0], rest[1]);
                    break;
                case "write":
                    if (rest.length != 1) {
                        usage("write takes SPEC.json");
                    }
                    WriteCommand.run(rest[0]);
                    break;
                case "flink":
                    if (rest.length != 2) {
                        usage("flink takes SPEC.json OUT_DIR");
                    }
                    FlinkCommand.run(rest[0], rest[1]);
                    break;
                default:
                    usage("unknown subcommand " + args[0]);
            }
        } catch (Exception e) {
            System.err.println("bench " + args[0] + " failed:");
            e.printStackTrace();
            System.exit(1);
        }
        // Paimon may leave non-daemon executor threads behind.
        System.exit(0);
    }

    private static void usage(String problem) {
        System.err.println("bench: " + problem);
        System.err.println("usage: Bench read SPEC.json OUT_DIR | Bench write SPEC.json | Bench flink SPEC.json OUT_DIR");
        System.exit(2);
    }
}
