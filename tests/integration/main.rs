//! Workspace integration tests, one binary split into topic modules:
//!
//! - `fuzz_mutations`: the fuzz targets' bodies over seeded mutations of valid inputs;
//! - `hostile`: a generated corpus of malformed input and damaged table files;
//! - `pypaimon_reads_ours`: pypaimon reads tables our writer wrote (model = ours = pypaimon);
//! - `we_read_pypaimon`: we read every table pypaimon writes in `tests/python/pypaimon_write.py`;
//! - `java_reads_ours`: Apache Paimon's Java library (the JVM bench in `tests/jvm/`, helpers in
//!   `java_support`) reads every kind of table our writer and compactor write, in one JVM; we
//!   read what its writer writes; both writers update the same tables;
//! - `regressions`: inputs fuzzing found to crash a decoder;
//! - `s3`: the whole path against the moto S3 server `tests/run.sh` starts;
//! - `backends`: one conformance body (write, scan, tail, compact, expire, clean orphans) on
//!   local disk, `memory://` and S3;
//! - `bad_metadata`: damaged metadata and data files, a missing table, a failing commit;
//! - `concurrency`: four writer processes and two compaction services on one S3 table;
//! - `cli_writes_java_reads`: Java, pypaimon and our scan read first-row and nested tables the CLI wrote;
//! - `crash`: kill -9 of CLI writers and compaction services at seeded random moments;
//! - `cross_partition`: GET, scan, pypaimon and Java on a cross-partition table (bucket = -1);
//! - `follow_soak`: `write --follow` next to Java and CLI writers of the same table;
//! - `flink_reads_ours`: Flink 1.20 SQL (Paimon's Flink connector, the JVM bench's `flink`
//!   subcommand, helpers in `flink_support`) batch-reads every kind of table we write, with
//!   time travel, tags and system tables;
//! - `flink_streams_ours`: Flink's streaming read of our tables gives our tail's changes, for
//!   every changelog producer; a live read sees our commits (and the delay is reported);
//! - `flink_writes_we_read`: tables Flink SQL writes (streaming and batch) read by our scan, get
//!   and tail as Flink reads them;
//! - `fault_sweep`: every fault kind at every storage operation of write + commit, compaction +
//!   commit and expiration.
//!
//! Shared: `support` (tables, canonical rows, the merge model), `scenarios` (the catalogue of
//! tables our writer writes for pypaimon, Java and Flink to read), `java_support` and
//! `flink_support` (the JVM bench), `procs` (CLI processes).
//!
//! Run them with `bash tests/run.sh` (it provides pypaimon, S3 and the JVM bench); without that
//! environment the interop, Java and S3 tests skip loudly, and under `CI` they fail.

mod flink_support;
use streamhouse_test_support as interop_support;
mod java_support;
mod procs;
mod scenarios;
mod support;

mod backends;
mod bad_metadata;
mod cli_writes_java_reads;
mod concurrency;
mod crash;
mod cross_partition;
mod dv_writes;
mod dynamic_bucket_writes;
mod fault_sweep;
mod flink_reads_ours;
mod flink_streams_ours;
mod flink_writes_we_read;
mod follow_soak;
mod fuzz_mutations;
mod hostile;
mod java_reads_ours;
mod java_timestamps;
mod pypaimon_reads_ours;
mod regressions;
mod s3;
mod s3_load;
mod simulation;
mod we_read_pypaimon;
