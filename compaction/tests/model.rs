//! Model-based property test: random upserts, deletes, compactions (universal, full, in the
//! writer), expirations and orphan cleanups on a table; after every step the latest snapshot
//! reads exactly like a `BTreeMap` model, and at the end every snapshot that survived reads
//! like the model did when it was committed.

use crate::common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use streamhouse_compaction::{CompactOptions, CompactingWriter, Compactor};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::Table;

#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// One commit of upserts (Some) and deletes (None); `compacting` uses the in-writer
    /// compaction.
    Write {
        ops: Vec<(i64, Option<u8>)>,
        compacting: bool,
    },
    Compact {
        full: bool,
    },
    Expire {
        retain_min: u64,
    },
    CleanOrphans,
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (
            prop::collection::vec((0i64..40, prop::option::weighted(0.8, any::<u8>())), 1..30),
            any::<bool>()
        )
            .prop_map(|(ops, compacting)| Op::Write { ops, compacting }),
        2 => any::<bool>().prop_map(|full| Op::Compact { full }),
        1 => (1u64..4).prop_map(|retain_min| Op::Expire { retain_min }),
        1 => Just(Op::CleanOrphans),
    ]
}

pub(crate) async fn apply(table: &Table, op: &Op, model: &mut Model) {
    match op {
        Op::Write { ops, compacting } => {
            let ops: Vec<(i64, Option<String>)> = ops
                .iter()
                .map(|(k, v)| (*k, v.map(|v| format!("v{v}"))))
                .collect();
            apply_ops(model, &ops);
            if *compacting {
                let mut w = CompactingWriter::new(table.clone()).await.unwrap();
                commit_compacting(&mut w, &ops).await;
                w.close().await.unwrap();
            } else {
                commit_ops(table, &ops).await;
            }
        }
        Op::Compact { full } => {
            let c = Compactor::new(table.clone()).unwrap();
            c.compact_table(&CompactOptions {
                full: *full,
                ..Default::default()
            })
            .await
            .unwrap();
        }
        Op::Expire { retain_min } => {
            expire_keeping(table, *retain_min).await;
        }
        Op::CleanOrphans => {
            clean_orphans(table, std::time::Duration::ZERO, false)
                .await
                .unwrap();
        }
    }
}

async fn run_case(ops: Vec<Op>) {
    let table = memory_table(&[
        ("bucket", "2"),
        ("num-sorted-run.compaction-trigger", "3"),
        ("target-file-size", "2kb"),
    ])
    .await;
    let mut model = Model::new();
    let mut history: BTreeMap<i64, Model> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        apply(&table, op, &mut model).await;
        let got = read_map(&table, None).await;
        assert_eq!(got, model, "after step {i} ({op:?})");
        if let Some(latest) = table.latest_snapshot_id().await.unwrap() {
            let first_new = history.keys().next_back().map_or(1, |l| l + 1);
            for id in first_new..=latest {
                history.insert(id, model.clone());
            }
        }
    }
    for id in table.list_snapshot_ids().await.unwrap() {
        assert_eq!(
            read_map(&table, Some(id)).await,
            history[&id],
            "snapshot {id} after all steps {ops:?}"
        );
    }
}

proptest! {
    // PROPTEST_CASES raises the count for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn reads_always_equal_the_model(ops in prop::collection::vec(op(), 1..25)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_case(ops));
    }
}
