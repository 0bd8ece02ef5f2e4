//! Universal compaction (Paimon's `UniversalCompaction`, after RocksDB's universal style):
//! a pure function from the sorted runs of one bucket to the runs to compact and the level to
//! write them to. No I/O, no clock: unit-tested on run sizes alone.
//!
//! Runs are listed newest first (level-0 files, then levels 1, 2, …). A pick is always a
//! *prefix* of that list. In order:
//! 1. **full** compaction when asked (`--full`, `full-compaction.delta-commits`): every run to
//!    the max level, unless the table already is one run at the max level;
//! 2. **size amplification**: with at least `num-sorted-run.compaction-trigger` runs, if the
//!    runs newer than the oldest take more than `compaction.max-size-amplification-percent` of
//!    the oldest run's size, everything is compacted to the max level;
//! 3. **size ratio**: with at least trigger runs, start from the newest run and absorb the next
//!    while `candidate · (100 + compaction.size-ratio) / 100 ≥ next` (once two runs are picked,
//!    runs at level ≤ 1 are absorbed regardless); a pick needs at least two runs;
//! 4. **run count**: with more than trigger runs, the newest `runs − trigger + 1` runs, extended
//!    by the same size-ratio rule;
//! 5. for tables that need lookup (`changelog-producer = lookup`, `merge-engine = first-row`,
//!    deletion vectors, `force-lookup`), when nothing else was picked, every level-0 file is
//!    pushed up ("force up level 0").
//!
//! Output level: the max level when every run is picked, else the level of the first run left
//! out minus one; never level 0 (the pick then extends to the next run above level 0).

use streamhouse_format::options::TableOptions;
use streamhouse_format::Result;

use crate::levels::SortedRun;

/// The options the picker follows, with Paimon's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct PickerOptions {
    /// `num-sorted-run.compaction-trigger` (default 5).
    pub compaction_trigger: usize,
    /// `compaction.max-size-amplification-percent` (default 200).
    pub max_size_amplification_percent: u64,
    /// `compaction.size-ratio` (default 1).
    pub size_ratio: u64,
    /// Push every level-0 file up when nothing else is picked (tables that need lookup:
    /// lookup changelog, first-row, deletion vectors, `force-lookup`).
    pub force_up_level0: bool,
}

impl Default for PickerOptions {
    fn default() -> Self {
        PickerOptions {
            compaction_trigger: 5,
            max_size_amplification_percent: 200,
            size_ratio: 1,
            force_up_level0: false,
        }
    }
}

impl PickerOptions {
    /// The picker options of a table.
    pub fn from_table(options: &TableOptions) -> Result<Self> {
        Ok(PickerOptions {
            compaction_trigger: options.compaction_trigger.max(1) as usize,
            max_size_amplification_percent: u64::from(options.max_size_amplification_percent),
            size_ratio: u64::from(options.size_ratio),
            force_up_level0: options.needs_lookup(),
        })
    }
}

/// What to compact: the first `run_count` runs, written to `output_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub output_level: i32,
    pub run_count: usize,
}

/// Level and size of a sorted run: all the picker looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunShape {
    pub level: i32,
    pub size: u64,
}

impl From<&SortedRun> for RunShape {
    fn from(r: &SortedRun) -> Self {
        RunShape {
            level: r.level,
            size: r.total_size(),
        }
    }
}

/// Picks a full compaction: every run to the max level, or nothing when the bucket already is
/// a single run at the max level (or empty).
pub fn pick_full(num_levels: i32, runs: &[RunShape]) -> Option<Pick> {
    let max_level = num_levels - 1;
    if runs.is_empty() || (runs.len() == 1 && runs[0].level == max_level) {
        return None;
    }
    Some(Pick {
        output_level: max_level,
        run_count: runs.len(),
    })
}

/// Universal compaction's pick (see the module docs). `runs` newest first; `file_counts[i]` is
/// the number of files of run `i` (a single file already at the output level is no work).
pub fn pick(
    num_levels: i32,
    runs: &[RunShape],
    file_counts: &[usize],
    opts: &PickerOptions,
) -> Option<Pick> {
    let max_level = num_levels - 1;
    let trigger = opts.compaction_trigger.max(1);
    let mut unit = pick_for_size_amp(max_level, runs, opts)
        .or_else(|| {
            (runs.len() >= trigger)
                .then(|| pick_for_size_ratio(max_level, runs, 1, false, opts))
                .flatten()
        })
        .or_else(|| {
            (runs.len() > trigger)
                .then(|| {
                    pick_for_size_ratio(max_level, runs, runs.len() - trigger + 1, false, opts)
                })
                .flatten()
        });
    if unit.is_none() && opts.force_up_level0 {
        let l0 = runs.iter().take_while(|r| r.level == 0).count();
        if l0 > 0 {
            unit = pick_for_size_ratio(max_level, runs, l0, true, opts);
        }
    }
    // A unit that is one file already at its output level is no work.
    unit.filter(|u| {
        let files: usize = file_counts.iter().take(u.run_count).sum();
        u.run_count > 0 && (files > 1 || runs[0].level != u.output_level)
    })
}

fn pick_for_size_amp(max_level: i32, runs: &[RunShape], opts: &PickerOptions) -> Option<Pick> {
    if runs.len() < opts.compaction_trigger.max(1) || runs.is_empty() {
        return None;
    }
    let newer: u64 = runs[..runs.len() - 1].iter().map(|r| r.size).sum();
    let oldest = runs[runs.len() - 1].size;
    (newer as u128 * 100 > opts.max_size_amplification_percent as u128 * oldest as u128).then_some(
        Pick {
            output_level: max_level,
            run_count: runs.len(),
        },
    )
}

fn pick_for_size_ratio(
    max_level: i32,
    runs: &[RunShape],
    mut count: usize,
    force: bool,
    opts: &PickerOptions,
) -> Option<Pick> {
    count = count.min(runs.len());
    let mut candidate: u64 = runs[..count].iter().map(|r| r.size).sum();
    let mut triggered = force || count > 1;
    for next in &runs[count..] {
        let limit = candidate as f64 * (100.0 + opts.size_ratio as f64) / 100.0;
        if limit < next.size as f64 && (!triggered || next.level > 1) {
            break;
        }
        candidate += next.size;
        count += 1;
        triggered = true;
    }
    triggered.then(|| create_unit(runs, max_level, count))
}

fn create_unit(runs: &[RunShape], max_level: i32, mut count: usize) -> Pick {
    let mut output_level = if count == runs.len() {
        max_level
    } else {
        (runs[count].level - 1).max(0)
    };
    if output_level == 0 {
        // Never write level 0: extend the pick to the next run above level 0.
        while count < runs.len() {
            let next = runs[count];
            count += 1;
            if next.level != 0 {
                output_level = next.level;
                break;
            }
        }
    }
    if count == runs.len() {
        output_level = max_level;
    }
    Pick {
        output_level,
        run_count: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(spec: &[(i32, u64)]) -> Vec<RunShape> {
        spec.iter()
            .map(|&(level, size)| RunShape { level, size })
            .collect()
    }

    fn p(spec: &[(i32, u64)], opts: &PickerOptions) -> Option<Pick> {
        let r = runs(spec);
        pick(6, &r, &vec![1; r.len()], opts)
    }

    fn opts(trigger: usize) -> PickerOptions {
        PickerOptions {
            compaction_trigger: trigger,
            ..Default::default()
        }
    }

    #[test]
    fn nothing_below_the_trigger() {
        assert_eq!(p(&[(0, 1), (0, 1), (0, 1), (0, 1)], &opts(5)), None);
        assert_eq!(p(&[], &opts(5)), None);
    }

    #[test]
    fn size_amplification_compacts_everything_to_the_max_level() {
        // 4 newer runs of 1 each vs an oldest of 1: 400% > 200%.
        let u = p(&[(0, 1), (0, 1), (0, 1), (0, 1), (5, 1)], &opts(5)).unwrap();
        assert_eq!(
            u,
            Pick {
                output_level: 5,
                run_count: 5
            }
        );
        // Exactly 200% is not more than the limit.
        let r = runs(&[(0, 50), (0, 50), (3, 50), (4, 50), (5, 100)]);
        assert_ne!(
            pick_for_size_amp(5, &r, &opts(5)).map(|u| u.run_count),
            Some(5)
        );
    }

    #[test]
    fn size_ratio_absorbs_similar_runs() {
        // Oldest run is huge (no size amplification); the three newest are similar.
        let u = p(
            &[(0, 10), (0, 10), (0, 20), (0, 1000), (5, 10_000)],
            &opts(5),
        )
        .unwrap();
        // 10 → absorbs 10 (10·1.01 ≥ 10) → 20 absorbs 20 (≥ 20) → 40 vs 1000 at level 0:
        // triggered and level ≤ 1, so absorbed → 1040 vs 10000 at level 5: stop.
        assert_eq!(
            u,
            Pick {
                output_level: 4,
                run_count: 4
            }
        );
    }

    #[test]
    fn size_ratio_needs_two_runs_then_file_count_rule_applies() {
        // Sizes grow fast: size ratio picks nothing; 6 runs > trigger 5 → pick the first 2.
        let u = p(
            &[
                (0, 1),
                (0, 10),
                (0, 100),
                (2, 1000),
                (3, 10_000),
                (5, 100_000),
            ],
            &opts(5),
        )
        .unwrap();
        // First 2 runs (11) then next is level 0 with 100 > 11.11 but triggered and level 0 ≤ 1
        // → absorbed (111); next level 2 with 1000 > 112.11 → stop. Output = 2 - 1 = 1.
        assert_eq!(
            u,
            Pick {
                output_level: 1,
                run_count: 3
            }
        );
    }

    #[test]
    fn output_level_is_never_zero() {
        // Size ratio picks two level-0 runs; the next run is level 0 → extend to the first
        // run above level 0 and write to its level.
        let u = p(
            &[
                (0, 1),
                (0, 1),
                (0, 100),
                (0, 1000),
                (3, 10_000),
                (5, 100_000),
            ],
            &opts(5),
        )
        .unwrap();
        assert_ne!(u.output_level, 0);
        let r = runs(&[(0, 1), (0, 1), (0, 100), (3, 10_000), (5, 100_000)]);
        assert_eq!(
            create_unit(&r, 5, 2),
            Pick {
                output_level: 3,
                run_count: 4
            }
        );
        // Extending reached the last run: everything is picked, so the max level.
        let r = runs(&[(0, 1), (0, 1), (0, 100), (3, 10_000)]);
        assert_eq!(
            create_unit(&r, 5, 2),
            Pick {
                output_level: 5,
                run_count: 4
            }
        );
        // Everything picked → the max level.
        let r = runs(&[(0, 1), (0, 1), (0, 100)]);
        assert_eq!(
            create_unit(&r, 5, 2),
            Pick {
                output_level: 5,
                run_count: 3
            }
        );
    }

    #[test]
    fn size_ratio_option_widens_the_pick() {
        let spec = [(0, 10), (0, 15), (1, 1000), (2, 1000), (5, 100_000)];
        assert_eq!(p(&spec, &opts(5)), None);
        let wide = PickerOptions {
            size_ratio: 60,
            ..opts(5)
        };
        // 10·1.6 = 16 ≥ 15 → two runs; then level 1 absorbed regardless; level 2: 1025·1.6 ≥ 1000.
        assert_eq!(
            p(&spec, &wide),
            Some(Pick {
                output_level: 4,
                run_count: 4
            })
        );
    }

    #[test]
    fn full_compaction() {
        assert_eq!(pick_full(6, &runs(&[(5, 10)])), None);
        assert_eq!(pick_full(6, &[]), None);
        assert_eq!(
            pick_full(6, &runs(&[(0, 1), (5, 10)])),
            Some(Pick {
                output_level: 5,
                run_count: 2
            })
        );
        assert_eq!(
            pick_full(6, &runs(&[(3, 10)])),
            Some(Pick {
                output_level: 5,
                run_count: 1
            })
        );
    }

    #[test]
    fn force_up_level0_for_lookup_tables() {
        let o = PickerOptions {
            force_up_level0: true,
            ..opts(5)
        };
        // Below the trigger, lookup tables still push level 0 up.
        let u = p(&[(0, 1), (0, 1), (4, 1000), (5, 100_000)], &o).unwrap();
        assert_eq!(
            u,
            Pick {
                output_level: 3,
                run_count: 2
            }
        );
        assert_eq!(p(&[(4, 1000), (5, 100_000)], &o), None);
        // A single level-0 file below level 5 only: pushed to level 4.
        assert_eq!(
            p(&[(0, 1), (5, 100_000)], &o),
            Some(Pick {
                output_level: 4,
                run_count: 1
            })
        );
    }

    #[test]
    fn a_single_file_already_at_its_level_is_no_work() {
        let r = runs(&[(5, 10)]);
        let o = PickerOptions {
            force_up_level0: true,
            ..opts(1)
        };
        assert_eq!(pick(6, &r, &[1], &o), None);
        // Two files in that run: still work (when picked).
        assert_eq!(
            pick(6, &runs(&[(0, 1)]), &[1], &o).map(|u| u.output_level),
            Some(5)
        );
    }

    #[test]
    fn defaults_follow_paimon() {
        let t = TableOptions::parse(&Default::default(), true).unwrap();
        let o = PickerOptions::from_table(&t).unwrap();
        assert_eq!(o, PickerOptions::default());
        assert_eq!(t.stop_trigger, 8);
        assert_eq!(t.num_levels, 6);
    }
}
