//! Files written in one place and committed in another: writers on many machines (Ray
//! workers, say) each [`stage`](Writer::stage) their rows into data files without committing
//! and send the [`StagedFiles`] to one place that commits them all as ONE snapshot
//! ([`Table::commit_staged`]). Staged files nobody commits are orphans (`clean_orphans`).

use streamhouse_format::io::commit::Committer;
use streamhouse_format::manifest::{decode_manifest, encode_manifest, FileKind, ManifestEntry};
use streamhouse_format::snapshot::CommitKind;

use crate::table::Table;
use crate::writer::Writer;
use crate::{Error, Result};

/// Data (and changelog) files a writer wrote and did not commit, encoded as manifest entries
/// (Paimon's Avro manifest format), so they can cross process boundaries as bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedFiles {
    pub data: Vec<u8>,
    pub changelog: Vec<u8>,
}

impl Writer {
    /// Flushes the rows written since the last commit into files and returns them without
    /// committing; the writer starts afresh.
    pub async fn stage(&mut self) -> Result<StagedFiles> {
        let messages = self.prepare_commit().await?;
        let mut data = vec![];
        let mut changelog = vec![];
        for m in &messages {
            let entry = |file| ManifestEntry {
                kind: FileKind::Add,
                partition: m.partition.clone(),
                bucket: m.bucket,
                total_buckets: m.total_buckets,
                file,
            };
            data.extend(m.new_files.iter().cloned().map(entry));
            changelog.extend(m.changelog_files.iter().cloned().map(entry));
        }
        Ok(StagedFiles {
            data: encode_manifest(&data)?,
            changelog: encode_manifest(&changelog)?,
        })
    }
}

impl Table {
    /// Commits the files of every [`StagedFiles`] as one APPEND snapshot; returns its id
    /// (`None` when there were no files).
    pub async fn commit_staged(&self, staged: &[StagedFiles]) -> Result<Option<i64>> {
        let mut data = vec![];
        let mut changelog = vec![];
        for (i, s) in staged.iter().enumerate() {
            let label = format!("staged files {}", i + 1);
            data.extend(decode_manifest(&s.data, &label)?);
            changelog.extend(decode_manifest(&s.changelog, &label)?);
        }
        if let Some(e) = data
            .iter()
            .chain(&changelog)
            .find(|e| e.kind != FileKind::Add)
        {
            return Err(Error::invalid(format!(
                "staged files may only add files; {} is a deletion",
                e.file.file_name
            )));
        }
        if data.is_empty() && changelog.is_empty() {
            return Ok(None);
        }
        // A fresh user: no earlier snapshot of it to look for.
        let committer = Committer::with_unique_user(self.raw().clone(), "staged")?;
        let committed = committer
            .commit_entries(CommitKind::Append, data, changelog, 1)
            .await?;
        Ok(Some(committed.snapshot_id))
    }
}
