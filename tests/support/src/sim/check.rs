//! The invariants, checked once a schedule has run (faults off, on a fresh view of the table
//! and on the archive of everything ever written):
//!
//! 1. snapshot ids are contiguous: every id ever published is `1..=N`, and the live ones are
//!    `E..=N`;
//! 2. each APPEND snapshot holds exactly the rows of one commit attempt, as written (with the
//!    commit user and identifier a staged writer chose); no commit landed twice; every
//!    acknowledged commit landed exactly once, in the snapshot its acknowledgement named; a
//!    commit that failed before committing is absent;
//! 3. every live snapshot and every tag reads the rows the commits before it wrote, folded
//!    (the merge-everything scan); at the latest snapshot a range scan with a predicate,
//!    `get_many` over every key (and some absent ones) and `get` agree with it;
//! 4. every data file a live snapshot or a tag needs exists (a missing one is blamed on the
//!    actor that deleted it); tags whose creation was acknowledged (and never deleted) exist;
//! 5. every consumer applied every snapshot `1..=N` exactly once, in order, each with exactly
//!    the changes the snapshot holds (and saw nothing else during the run).

use std::collections::{BTreeMap, BTreeSet};

use streamhouse::{CommitKind, Datum, StartPosition, Table, TailEvent};

use super::model::{apply, rows_of, state_of, Change, Outcome, State};
use super::rng::SimRng;
use super::world::World;

/// Runs every check; returns the violations (empty when the schedule is sound).
pub async fn check(w: &World, rng: &mut SimRng) -> Vec<String> {
    let mut v = w.log().violations.clone();
    if let Err(e) = check_all(w, rng, &mut v).await {
        v.push(e);
    }
    v
}

async fn check_all(w: &World, rng: &mut SimRng, v: &mut Vec<String>) -> Result<(), String> {
    let live = w.fresh_table().await?;
    let hist = w.history_table().await?;
    let err = |what: &str, e: streamhouse::Error| format!("{what}: {e}");

    // 1. Contiguous ids.
    let ever = hist
        .as_format_table()
        .list_snapshot_ids()
        .await
        .map_err(|e| err("history", e))?;
    let n = ever.last().copied().unwrap_or(0);
    if ever != (1..=n).collect::<Vec<_>>() {
        v.push(format!(
            "snapshot ids ever published are not 1..={n}: {ever:?}"
        ));
    }
    let now = live
        .as_format_table()
        .list_snapshot_ids()
        .await
        .map_err(|e| err("list", e))?;
    let first = now.first().copied().unwrap_or(1);
    if now != (first..=n).collect::<Vec<_>>() {
        v.push(format!(
            "live snapshot ids are not contiguous up to {n}: {now:?}"
        ));
    }

    // 2. Each snapshot against the commit attempts.
    let truth = changes_by_snapshot(&hist, n).await?;
    let commits = w.log().commits.clone();
    let by_token: BTreeMap<&str, _> = commits.iter().map(|c| (c.token.as_str(), c)).collect();
    let mut landed: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut states: BTreeMap<i64, State> = BTreeMap::new();
    let mut state = State::new();
    for id in 1..=n {
        let s = hist
            .snapshot(id)
            .await
            .map_err(|e| err("history snapshot", e))?;
        let changes = truth.get(&id).cloned().unwrap_or_default();
        match s.commit_kind {
            CommitKind::Append => {
                let tokens: BTreeSet<&str> = changes.iter().map(|c| c.tok.as_str()).collect();
                let Some(tok) = tokens.first().filter(|_| tokens.len() == 1) else {
                    v.push(format!(
                        "snapshot {id} (APPEND) holds rows of commits {tokens:?}"
                    ));
                    continue;
                };
                landed.entry(tok.to_string()).or_default().push(id);
                match by_token.get(tok) {
                    None => v.push(format!("snapshot {id} holds rows of unknown commit {tok}")),
                    Some(c) if c.changes != changes => v.push(format!(
                        "snapshot {id} holds other rows than commit {tok} wrote ({} rows, {} written)",
                        changes.len(),
                        c.changes.len()
                    )),
                    Some(c) => {
                        if let Some((user, ident)) = &c.user {
                            if s.commit_user != *user || s.commit_identifier != *ident {
                                v.push(format!(
                                    "snapshot {id} holds commit {tok} as ({}, {}), committed as ({user}, {ident})",
                                    s.commit_user, s.commit_identifier
                                ));
                            }
                        }
                    }
                }
                apply(&mut state, &changes);
            }
            CommitKind::Compact => {
                if !changes.is_empty() {
                    v.push(format!(
                        "COMPACT snapshot {id} has {} changes",
                        changes.len()
                    ));
                }
            }
            other => v.push(format!(
                "snapshot {id} is a {other:?} commit; nothing made one"
            )),
        }
        states.insert(id, state.clone());
    }
    for c in &commits {
        let at = landed.get(&c.token).cloned().unwrap_or_default();
        let who = format!("commit {} ({} rows)", c.token, c.changes.len());
        match &c.outcome {
            Outcome::Acked(ids) => {
                if at.len() != 1 {
                    v.push(format!(
                        "acknowledged {who} landed {} times: {at:?}",
                        at.len()
                    ));
                } else if !ids.contains(&at[0]) {
                    v.push(format!(
                        "{who} was acknowledged as snapshot {ids:?} but landed as snapshot {}",
                        at[0]
                    ));
                }
            }
            Outcome::Failed(_) if at.len() > 1 => {
                v.push(format!("failed {who} landed {} times: {at:?}", at.len()));
            }
            Outcome::NotCommitted(e) if !at.is_empty() => {
                v.push(format!(
                    "{who} failed before committing ({e}) but landed: {at:?}"
                ));
            }
            _ => {}
        }
    }

    // 3. Reads, and 4. files.
    let empty = State::new();
    // The earliest and the latest live snapshot (every one costs a scan).
    let mut reads: Vec<i64> = now
        .iter()
        .copied()
        .take(1)
        .chain(now.last().copied())
        .collect();
    reads.dedup();
    for id in &reads {
        let expected = states.get(id).unwrap_or(&empty);
        let got = read(&live, live.scan().snapshot(*id)).await;
        compare(v, &format!("scan of snapshot {id}"), got, expected);
        let snapshot = live.snapshot(*id).await.map_err(|e| err("snapshot", e))?;
        files_exist(w, &live, &snapshot, &format!("snapshot {id}"), v).await?;
    }
    let tags = live
        .as_format_table()
        .list_tags()
        .await
        .map_err(|e| err("tags", e))?;
    for tag in &tags {
        let expected = states.get(&tag.snapshot.id).unwrap_or(&empty);
        let got = read(&live, live.scan().tag(tag.name.clone())).await;
        compare(v, &format!("scan of tag {}", tag.name), got, expected);
        files_exist(w, &live, &tag.snapshot, &format!("tag {}", tag.name), v).await?;
    }
    for (name, id) in w.log().tags.iter() {
        if !tags.iter().any(|t| &t.name == name && t.snapshot.id == *id) {
            v.push(format!(
                "acknowledged tag {name} of snapshot {id} is missing"
            ));
        }
    }
    let latest = states.get(&n).unwrap_or(&empty);
    fast_paths(w, &live, latest, rng, v).await;

    // 5. Consumers.
    for c in w.log().consumers.iter() {
        let ids: Vec<i64> = c.applied.keys().copied().collect();
        if ids != (1..=n).collect::<Vec<_>>() {
            v.push(format!(
                "consumer {} applied snapshots {ids:?}, not 1..={n}",
                c.id
            ));
        }
        for (id, changes) in &c.applied {
            if truth.get(id).map_or(!changes.is_empty(), |t| t != changes) {
                v.push(format!(
                    "consumer {} saw other changes in snapshot {id} than it holds",
                    c.id
                ));
            }
        }
    }
    Ok(())
}

/// Every snapshot's changes (sorted), read by a tail over the archive.
async fn changes_by_snapshot(hist: &Table, n: i64) -> Result<BTreeMap<i64, Vec<Change>>, String> {
    let mut out: BTreeMap<i64, Vec<Change>> = BTreeMap::new();
    if n == 0 {
        return Ok(out);
    }
    let mut tail = hist
        .tail()
        .from(StartPosition::FromSnapshot(1))
        .until_snapshot(n)
        .open()
        .await
        .map_err(|e| format!("history tail: {e}"))?;
    while let Some(event) = tail
        .next()
        .await
        .map_err(|e| format!("history tail: {e}"))?
    {
        match event {
            TailEvent::Changes(b) => {
                let into = out.entry(b.snapshot_id).or_default();
                for (i, (k, v, tok)) in rows_of(&b.rows)?.into_iter().enumerate() {
                    into.push(Change {
                        kind: b.kind(i),
                        k,
                        v,
                        tok,
                    });
                }
            }
            TailEvent::SnapshotEnd(info) => out.entry(info.id).or_default().sort(),
        }
    }
    Ok(out)
}

async fn read(t: &Table, scan: streamhouse::Scan) -> Result<State, String> {
    let _ = t;
    let batches = scan.collect().await.map_err(|e| e.to_string())?;
    state_of(&batches)
}

fn compare(v: &mut Vec<String>, what: &str, got: Result<State, String>, expected: &State) {
    match got {
        Err(e) => v.push(format!("{what} failed: {e}")),
        Ok(got) if got != *expected => v.push(format!(
            "{what} differs from the commits: {}",
            diff(&got, expected)
        )),
        Ok(_) => {}
    }
}

fn diff(got: &State, expected: &State) -> String {
    let keys: BTreeSet<&i64> = got.keys().chain(expected.keys()).collect();
    let bad: Vec<String> = keys
        .into_iter()
        .filter(|k| got.get(k) != expected.get(k))
        .take(4)
        .map(|k| {
            format!(
                "key {k}: read {:?}, expected {:?}",
                got.get(k),
                expected.get(k)
            )
        })
        .collect();
    bad.join("; ")
}

async fn files_exist(
    w: &World,
    live: &Table,
    snapshot: &streamhouse::Snapshot,
    what: &str,
    v: &mut Vec<String>,
) -> Result<(), String> {
    let t = live.as_format_table();
    let entries = t
        .all_live_files(snapshot)
        .await
        .map_err(|e| format!("files of {what}: {e}"))?;
    for e in entries {
        let dir = t.partition_dir(&e.partition).map_err(|e| e.to_string())?;
        let path = t.bucket_dir(&dir, e.bucket).join(e.file.file_name.as_str());
        if !w.store.exists(&path).await {
            let blame = match w.store.deletion(path.as_ref()) {
                Some(d) => format!(
                    "deleted by {} at +{} ms",
                    d.by,
                    d.at_millis - super::world::START_MILLIS
                ),
                None => "never written or deleted unrecorded".into(),
            };
            v.push(format!("{what} needs {path}, which is missing: {blame}"));
        }
    }
    Ok(())
}

/// The latest snapshot through the fast paths: a range scan with a predicate, `get_many` and
/// `get`.
async fn fast_paths(
    w: &World,
    live: &Table,
    expected: &State,
    rng: &mut SimRng,
    v: &mut Vec<String>,
) {
    let keys = w.plan.keys;
    let lo = rng.below(keys as u64) as i64;
    let hi = lo + rng.between(1, keys as u64) as i64;
    let got = read(live, live.scan().filter(format!("k >= {lo} AND k < {hi}"))).await;
    let want: State = expected
        .range(lo..hi)
        .map(|(k, x)| (*k, x.clone()))
        .collect();
    compare(v, &format!("range scan k in {lo}..{hi}"), got, &want);

    let probe: Vec<i64> = (-1..keys + 2).collect();
    let asked: Vec<Vec<Datum>> = probe.iter().map(|k| vec![Datum::BigInt(*k)]).collect();
    match live.get_many(&asked).await {
        Err(e) => v.push(format!("get_many failed: {e}")),
        Ok(r) => match rows_of(&r.rows) {
            Err(e) => v.push(format!("get_many rows: {e}")),
            Ok(rows) => {
                for (i, k) in probe.iter().enumerate() {
                    let got = r.positions[i]
                        .and_then(|p| rows.get(p))
                        .map(|(_, v, t)| (v.clone(), t.clone()));
                    if got.as_ref() != expected.get(k) {
                        v.push(format!(
                            "get_many key {k}: {got:?}, expected {:?}",
                            expected.get(k)
                        ));
                    }
                }
            }
        },
    }
    let k = rng.below(keys as u64) as i64;
    match live.get(&[Datum::BigInt(k)]).await {
        Err(e) => v.push(format!("get {k} failed: {e}")),
        Ok(b) => {
            let got = b
                .map(|b| rows_of(&b))
                .transpose()
                .map(|r| r.and_then(|r| r.into_iter().next()).map(|(_, v, t)| (v, t)));
            match got {
                Err(e) => v.push(format!("get {k}: {e}")),
                Ok(got) if got.as_ref() != expected.get(&k) => v.push(format!(
                    "get key {k}: {got:?}, expected {:?}",
                    expected.get(&k)
                )),
                Ok(_) => {}
            }
        }
    }
}
