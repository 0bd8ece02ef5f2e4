//! Typed table options, read from a schema's `options` map with Paimon's names and defaults.
//! This module is the only reader of the map: every option Streamhouse acts on is a field (or,
//! for per-column `fields.<column>.<suffix>` options, a method) of [`TableOptions`], and a known
//! option with a bad value is an error naming the key and the value when the table is created
//! and when it is opened. Unknown options are kept in the map (other engines may use them),
//! written back unchanged, and ignored here.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::stats::StatsMode;

/// An enum of an option's values, with `NAMES`: each value's name, the default first.
macro_rules! option_values {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            const NAMES: &'static [(&'static str, $name)] = &[$(($text, $name::$variant)),+];
        }
    };
}

option_values!(MergeEngine {
    Deduplicate = "deduplicate",
    PartialUpdate = "partial-update",
    Aggregation = "aggregation",
    FirstRow = "first-row",
});

option_values!(ChangelogProducer {
    None = "none",
    Input = "input",
    Lookup = "lookup",
    FullCompaction = "full-compaction",
});

/// The options Streamhouse acts on. Each field documents its Paimon option name.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// `bucket`: N > 0 fixed, -1 dynamic (PK) / unaware (append), -2 postpone. Default -1.
    pub bucket: i32,
    /// `bucket-key`: comma list; defaults to the trimmed primary key.
    pub bucket_key: Vec<String>,
    /// `file.format` (default parquet).
    pub file_format: String,
    /// `file.compression` (default zstd).
    pub file_compression: String,
    /// `file.compression.zstd-level` (default 1).
    pub zstd_level: i32,
    /// `manifest.compression` (default zstd).
    pub manifest_compression: String,
    /// `merge-engine` (default deduplicate).
    pub merge_engine: MergeEngine,
    /// `changelog-producer` (default none).
    pub changelog_producer: ChangelogProducer,
    /// `sequence.field`: user columns ordering records of one key before `_SEQUENCE_NUMBER`.
    pub sequence_fields: Vec<String>,
    /// `sequence.field.sort-order`: true when descending.
    pub sequence_descending: bool,
    /// `ignore-delete` (default false).
    pub ignore_delete: bool,
    /// `write-buffer-size` in bytes (default 256 mb).
    pub write_buffer_size: u64,
    /// `target-file-size` in bytes (default 128 mb for PK tables, 256 mb for append tables).
    pub target_file_size: u64,
    /// `metadata.stats-mode` (default truncate(16)).
    pub stats_mode: StatsMode,
    /// `commit.max-retries` (default 10).
    pub commit_max_retries: u32,
    /// `partition.default-name` (default `__DEFAULT_PARTITION__`).
    pub partition_default_name: String,
    /// `data-file.prefix` (default `data-`).
    pub data_file_prefix: String,
    /// `changelog-file.prefix` (default `changelog-`).
    pub changelog_file_prefix: String,
    /// `deletion-vectors.enabled` (default false).
    pub deletion_vectors: bool,
    /// `deletion-vectors.merge-on-read` (default false): batch reads of a deletion-vector
    /// table merge level 0 as well.
    pub deletion_vectors_merge_on_read: bool,
    /// `force-lookup` (default false): compaction looks up older levels as for `needs_lookup`.
    pub force_lookup: bool,
    /// `write-only` (default false).
    pub write_only: bool,
    /// `num-sorted-run.compaction-trigger` (default 5).
    pub compaction_trigger: u32,
    /// `num-sorted-run.stop-trigger` (default trigger + 3).
    pub stop_trigger: u32,
    /// `num-levels` (default trigger + 1).
    pub num_levels: u32,
    /// `rowkind.field`: a STRING column whose `+I/-U/+U/-D` sets the row kind on write.
    pub rowkind_field: Option<String>,
    /// `data-file.thin-mode` (default false).
    pub thin_mode: bool,
    /// `compaction.max-size-amplification-percent` (default 200).
    pub max_size_amplification_percent: u32,
    /// `compaction.size-ratio` (default 1).
    pub size_ratio: u32,
    /// `full-compaction.delta-commits`: a full compaction every N commits (default none).
    pub full_compaction_delta_commits: Option<u32>,
    /// `partial-update.remove-record-on-delete` (default false).
    pub partial_update_remove_record_on_delete: bool,
    /// `aggregation.remove-record-on-delete` (default false).
    pub aggregation_remove_record_on_delete: bool,
    /// `fields.default-aggregate-function`: the aggregation of columns that name none.
    pub default_aggregate_function: Option<String>,
    /// `snapshot.num-retained.min` (default 10).
    pub snapshot_num_retained_min: u64,
    /// `snapshot.num-retained.max` (default unlimited: `i32::MAX`).
    pub snapshot_num_retained_max: u64,
    /// `snapshot.time-retained` (default 1 h).
    pub snapshot_time_retained: std::time::Duration,
    /// `snapshot.expire.limit` (default 50).
    pub snapshot_expire_limit: u64,
    /// `data-evolution.enabled` (default false): files may hold different columns of the same
    /// rows (not read by this version).
    pub data_evolution: bool,
    /// `streaming-read-overwrite` (default false): a tail also reads OVERWRITE snapshots.
    pub streaming_read_overwrite: bool,
    /// `index-file-in-data-file-dir` (default false): index files live in bucket directories.
    pub index_file_in_data_file_dir: bool,
    /// `bucket-function.type` (default `default`), lower case.
    pub bucket_function_type: String,
    /// `dynamic-bucket.target-row-num` (default 2,000,000): keys per dynamic bucket before a
    /// writer opens another.
    pub dynamic_bucket_target_row_num: u64,
    /// `dynamic-bucket.max-buckets` (default -1, unbounded): dynamic buckets per partition.
    pub dynamic_bucket_max_buckets: Option<u32>,
    /// Every option as the schema holds it, unknown ones included (kept to be written back).
    raw: BTreeMap<String, String>,
}

/// Per-column options (`fields.<column>.<suffix>`) that are true/false.
const FIELD_FLAGS: [&str; 2] = ["distinct", "ignore-retract"];

/// The value of option `key` among `choices` (name, value); the first is the default.
fn one_of<T: Copy>(key: &str, value: Option<&str>, choices: &[(&str, T)]) -> Result<T> {
    let v = value.unwrap_or(choices[0].0);
    match choices.iter().find(|(name, _)| *name == v) {
        Some((_, t)) => Ok(*t),
        None => {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            Err(Error::invalid(format!(
                "option {key} = {v:?} is not one of {}",
                names.join(", ")
            )))
        }
    }
}

impl TableOptions {
    pub fn parse(raw: &BTreeMap<String, String>, has_primary_key: bool) -> Result<Self> {
        let get = |k: &str| raw.get(k).map(|v| v.trim());
        let int = |k: &str, d: i64| -> Result<i64> {
            match get(k) {
                None => Ok(d),
                Some(v) => v
                    .parse()
                    .map_err(|_| Error::invalid(format!("option {k} = {v:?} is not an integer"))),
            }
        };
        let boolean = |k: &str, d: bool| -> Result<bool> {
            match raw.get(k) {
                None => Ok(d),
                Some(v) => parse_bool(k, v),
            }
        };
        let size = |k: &str, d: u64| -> Result<u64> {
            match get(k) {
                None => Ok(d),
                Some(v) => {
                    parse_memory_size(v).map_err(|e| Error::invalid(format!("option {k}: {e}")))
                }
            }
        };
        let list = |k: &str| -> Vec<String> {
            get(k)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let merge_engine = one_of("merge-engine", get("merge-engine"), MergeEngine::NAMES)?;
        let changelog_producer = one_of(
            "changelog-producer",
            get("changelog-producer"),
            ChangelogProducer::NAMES,
        )?;
        let sequence_descending = one_of(
            "sequence.field.sort-order",
            get("sequence.field.sort-order"),
            &[("ascending", false), ("descending", true)],
        )?;
        let stats_mode = match get("metadata.stats-mode") {
            None => StatsMode::default(),
            Some(v) => v.parse::<StatsMode>()?,
        };
        let compaction_trigger = int("num-sorted-run.compaction-trigger", 5)?.max(1) as u32;
        let non_negative = |k: &str, d: i64| -> Result<u64> {
            let v = int(k, d)?;
            u64::try_from(v).map_err(|_| {
                Error::invalid(format!(
                    "option {k} = \"{v}\" is not a non-negative integer"
                ))
            })
        };
        let small = |k: &str, d: i64| -> Result<u32> {
            let v = non_negative(k, d)?;
            u32::try_from(v)
                .map_err(|_| Error::invalid(format!("option {k} = \"{v}\" is too large")))
        };
        let snapshot_time_retained = match get("snapshot.time-retained") {
            None => std::time::Duration::from_secs(3600),
            Some(v) => parse_duration(v)
                .map_err(|e| Error::invalid(format!("option snapshot.time-retained: {e}")))?,
        };
        let dynamic_bucket_max_buckets = match int("dynamic-bucket.max-buckets", -1)? {
            -1 => None,
            n if n > 0 && n <= i16::MAX as i64 => Some(n as u32),
            n => {
                return Err(Error::invalid(format!(
                    "option dynamic-bucket.max-buckets = \"{n}\" must be -1 (unbounded) or between 1 and 32767"
                )))
            }
        };
        let dynamic_bucket_target_row_num =
            match non_negative("dynamic-bucket.target-row-num", 2_000_000)? {
                0 => {
                    return Err(Error::invalid(
                        "option dynamic-bucket.target-row-num = \"0\" must be positive",
                    ))
                }
                n => n,
            };
        for (k, v) in raw {
            let flag = k
                .strip_prefix("fields.")
                .and_then(|rest| rest.rsplit_once('.'))
                .is_some_and(|(_, suffix)| FIELD_FLAGS.contains(&suffix));
            if flag {
                parse_bool(k, v)?;
            }
        }
        Ok(TableOptions {
            bucket: int("bucket", -1)? as i32,
            bucket_key: list("bucket-key"),
            file_format: get("file.format").unwrap_or("parquet").to_ascii_lowercase(),
            file_compression: get("file.compression")
                .unwrap_or("zstd")
                .to_ascii_lowercase(),
            zstd_level: int("file.compression.zstd-level", 1)? as i32,
            manifest_compression: get("manifest.compression")
                .unwrap_or("zstd")
                .to_ascii_lowercase(),
            merge_engine,
            changelog_producer,
            sequence_fields: list("sequence.field"),
            sequence_descending,
            ignore_delete: boolean("ignore-delete", false)?
                || boolean("first-row.ignore-delete", false)?
                || boolean("deduplicate.ignore-delete", false)?
                || boolean("partial-update.ignore-delete", false)?,
            write_buffer_size: size("write-buffer-size", 256 << 20)?,
            target_file_size: size(
                "target-file-size",
                if has_primary_key {
                    128 << 20
                } else {
                    256 << 20
                },
            )?,
            stats_mode,
            commit_max_retries: int("commit.max-retries", 10)?.max(0) as u32,
            partition_default_name: get("partition.default-name")
                .unwrap_or("__DEFAULT_PARTITION__")
                .to_string(),
            data_file_prefix: get("data-file.prefix").unwrap_or("data-").to_string(),
            changelog_file_prefix: get("changelog-file.prefix")
                .unwrap_or("changelog-")
                .to_string(),
            deletion_vectors: boolean("deletion-vectors.enabled", false)?,
            deletion_vectors_merge_on_read: boolean("deletion-vectors.merge-on-read", false)?,
            force_lookup: boolean("force-lookup", false)?,
            write_only: boolean("write-only", false)?,
            compaction_trigger,
            stop_trigger: int("num-sorted-run.stop-trigger", compaction_trigger as i64 + 3)? as u32,
            num_levels: int("num-levels", compaction_trigger as i64 + 1)? as u32,
            rowkind_field: get("rowkind.field").map(str::to_string),
            thin_mode: boolean("data-file.thin-mode", false)?,
            max_size_amplification_percent: small(
                "compaction.max-size-amplification-percent",
                200,
            )?,
            size_ratio: small("compaction.size-ratio", 1)?,
            full_compaction_delta_commits: match get("full-compaction.delta-commits") {
                None => None,
                Some(_) => Some(small("full-compaction.delta-commits", 0)?),
            },
            partial_update_remove_record_on_delete: boolean(
                "partial-update.remove-record-on-delete",
                false,
            )?,
            aggregation_remove_record_on_delete: boolean(
                "aggregation.remove-record-on-delete",
                false,
            )?,
            default_aggregate_function: get("fields.default-aggregate-function")
                .map(str::to_string),
            snapshot_num_retained_min: non_negative("snapshot.num-retained.min", 10)?,
            snapshot_num_retained_max: non_negative("snapshot.num-retained.max", i32::MAX as i64)?,
            snapshot_time_retained,
            snapshot_expire_limit: non_negative("snapshot.expire.limit", 50)?,
            data_evolution: boolean("data-evolution.enabled", false)?,
            streaming_read_overwrite: boolean("streaming-read-overwrite", false)?,
            index_file_in_data_file_dir: boolean("index-file-in-data-file-dir", false)?,
            bucket_function_type: get("bucket-function.type")
                .unwrap_or("default")
                .to_ascii_lowercase(),
            dynamic_bucket_target_row_num,
            dynamic_bucket_max_buckets,
            raw: raw.clone(),
        })
    }

    /// Whether batch reads of a primary-key table with these options ignore level-0 files
    /// (Java's `batchScanSkipLevel0`): deletion vectors (unless merge-on-read) and the
    /// first-row engine only see compacted data.
    pub fn batch_scan_skips_level0(&self) -> bool {
        (self.deletion_vectors && !self.deletion_vectors_merge_on_read)
            || self.merge_engine == MergeEngine::FirstRow
    }

    /// Whether compaction of a primary-key table looks up older levels and pushes every
    /// level-0 file up (Java's `needLookup`): the lookup changelog producer, the first-row
    /// engine, deletion vectors and `force-lookup`. A writer of such a table compacts level 0
    /// before its commit completes, so that what it wrote is visible to reads that skip level 0.
    pub fn needs_lookup(&self) -> bool {
        self.changelog_producer == ChangelogProducer::Lookup
            || self.merge_engine == MergeEngine::FirstRow
            || self.deletion_vectors
            || self.force_lookup
    }

    /// `fields.<field>.<suffix>`.
    pub fn field_option(&self, field: &str, suffix: &str) -> Option<&str> {
        self.raw
            .get(&format!("fields.{field}.{suffix}"))
            .map(|s| s.trim())
    }

    /// A true/false per-column option `fields.<field>.<suffix>` (`distinct`,
    /// `ignore-retract`), false when absent; [`TableOptions::parse`] has checked its value.
    pub fn field_flag(&self, field: &str, suffix: &str) -> bool {
        let key = format!("fields.{field}.{suffix}");
        self.raw
            .get(&key)
            .is_some_and(|v| matches!(parse_bool(&key, v), Ok(true)))
    }

    /// The first per-column option key `fields.<column>.<suffix>` the table sets, if any.
    pub fn first_field_option_key(&self, suffix: &str) -> Option<&str> {
        self.raw
            .keys()
            .find(|k| {
                k.strip_prefix("fields.")
                    .and_then(|rest| rest.strip_suffix(suffix))
                    .is_some_and(|column| column.len() > 1 && column.ends_with('.'))
            })
            .map(String::as_str)
    }

    /// Whether rows go to buckets by Paimon's default bucket function (`bucket-function.type`
    /// absent or `default`); only then can a key's bucket be computed and buckets pruned.
    pub fn default_bucket_function(&self) -> bool {
        self.bucket_function_type == "default"
    }

    /// Every option as the table's schema holds it, unknown ones included.
    pub fn all(&self) -> &BTreeMap<String, String> {
        &self.raw
    }
}

/// A true/false option value (case-insensitive, trimmed), or an error naming the key and the
/// value.
fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(format!(
            "option {key} = {value:?} is not true/false"
        ))),
    }
}

/// `v` as a whole number and the unit after it (lower case, trimmed; empty when none).
fn number_and_unit(v: &str, what: &str) -> Result<(u64, String)> {
    let t = v.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n = num
        .parse()
        .map_err(|_| Error::invalid(format!("{v:?} is not a {what}")))?;
    Ok((n, unit.trim().to_string()))
}

/// Parses Paimon memory sizes: `256 mb`, `128MB`, `64kb`, `1 gb`, `1024` (bytes).
pub fn parse_memory_size(v: &str) -> Result<u64> {
    let (n, unit) = number_and_unit(v, "memory size")?;
    let mult: u64 = match unit.as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => 1 << 10,
        "m" | "mb" | "mebibytes" => 1 << 20,
        "g" | "gb" | "gibibytes" => 1 << 30,
        "t" | "tb" | "tebibytes" => 1 << 40,
        u => return Err(Error::invalid(format!("{v:?}: unknown size unit {u:?}"))),
    };
    n.checked_mul(mult)
        .ok_or_else(|| Error::invalid(format!("{v:?} is too large")))
}

/// Parses durations as Paimon writes them: `1 h`, `30min`, `10 s`, `500ms`, `1d`, plain millis.
pub fn parse_duration(v: &str) -> Result<std::time::Duration> {
    let (n, unit) = number_and_unit(v, "duration")?;
    let ms: u64 = match unit.as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        u => {
            return Err(Error::invalid(format!(
                "{v:?}: unknown duration unit {u:?}"
            )))
        }
    };
    Ok(std::time::Duration::from_millis(n.saturating_mul(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)], pk: bool) -> Result<TableOptions> {
        TableOptions::parse(
            &kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pk,
        )
    }

    #[test]
    fn defaults_are_paimons() {
        let o = opts(&[], true).unwrap();
        assert_eq!(o.bucket, -1);
        assert_eq!(o.file_format, "parquet");
        assert_eq!(o.write_buffer_size, 256 << 20);
        assert_eq!(o.target_file_size, 128 << 20);
        assert_eq!(o.merge_engine, MergeEngine::Deduplicate);
        assert_eq!(o.compaction_trigger, 5);
        assert_eq!(o.stop_trigger, 8);
        assert_eq!(o.num_levels, 6);
        assert_eq!(o.commit_max_retries, 10);
        assert_eq!(o.stats_mode, StatsMode::default());
        assert_eq!(o.dynamic_bucket_target_row_num, 2_000_000);
        assert_eq!(o.dynamic_bucket_max_buckets, None);
        assert_eq!(opts(&[], false).unwrap().target_file_size, 256 << 20);
    }

    #[test]
    fn parses_values_and_rejects_bad_ones() {
        let o = opts(
            &[
                ("bucket", "4"),
                ("write-buffer-size", "64 mb"),
                ("merge-engine", "partial-update"),
                ("sequence.field", "ts, v"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(o.bucket, 4);
        assert_eq!(o.write_buffer_size, 64 << 20);
        assert_eq!(o.merge_engine, MergeEngine::PartialUpdate);
        assert_eq!(o.sequence_fields, vec!["ts", "v"]);
        assert!(opts(&[("bucket", "four")], true)
            .unwrap_err()
            .to_string()
            .contains("bucket"));
        assert!(opts(&[("merge-engine", "newest")], true).is_err());
        assert!(opts(&[("write-buffer-size", "12 parsecs")], true).is_err());
    }

    #[test]
    fn every_option_is_typed_and_unknown_ones_are_kept() {
        let o = opts(
            &[
                ("compaction.max-size-amplification-percent", "150"),
                ("compaction.size-ratio", "3"),
                ("full-compaction.delta-commits", "4"),
                ("aggregation.remove-record-on-delete", "TRUE"),
                ("fields.default-aggregate-function", "sum"),
                ("fields.v.distinct", "true"),
                ("fields.v.sequence-group", "w"),
                ("snapshot.num-retained.min", "2"),
                ("snapshot.time-retained", "5 min"),
                ("data-evolution.enabled", "false"),
                ("streaming-read-overwrite", "true"),
                ("bucket-function.type", "MOD"),
                ("some.engine.option", "kept"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(o.max_size_amplification_percent, 150);
        assert_eq!(o.size_ratio, 3);
        assert_eq!(o.full_compaction_delta_commits, Some(4));
        assert!(o.aggregation_remove_record_on_delete);
        assert!(!o.partial_update_remove_record_on_delete);
        assert_eq!(o.default_aggregate_function.as_deref(), Some("sum"));
        assert!(o.field_flag("v", "distinct"));
        assert!(!o.field_flag("v", "ignore-retract"));
        assert_eq!(
            o.first_field_option_key("sequence-group"),
            Some("fields.v.sequence-group")
        );
        assert_eq!(o.first_field_option_key("aggregate-function"), None);
        assert_eq!(o.snapshot_num_retained_min, 2);
        assert_eq!(o.snapshot_num_retained_max, i32::MAX as u64);
        assert_eq!(o.snapshot_time_retained.as_secs(), 300);
        assert!(!o.data_evolution && o.streaming_read_overwrite);
        assert!(!o.default_bucket_function());
        assert!(opts(&[], true).unwrap().default_bucket_function());
        assert_eq!(opts(&[], true).unwrap().full_compaction_delta_commits, None);
        // Unknown options stay in the map, to be written back.
        assert_eq!(o.all().get("some.engine.option").unwrap(), "kept");
    }

    #[test]
    fn a_bad_value_of_a_known_option_names_key_and_value() {
        for (key, value) in [
            ("compaction.size-ratio", "-1"),
            ("compaction.max-size-amplification-percent", "lots"),
            ("full-compaction.delta-commits", "often"),
            ("partial-update.remove-record-on-delete", "yes"),
            ("snapshot.num-retained.min", "-3"),
            ("snapshot.time-retained", "soon"),
            ("snapshot.expire.limit", "1.5"),
            ("data-evolution.enabled", "maybe"),
            ("streaming-read-overwrite", "1"),
            ("index-file-in-data-file-dir", "on"),
            ("fields.v.distinct", "yes"),
            ("fields.v.ignore-retract", "nope"),
            ("deletion-vectors.enabled", "enabled"),
            ("dynamic-bucket.target-row-num", "0"),
            ("dynamic-bucket.max-buckets", "0"),
            ("dynamic-bucket.max-buckets", "40000"),
        ] {
            let e = opts(&[(key, value)], true).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{key}: {e}");
            let text = e.to_string();
            assert!(text.contains(key) && text.contains(value), "{key}: {text}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1 h").unwrap().as_secs(), 3600);
        assert_eq!(parse_duration("200ms").unwrap().as_millis(), 200);
        assert!(parse_duration("soon").is_err());
    }
}
