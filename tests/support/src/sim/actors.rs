//! The actors of a schedule. Each runs `steps` steps with seeded pauses between them, all
//! concurrently on one thread; every storage call they make meets the store's faults. An actor
//! treats a failed call as a caller would (log it, carry on) and writes what it did into the
//! world's log, for the checks.

use std::sync::Arc;
use std::time::Duration;

use futures::Future;
use streamhouse::{StartPosition, TailEvent};
use streamhouse_format::io::Committer;
use streamhouse_format::manifest::decode_manifest;
use streamhouse_format::snapshot::CommitKind;

use super::model::{batch_of, random_changes, rows_of, Change, CommitRecord, Outcome};
use super::rng::SimRng;
use super::store::ACTOR;
use super::world::{ConsumerLog, World};

/// Runs `body` as the named actor (its deletions are blamed on it), on the simulation's one
/// thread (some of the library's futures are not `Send`).
pub fn spawn_actor<F>(name: String, body: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = ()> + 'static,
{
    tokio::task::spawn_local(ACTOR.scope(name, body))
}

async fn pause(w: &World, rng: &mut SimRng) {
    let ms = rng.below(w.plan.max_pause.as_millis() as u64 + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Commits through `Writer::commit`, one writer for the whole run; a failed commit leaves the
/// writer in use, as a caller would.
pub async fn public_writer(w: Arc<World>, name: String, lane: u64, mut rng: SimRng) {
    let mut writer = None;
    for step in 0..w.plan.steps {
        pause(&w, &mut rng).await;
        let token = format!("{name}.{step}");
        let n = rng.between(1, w.plan.rows) as usize;
        let lanes = (lane, w.plan.writers.len() as u64);
        let changes = random_changes(&mut rng, lanes, w.plan.keys, n, &token);
        if writer.is_none() {
            let r = w.table.writer().await;
            w.count("writer", &r);
            writer = r.ok();
        }
        let Some(wr) = writer.as_mut() else {
            record(
                &w,
                &token,
                &name,
                None,
                changes,
                Outcome::NotCommitted("open".into()),
            );
            continue;
        };
        let (batch, kinds) = batch_of(w.table.arrow_schema(), &changes);
        if let Err(e) = wr.write_with_kinds(&batch, &kinds).await {
            // Rows may sit half-flushed in the writer: drop it, they are never committed.
            let _ = wr.abort().await;
            writer = None;
            record(
                &w,
                &token,
                &name,
                None,
                changes,
                Outcome::NotCommitted(e.to_string()),
            );
            continue;
        }
        let r = wr.commit().await;
        w.count("writer", &r);
        let outcome = match r {
            Ok(c) => Outcome::Acked(c.snapshot_ids),
            Err(e) => Outcome::Failed(e.to_string()),
        };
        record(&w, &token, &name, None, changes, outcome);
    }
    if let Some(wr) = writer {
        let _ = wr.close().await;
    }
}

/// Stages each commit's files, then commits them through a NEW committer per attempt (a
/// process restarting) with the writer's own commit user and the same identifier, up to four
/// attempts: a lost acknowledgement must not make it land twice.
pub async fn staged_writer(w: Arc<World>, name: String, lane: u64, mut rng: SimRng) {
    let user = format!("sim-{name}");
    for step in 0..w.plan.steps {
        pause(&w, &mut rng).await;
        let token = format!("{name}.{step}");
        let n = rng.between(1, w.plan.rows) as usize;
        let lanes = (lane, w.plan.writers.len() as u64);
        let changes = random_changes(&mut rng, lanes, w.plan.keys, n, &token);
        let identifier = step as i64;
        let staged = async {
            let mut wr = w.table.writer().await.map_err(|e| e.to_string())?;
            let (batch, kinds) = batch_of(w.table.arrow_schema(), &changes);
            wr.write_with_kinds(&batch, &kinds)
                .await
                .map_err(|e| e.to_string())?;
            let s = wr.stage().await.map_err(|e| e.to_string())?;
            let data = decode_manifest(&s.data, "staged").map_err(|e| e.to_string())?;
            let log = decode_manifest(&s.changelog, "staged").map_err(|e| e.to_string())?;
            Ok::<_, String>((data, log))
        }
        .await;
        let who = Some((user.clone(), identifier));
        let (data, changelog) = match staged {
            Ok(s) => s,
            Err(e) => {
                record(&w, &token, &name, who, changes, Outcome::NotCommitted(e));
                continue;
            }
        };
        let mut outcome = Outcome::NotCommitted("no attempt".into());
        for _ in 0..4 {
            let committer = match Committer::new(w.table.as_format_table().clone(), &user) {
                Ok(c) => c,
                Err(e) => {
                    outcome = Outcome::NotCommitted(e.to_string());
                    break;
                }
            };
            let r = committer
                .commit_entries(
                    CommitKind::Append,
                    data.clone(),
                    changelog.clone(),
                    identifier,
                )
                .await;
            w.count("writer", &r);
            match r {
                Ok(c) => {
                    outcome = Outcome::Acked(vec![c.snapshot_id]);
                    break;
                }
                Err(e) => outcome = Outcome::Failed(e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(rng.between(10, 2_000))).await;
        }
        record(&w, &token, &name, who, changes, outcome);
    }
}

fn record(
    w: &World,
    token: &str,
    writer: &str,
    user: Option<(String, i64)>,
    changes: Vec<Change>,
    outcome: Outcome,
) {
    w.log().commits.push(CommitRecord {
        token: token.to_string(),
        writer: writer.to_string(),
        user,
        changes,
        outcome,
    });
}

pub async fn compactor(w: Arc<World>, mut rng: SimRng) {
    for _ in 0..w.plan.steps {
        pause(&w, &mut rng).await;
        let r = w.table.compact().full(rng.chance(0.3)).run_once().await;
        w.count("compactor", &r);
    }
}

pub async fn expirer(w: Arc<World>, mut rng: SimRng) {
    for _ in 0..w.plan.steps {
        pause(&w, &mut rng).await;
        let min = rng.between(1, 3);
        let max = min + rng.between(0, 3);
        let r = match w.table.expire() {
            Ok(e) => e.retain_min(min).retain_max(max).run().await,
            Err(e) => Err(e),
        };
        w.count("expirer", &r);
    }
}

pub async fn orphan_cleaner(w: Arc<World>, mut rng: SimRng) {
    for _ in 0..w.plan.steps {
        pause(&w, &mut rng).await;
        let r = w.table.clean_orphans(w.plan.orphan_age, false).await;
        w.count("orphan cleaner", &r);
    }
}

/// Tags the latest snapshot, or deletes a tag it made.
pub async fn tagger(w: Arc<World>, mut rng: SimRng) {
    let mut mine: Vec<String> = vec![];
    for step in 0..w.plan.steps {
        pause(&w, &mut rng).await;
        if mine.is_empty() || rng.chance(0.6) {
            let name = format!("tag-{step}");
            let r = w.table.create_tag(&name, None, None).await;
            w.count("tagger", &r);
            if let Ok(tag) = r {
                w.log().tags.insert(name.clone(), tag.snapshot.id);
                mine.push(name);
            }
        } else {
            let name = mine.remove(rng.below(mine.len() as u64) as usize);
            // Whatever the answer, the tag may be gone now.
            w.log().tags.remove(&name);
            let r = w.table.delete_tag(&name).await;
            w.count("tagger", &r);
        }
    }
}

/// Tails the table as consumer `id` from snapshot 1, up to the latest snapshot at each open;
/// applies a snapshot's changes when its end arrives. Reopens after an error (resuming from
/// the consumer position). A snapshot delivered again must bring the same changes; one
/// delivered after a gap is a violation. With `until`, keeps going until it applied that
/// snapshot (the settling run, without faults).
pub async fn consumer(w: Arc<World>, id: String, mut rng: SimRng, until: Option<i64>) {
    let mut log = w
        .log()
        .consumers
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .unwrap_or_else(|| ConsumerLog {
            id: id.clone(),
            ..Default::default()
        });
    let rounds = if until.is_some() { 50 } else { w.plan.steps };
    for _ in 0..rounds {
        if until.is_some_and(|u| log.last >= u) {
            break;
        }
        if until.is_none() {
            pause(&w, &mut rng).await;
        }
        let r = consume_once(&w, &mut log).await;
        w.count("consumer", &r);
        log.reopened += 1;
    }
    let mut all = w.log();
    match all.consumers.iter_mut().find(|c| c.id == id) {
        Some(c) => *c = log,
        None => all.consumers.push(log),
    }
}

async fn consume_once(w: &World, log: &mut ConsumerLog) -> Result<(), String> {
    let mut tail = w
        .table
        .tail()
        .consumer(log.id.clone())
        .from(StartPosition::FromSnapshot(1))
        .open()
        .await
        .map_err(|e| e.to_string())?;
    let mut pending: Vec<Change> = vec![];
    loop {
        let event = tail.next().await.map_err(|e| e.to_string())?;
        match event {
            None => return Ok(()),
            Some(TailEvent::Changes(batch)) => {
                let rows = rows_of(&batch.rows)?;
                for (i, (k, v, tok)) in rows.into_iter().enumerate() {
                    pending.push(Change {
                        kind: batch.kind(i),
                        k,
                        v,
                        tok,
                    });
                }
            }
            Some(TailEvent::SnapshotEnd(info)) => {
                let mut changes = std::mem::take(&mut pending);
                changes.sort();
                apply_snapshot(w, log, info.id, changes);
            }
        }
    }
}

fn apply_snapshot(w: &World, log: &mut ConsumerLog, id: i64, changes: Vec<Change>) {
    if let Some(before) = log.applied.get(&id) {
        if *before != changes {
            w.violation(format!(
                "consumer {}: snapshot {id} delivered again with other changes ({} then {})",
                log.id,
                before.len(),
                changes.len()
            ));
        }
        return;
    }
    if id != log.last + 1 {
        w.violation(format!(
            "consumer {}: snapshot {id} delivered after {} (snapshots skipped)",
            log.id, log.last
        ));
    }
    log.applied.insert(id, changes);
    log.last = log.last.max(id);
}
