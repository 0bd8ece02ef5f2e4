//! `get` equals what a full scan says: seeded random tables (hand-made runs at levels 1, 3 and
//! 5 plus many unmerged level-0 commits by the writer, every bucket, deletes and updates), for
//! every key ever written and keys never written, at the latest and at older snapshots.

use crate::lookup_support;

use lookup_support::*;
use streamhouse_format::datum::Datum;
use streamhouse_format::io::Table;
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};

/// Runs levels + commits on `table` and checks every key at the latest and an older snapshot.
async fn scenario(table: Table, seed: u64, g: Gen, with_levels: bool) {
    let mut rng = Rng(seed);
    if with_levels {
        write_level_runs(&table, &mut rng, g, &[(5, 1), (3, 2), (1, 1)]).await;
    }
    write_commits(&table, &mut rng, g, 6, (g.keys / 3) as usize).await;
    let middle = table.latest_snapshot_id().await.unwrap();
    write_commits(&table, &mut rng, g, 6, (g.keys / 4) as usize).await;
    if with_levels {
        // Every bucket holds every level.
        for (bucket, l) in levels(&table).await {
            assert_eq!(l, vec![0, 1, 3, 5], "levels of bucket {bucket:?}");
        }
    }
    let keys = all_keys(&table, g.keys);
    let handle = LookupHandle::open(&table, small_caches()).await.unwrap();
    let found = check_against_scan(&table, &handle, &keys, None).await;
    assert!(
        found > 0 && found < keys.len(),
        "{found} of {} found",
        keys.len()
    );
    let c = handle.counters();
    assert!(c.units_decoded > 0 && c.files_in_range > 0, "{c:?}");
    // Again, now from the caches (pages may have been evicted: small budgets).
    check_against_scan(&table, &handle, &keys, None).await;
    // An older snapshot.
    let old = LookupHandle::open_at(&table, middle.unwrap(), LookupOptions::default())
        .await
        .unwrap();
    check_against_scan(&table, &old, &keys, middle).await;
}

/// A write-only table (every commit stays at level 0) with these options besides.
async fn write_only(partition: &[&str], pk: &[&str], options: &[(&str, &str)]) -> Table {
    let options: Vec<(&str, &str)> = [("write-only", "true")]
        .into_iter()
        .chain(options.iter().copied())
        .collect();
    create(partition, pk, &options).await
}

/// Runs [`scenario`] (with levels) on a new write-only table.
async fn on_table(partition: &[&str], pk: &[&str], options: &[(&str, &str)], seed: u64, g: Gen) {
    scenario(write_only(partition, pk, options).await, seed, g, true).await;
}

#[tokio::test]
async fn deduplicate_int_key_three_buckets() {
    let g = Gen::new(240, true, true);
    for seed in [1, 2, 3] {
        on_table(&[], &["k"], &[("bucket", "3")], seed, g).await;
    }
}

#[tokio::test]
async fn composite_string_key() {
    let g = Gen::new(200, true, false);
    on_table(&[], &["k", "s"], &[("bucket", "2")], 21, g).await;
}

type Opt<'a> = (&'a str, &'a str);

/// The engines and options that combine a key's versions, each on its own table. First-row
/// skips level 0 like the scan; with `sequence.field`, `n` orders the versions and
/// `ignore-delete` drops retractions.
#[tokio::test]
async fn merge_engines_return_the_merged_row() {
    let sum = ("fields.n.aggregate-function", "sum");
    let max = ("fields.v.aggregate-function", "max");
    let sequence = [("sequence.field", "n"), ("ignore-delete", "true")];
    let cases: [(&str, &[Opt], u64, Gen); 4] = [
        ("partial-update", &[], 31, Gen::new(150, false, true)),
        ("aggregation", &[sum, max], 41, Gen::new(120, false, true)),
        ("first-row", &[], 51, Gen::new(120, false, true)),
        ("deduplicate", &sequence, 61, Gen::new(150, true, true)),
    ];
    for (engine, more, seed, g) in cases {
        eprintln!("merge-engine {engine} with {more:?}");
        let options: Vec<(&str, &str)> = [("bucket", "2"), ("merge-engine", engine)]
            .into_iter()
            .chain(more.iter().copied())
            .collect();
        on_table(&[], &["k"], &options, seed, g).await;
    }
}

#[tokio::test]
async fn partial_update_with_deletes_and_partitions() {
    let delete = ("partial-update.remove-record-on-delete", "true");
    let options = [("bucket", "2"), ("merge-engine", "partial-update"), delete];
    let g = Gen::new(150, true, true);
    on_table(&["dt"], &["dt", "k"], &options, 32, g).await;
}

#[tokio::test]
async fn overlapping_sequence_ranges_decide_by_sequence_not_file_order() {
    // Level-0 files (and levels) whose sequence ranges interleave: the first file holding a
    // key is often not the newest version of it.
    for seed in [5, 6] {
        let g = Gen::new(200, true, true);
        let t = write_only(&[], &["k"], &[("bucket", "2")]).await;
        let mut rng = Rng(seed);
        let runs = [(0, 1), (0, 2), (0, 1), (1, 2), (2, 1)];
        write_runs(&t, &mut rng, g, &runs, true).await;
        let keys = all_keys(&t, g.keys);
        let h = open_handle(&t).await;
        check_against_scan(&t, &h, &keys, None).await;
        write_commits(&t, &mut rng, g, 3, 40).await;
        h.refresh().await.unwrap();
        check_against_scan(&t, &h, &keys, None).await;
    }
}

#[tokio::test]
async fn partitioned_key_includes_the_partition() {
    let t = write_only(&["dt"], &["dt", "k"], &[("bucket", "2")]).await;
    scenario(t.clone(), 11, Gen::new(240, true, true), true).await;
    // A key whose partition never held it is absent.
    let h = open_handle(&t).await;
    let wrong_day = vec![Datum::String("2024-01-02".into()), Datum::BigInt(3)];
    assert!(h.get(&wrong_day).await.unwrap().is_none());
    let no_day = vec![Datum::String("1999-01-01".into()), Datum::BigInt(3)];
    assert!(h.get(&no_day).await.unwrap().is_none());
}

#[tokio::test]
async fn large_files_use_many_pages_and_stop_early() {
    // Thousands of keys per file: several pages per file, so the page index matters.
    let g = Gen::new(6000, true, true);
    let t = write_only(&[], &["k"], &[("bucket", "1")]).await;
    let mut rng = Rng(71);
    write_commits(&t, &mut rng, g, 4, 5000).await;
    let keys: Vec<Vec<Datum>> = (0..g.keys + 50)
        .step_by(13)
        .map(|k| full_key(&t, k))
        .collect();
    let h = open_handle(&t).await;
    check_against_scan(&t, &h, &keys, None).await;
    let c = h.counters();
    // A unit is a page: far fewer rows decoded than the files hold.
    assert!(c.units_decoded > 0);
    assert!(c.early_stops > 0, "{c:?}");
    assert!(c.bloom_skips > 0, "{c:?}");
    // Without bloom filters or page indexes the answers are the same.
    for (bloom, pages) in [(false, true), (true, false), (false, false)] {
        let h = LookupHandle::open(
            &t,
            LookupOptions {
                use_bloom_filters: bloom,
                use_page_index: pages,
                ..LookupOptions::default()
            },
        )
        .await
        .unwrap();
        check_against_scan(&t, &h, &keys[..60], None).await;
    }
}

#[tokio::test]
async fn refresh_picks_up_new_commits() {
    let g = Gen::new(50, false, false);
    let t = create(&[], &["k"], &[("bucket", "2")]).await;
    let h = open_handle(&t).await;
    assert_eq!(h.snapshot_id(), None);
    assert!(h.get(&[Datum::BigInt(1)]).await.unwrap().is_none());
    let mut rng = Rng(81);
    write_commits(&t, &mut rng, g, 2, 40).await;
    // Not yet: the handle answers from its snapshot until refreshed.
    assert!(h.get(&full_key(&t, 1)).await.unwrap().is_none());
    let id = h.refresh().await.unwrap();
    assert_eq!(id, t.latest_snapshot_id().await.unwrap());
    check_against_scan(&t, &h, &all_keys(&t, g.keys), None).await;

    // With an interval, the handle moves by itself.
    let auto = LookupHandle::open(
        &t,
        LookupOptions {
            refresh_interval: Some(std::time::Duration::ZERO),
            ..LookupOptions::default()
        },
    )
    .await
    .unwrap();
    write_commits(&t, &mut rng, g, 1, 40).await;
    check_against_scan(&t, &auto, &all_keys(&t, g.keys), None).await;
    assert_eq!(auto.snapshot_id(), t.latest_snapshot_id().await.unwrap());
}

#[tokio::test]
async fn bad_keys_are_errors_naming_the_columns() {
    let t = create(&["dt"], &["dt", "k"], &[("bucket", "2")]).await;
    let h = open_handle(&t).await;
    let e = h.get(&[Datum::BigInt(1)]).await.unwrap_err().to_string();
    assert!(e.contains("(dt, k)"), "{e}");
    let e = h
        .get(&[Datum::String("x".into()), Datum::String("y".into())])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("key column k"), "{e}");
    let append = create(&[], &[], &[]).await;
    let e = LookupHandle::open(&append, LookupOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no primary key"), "{e}");
}

#[tokio::test]
async fn missing_and_corrupt_data_files_are_errors_naming_them() {
    let g = Gen::new(40, false, false);
    let t = create(&[], &["k"], &[("bucket", "1")]).await;
    write_commits(&t, &mut Rng(91), g, 1, 40).await;
    let snap = t.snapshot_or_latest(None).await.unwrap().unwrap();
    let files = t.all_live_files(&snap).await.unwrap();
    let path = t.bucket_dir("", 0).join(files[0].file.file_name.as_str());
    // Truncated: the footer is gone.
    let bytes = t.io.read(&path).await.unwrap();
    t.io.write(&path, bytes.slice(..bytes.len() / 2))
        .await
        .unwrap();
    let h = open_handle(&t).await;
    let keys: Vec<_> = (0..g.keys).map(|k| full_key(&t, k)).collect();
    let e = h.get_many(&keys).await.unwrap_err().to_string();
    assert!(e.contains(&files[0].file.file_name), "{e}");
    // Missing.
    t.io.delete(&path).await.unwrap();
    let h = open_handle(&t).await;
    let e = h.get_many(&keys).await.unwrap_err().to_string();
    assert!(e.contains(&files[0].file.file_name), "{e}");
    assert!(e.contains("not found"), "{e}");
}
