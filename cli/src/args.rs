//! The command line: every command, flag and help text. Spellings here are a contract that
//! scripts and other tools rely on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use streamhouse::Identifier;

const ABOUT: &str = "Streamhouse: Apache Paimon tables on a local disk or object storage";

const LONG_ABOUT: &str = "\
Streamhouse: Apache Paimon tables (spec v3) on a local disk or object storage.

One table is at the same time a change log, a set of sorted Parquet files, a primary-key index
and an LSM tree. Every write is one atomic commit that creates a new snapshot; every read sees
one snapshot.

New here? Run `streamhouse demo`.";

const EXAMPLES: &str = "\
Examples:
  streamhouse demo
  streamhouse create shop.orders --schema 'id BIGINT NOT NULL, item STRING, price DECIMAL(10, 2)' --primary-key id
  streamhouse write shop.orders --input orders.csv
  streamhouse scan shop.orders --output json
  streamhouse snapshots shop.orders
  streamhouse --warehouse s3://my-bucket/lake tables
  streamhouse scan shop.orders --stats     (what the scan cost in object-store requests)

Warehouse URLs: a local path (default ./warehouse), file:///abs/path, memory://name (this
process only), s3://bucket/prefix (configured from AWS_ENDPOINT_URL, AWS_REGION,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ALLOW_HTTP).

Exit codes: 0 success, 1 error (printed as `error: …`), 2 usage error, 75 transient failure
(storage trouble or a lost commit race: running again may succeed), 130 interrupted or
cancelled (nothing half-done is committed).";

#[derive(Debug, Parser)]
#[command(name = "streamhouse", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Where tables live: a local path, file://, memory://NAME or s3://BUCKET/PREFIX
    #[arg(
        long,
        global = true,
        env = "STREAMHOUSE_WAREHOUSE",
        default_value = "./warehouse",
        value_name = "URL"
    )]
    pub warehouse: String,

    /// After the command, print the object-store requests and bytes it cost, by kind, to
    /// stderr (and, for scan, how many files, row groups and pages were pruned)
    #[arg(long, global = true)]
    pub stats: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a table (and its database)
    #[command(long_about = CREATE_ABOUT, after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),
    /// Write rows from CSV, JSON lines or Parquet in one commit
    #[command(long_about = WRITE_ABOUT, after_help = WRITE_EXAMPLES)]
    Write(WriteArgs),
    /// Read a snapshot of a table as a table, CSV, JSON lines or Parquet
    #[command(long_about = SCAN_ABOUT, after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// List a table's snapshots: one per commit
    #[command(after_help = "Example:\n  streamhouse snapshots shop.orders --output json")]
    Snapshots(InspectArgs),
    /// Show a table's columns, keys and options
    #[command(after_help = "Example:\n  streamhouse schema shop.orders")]
    Schema(InspectArgs),
    /// List the data files a snapshot reads: partition, bucket, LSM level, rows, size
    #[command(after_help = "Example:\n  streamhouse files shop.orders --snapshot 3")]
    Files(FilesArgs),
    /// List the tables of the warehouse
    #[command(after_help = "Example:\n  streamhouse --warehouse ./warehouse tables")]
    Tables(TablesArgs),
    /// Walk through create, insert, update, delete, scan and time travel on a demo table
    #[command(long_about = DEMO_ABOUT, after_help = "Example:\n  streamhouse demo --warehouse /tmp/demo-warehouse")]
    Demo(DemoArgs),
    /// Compact a primary-key table once, or keep it compacted (--service)
    #[command(long_about = crate::commands::compact::COMPACT_ABOUT, after_help = crate::commands::compact::COMPACT_EXAMPLES)]
    Compact(crate::commands::compact::CompactArgs),
    /// Delete old snapshots and the files only they use
    #[command(long_about = crate::commands::maintenance::EXPIRE_ABOUT, after_help = crate::commands::maintenance::EXPIRE_EXAMPLES)]
    Expire(crate::commands::maintenance::ExpireArgs),
    /// Delete unreferenced files older than a safety window
    #[command(long_about = crate::commands::maintenance::ORPHANS_ABOUT, after_help = "Example:\n  streamhouse clean-orphans shop.orders --older-than 1d")]
    CleanOrphans(crate::commands::maintenance::CleanOrphansArgs),
    /// Look rows up by primary key, straight from the table's files
    #[command(long_about = crate::commands::get::GET_ABOUT, after_help = crate::commands::get::GET_EXAMPLES)]
    Get(crate::commands::get::GetArgs),
    /// Print a table's changes (+I, -U, +U, -D) from a position on, optionally following commits
    #[command(long_about = crate::commands::tail::TAIL_ABOUT, after_help = crate::commands::tail::TAIL_EXAMPLES)]
    Tail(crate::commands::tail::TailArgs),
    /// Create, list or delete tags: named snapshots kept for time travel (Paimon's tag/ files)
    #[command(subcommand, after_help = crate::commands::tag::TAG_EXAMPLES)]
    Tag(crate::commands::tag::TagCommand),
    /// Run SQL over the warehouse's tables (DataFusion), e.g. SELECT ... FROM db.t
    #[command(long_about = crate::commands::sql::SQL_ABOUT, after_help = crate::commands::sql::SQL_EXAMPLES)]
    Sql(crate::commands::sql::SqlArgs),
}

const CREATE_ABOUT: &str = "\
Create a table and, if needed, its database.

Columns are `NAME TYPE` pairs separated by commas. Types: BOOLEAN, TINYINT, SMALLINT, INT,
BIGINT, FLOAT, DOUBLE, DECIMAL(p, s), CHAR(n), VARCHAR(n), STRING, BINARY(n), VARBINARY(n),
BYTES, DATE, TIME(p), TIMESTAMP(p), TIMESTAMP(p) WITH LOCAL TIME ZONE, ARRAY<T>, MAP<K, V>,
ROW<name T, ...>; add NOT NULL to forbid nulls. Primary-key columns are always NOT NULL.

A table with a primary key keeps one row per key (a later write of a key replaces it; deletes
remove it). Without a primary key the table is an append-only log.

Buckets: a primary-key table is split by a hash of its key into a fixed number of buckets, each
an LSM tree. Unless you pass --option bucket=N, a primary-key table gets bucket=1, which suits
tables up to a few GB; give bigger tables more (about one bucket per 1 GB of data; the count
cannot change later). An append table defaults to bucket=-1 (no buckets).

Any Paimon table option can be given with --option, e.g. write-buffer-size=128mb,
target-file-size=64mb, merge-engine=partial-update, changelog-producer=input.";

const CREATE_EXAMPLES: &str = "\
Examples:
  streamhouse create shop.orders --schema 'id BIGINT NOT NULL, item STRING, price DECIMAL(10, 2)' --primary-key id
  streamhouse create shop.sales --schema 'dt STRING, id BIGINT, qty INT' --primary-key dt,id --partition-by dt --option bucket=4
  streamhouse create logs.events --schema 'ts TIMESTAMP(3), level STRING, msg STRING'";

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The table to create, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Columns: 'NAME TYPE [NOT NULL], ...'
    #[arg(long, value_name = "COLUMNS")]
    pub schema: String,
    /// Primary-key columns, comma separated
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub primary_key: Vec<String>,
    /// Partition columns, comma separated (of a primary-key table: part of the key)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub partition_by: Vec<String>,
    /// A table option KEY=VALUE (repeatable)
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = parse_option)]
    pub options: Vec<(String, String)>,
    /// Succeed without changes when the table already exists
    #[arg(long)]
    pub if_not_exists: bool,
}

const WRITE_ABOUT: &str = "\
Write rows to a table in one atomic commit: either every row becomes visible in one new
snapshot, or (on any error) nothing is committed.

Input columns are matched to table columns by name and converted to the column types; a missing
nullable column is NULL. An optional input column `rowkind` holds each row's change kind:
  +I  insert (the default)        +U  update: the new version of the row
  -U  update: the old version     -D  delete the row with this key
(Unless the table itself has a column named rowkind.) Input is streamed in batches, so any input
size works in bounded memory.

CSV: comma separated, a header row with the column names, quotes as in RFC 4180. An empty
field is NULL; a quoted empty field (\"\") is the empty string. Blank lines are skipped.
JSON: one object per line; a missing key or null is NULL.
Parquet: columns are cast to the table's types (reading stdin buffers the whole file).

Values, in CSV text and in JSON (the same forms `scan --output json|csv` prints):
  BOOLEAN             true / false
  integers, FLOAT,    numbers (strings holding numbers are accepted); NaN, Infinity,
  DOUBLE              -Infinity as strings
  DECIMAL(p, s)       \"12.30\" (a string keeps every digit) or a JSON number; at most s decimals
  CHAR/VARCHAR(n)     strings of at most n characters
  BINARY/BYTES        base64 (standard alphabet, padding optional)
  DATE                \"2024-01-31\"
  TIME(p)             \"13:45:00\" or \"13:45:00.250\"
  TIMESTAMP(p)        \"2024-01-31T13:45:00.123456\" (a space instead of T works; no zone)
  TIMESTAMP(p) WITH   \"2024-01-31T13:45:00Z\" or with an offset (+02:00); without one, UTC
   LOCAL TIME ZONE
  ARRAY, MAP, ROW     JSON arrays / objects (in CSV: the JSON text)
A value that does not fit its column (too big, too many decimals or fraction digits, too long,
NULL in a NOT NULL column) is an error naming the line and the column.

Prints the rows written, the files written and the new snapshot id.

Compaction: after its commit, `write` compacts the buckets it wrote (COMPACT snapshots), as
Paimon's writers do. Tables whose reads skip level 0 (merge-engine = first-row, deletion
vectors) and tables with changelog-producer = lookup get every level-0 file compacted before
`write` returns, so the rows are visible to scan, get and tail (and their changelog produced)
as soon as it ends. With the table option write-only = true the writer never compacts: such
rows stay in level 0 until `streamhouse compact` (or a service) compacts them, and scans of
first-row tables do not show them until then.

Streaming (--follow): reads newline-delimited JSON from stdin as it arrives and commits what it
has read every --commit-interval (only when there are new rows), at the end of the input, and on
Ctrl-C (or SIGTERM), then exits cleanly. A bad line stops the write with an error naming it;
the rows read before it are committed first. `streamhouse tail --follow` shows the commits
within a fraction of a second.";

const WRITE_EXAMPLES: &str = "\
Examples:
  streamhouse write shop.orders --input orders.csv
  streamhouse write shop.orders --input changes.json
  cat orders.parquet | streamhouse write shop.orders --format parquet
  echo '{\"id\": 7, \"item\": \"pear\", \"price\": \"1.25\"}' | streamhouse write shop.orders --format json
  echo '{\"id\": 7, \"rowkind\": \"-D\"}' | streamhouse write shop.orders --format json
  my-producer | streamhouse write shop.orders --format json --follow --commit-interval 200ms";

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The table to write to, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Input file, or - for stdin (the default)
    #[arg(long, short, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Input format; by default from the file extension (.csv, .json/.jsonl/.ndjson, .parquet)
    #[arg(long, short, value_enum)]
    pub format: Option<InputFormat>,
    /// Rows per batch handed to the writer
    #[arg(long, default_value_t = 65_536, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_rows: u32,
    /// Stream JSON lines from stdin, committing every --commit-interval until the input ends
    #[arg(long)]
    pub follow: bool,
    /// How often --follow commits what it has read
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "200ms",
        requires = "follow"
    )]
    pub commit_interval: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Json,
    Parquet,
}

impl InputFormat {
    /// The format a file's extension names (`.csv`; `.json`, `.jsonl`, `.ndjson`; `.parquet`,
    /// `.pq`), if any.
    pub fn of_path(path: &std::path::Path) -> Option<InputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(InputFormat::Csv),
            "json" | "jsonl" | "ndjson" => Some(InputFormat::Json),
            "parquet" | "pq" => Some(InputFormat::Parquet),
            _ => None,
        }
    }
}

const SCAN_ABOUT: &str = "\
Read the rows of a table as of one snapshot (the latest unless --snapshot is given): for a
primary-key table the newest version of every key, without deleted keys.

Output formats:
  table    an ASCII table for people (the default)
  csv      a header row, then one row per line; NULL is an empty field
  json     one object per line, in the value forms `streamhouse write` reads back
  parquet  the table's exact column types (to --out, or to a non-terminal stdout)
Output is streamed batch by batch.";

const SCAN_EXAMPLES: &str = "\
Examples:
  streamhouse scan shop.orders
  streamhouse scan shop.orders --columns id,price --limit 10
  streamhouse scan shop.orders --snapshot 2 --output json > orders-v2.json
  streamhouse scan shop.orders --output parquet --out orders.parquet
  streamhouse scan shop.orders --where \"id BETWEEN 10 AND 20 AND item IN ('pear', 'fig')\" --stats
  streamhouse scan shop.orders --as-of '2024-01-31 13:45:00'
  streamhouse scan shop.orders --tag release-1

--where: comparisons (=, <>, <, <=, >, >=), BETWEEN, IN (...), IS [NOT] NULL, AND, OR, NOT and
parentheses; one side of a comparison is a column, the other a literal: 42, -1.5, 'text' (''
for a quote), TRUE/FALSE, X'0aff', DATE '2024-01-31', TIMESTAMP '2024-01-31 13:45:00'. The
condition is pushed down: partitions, buckets, files, row groups and pages that cannot match
are not read (--stats shows how much was skipped).";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The table to read, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Columns to read, comma separated (default: all)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Snapshot id to read (default: the latest)
    #[arg(long, value_name = "ID", conflicts_with_all = ["as_of", "tag"])]
    pub snapshot: Option<i64>,
    /// Read the latest snapshot committed at or before this time ('2024-01-31 13:45:00',
    /// an RFC 3339 time with offset, or epoch milliseconds); local time without an offset
    #[arg(long, value_name = "TIMESTAMP", conflicts_with = "tag")]
    pub as_of: Option<String>,
    /// Read the snapshot of this tag (see `streamhouse tag`)
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,
    /// Only rows matching this condition, e.g. "id BETWEEN 10 AND 20 AND category = 'a'"
    #[arg(long = "where", value_name = "CONDITION")]
    pub filter: Option<String>,
    /// Read at most N rows
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = ScanOutput::Table)]
    pub output: ScanOutput,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanOutput {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoOutput {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Output format (json: one object per line)
    #[arg(long, short, value_enum, default_value_t = InfoOutput::Table)]
    pub output: InfoOutput,
}

#[derive(Debug, Args)]
pub struct FilesArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Snapshot id (default: the latest)
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<i64>,
    /// Output format (json: one object per line)
    #[arg(long, short, value_enum, default_value_t = InfoOutput::Table)]
    pub output: InfoOutput,
}

#[derive(Debug, Args)]
pub struct TablesArgs {
    /// Output format (json: one object per line)
    #[arg(long, short, value_enum, default_value_t = InfoOutput::Table)]
    pub output: InfoOutput,
}

const DEMO_ABOUT: &str = "\
Walk through what a Streamhouse table does, step by step, on a small primary-key table
demo.orders in the warehouse (--warehouse, default ./warehouse): create it, insert rows, update
one, delete one, scan the result, read an older snapshot (time travel) and list the snapshots.
Each step prints what it does, the rows involved and the snapshot it created, plus the
equivalent streamhouse command.

The demo replaces any previous demo.orders table, so it can run again and again. It never
touches other tables.";

#[derive(Debug, Args)]
pub struct DemoArgs {}

/// A `DB.TABLE` argument.
pub fn parse_identifier(s: &str) -> Result<Identifier, String> {
    Identifier::parse(s).map_err(|e| match e {
        streamhouse::Error::Invalid(m) => m,
        e => e.to_string(),
    })
}

/// A duration argument (`30s`, `10 min`, `1d`, …).
pub fn parse_duration_arg(s: &str) -> Result<std::time::Duration, String> {
    streamhouse::parse_duration(s).map_err(|e| e.to_string())
}

fn parse_option(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE (e.g. bucket=4)"))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(format!("{s:?} has an empty key"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_parse() {
        assert_eq!(
            parse_option("bucket = 4").unwrap(),
            ("bucket".into(), "4".into())
        );
        assert_eq!(parse_option("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_option("bucket").is_err());
        assert!(parse_option("=4").is_err());
    }
}
