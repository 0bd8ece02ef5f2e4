//! When to look for the next snapshot again: an adaptive interval between a floor and a
//! ceiling that learns the writer's commit cadence.
//!
//! Each look is one request (a GET of `snapshot-<next>`). After a snapshot arrives the schedule
//! expects the next one one average gap later (an exponentially weighted mean of the gaps
//! between arrivals it observed while waiting): it sleeps until shortly before that moment and
//! polls at the floor around it. When no commit is due (no cadence known yet, or the writer is
//! late), the wait grows with the time already waited — an eighth of it, between the floor and
//! the ceiling — so a commit is seen at most about 1/8 of its gap late, and an idle table costs
//! one request per ceiling interval. A writer committing every 200 ms is therefore seen within
//! about one floor interval of its commit.

use std::time::Duration;

/// Default floor: the shortest wait between two looks.
pub const DEFAULT_MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Default ceiling: the longest wait between two looks.
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Weight of the newest gap in the mean gap.
const GAP_WEIGHT: f64 = 0.3;
/// Without a due commit, the wait is the time waited so far divided by this.
const RELATIVE_WAIT_DIVISOR: u32 = 8;

/// The polling bounds of a follow-mode tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollConfig {
    /// The floor: never look more often than this.
    pub min_interval: Duration,
    /// The ceiling: never wait longer than this between two looks.
    pub max_interval: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            min_interval: DEFAULT_MIN_POLL_INTERVAL,
            max_interval: DEFAULT_MAX_POLL_INTERVAL,
        }
    }
}

/// The adaptive schedule (pure: the caller passes the time, read from the table's clock, as
/// the time since the epoch).
#[derive(Debug, Clone)]
pub struct PollSchedule {
    floor: Duration,
    ceiling: Duration,
    /// When the last snapshot that had to be waited for was seen.
    last_arrival: Option<Duration>,
    /// Mean gap between such arrivals.
    gap: Option<Duration>,
    /// When the current wait began (right after the last snapshot was found).
    wait_started: Option<Duration>,
    /// Whether the current wait has had a miss (an arrival right after a miss is a real
    /// arrival; snapshots found while catching up say nothing about the cadence).
    waiting: bool,
}

impl PollSchedule {
    pub fn new(config: PollConfig) -> Self {
        let floor = config.min_interval.max(Duration::from_millis(1));
        PollSchedule {
            floor,
            ceiling: config.max_interval.max(floor),
            last_arrival: None,
            gap: None,
            wait_started: None,
            waiting: false,
        }
    }

    /// The mean gap between arrivals, once two were observed.
    pub fn mean_gap(&self) -> Option<Duration> {
        self.gap
    }

    /// A snapshot was found at `now`.
    pub fn found(&mut self, now: Duration) {
        if !self.waiting {
            return;
        }
        self.waiting = false;
        self.wait_started = None;
        if let Some(last) = self.last_arrival {
            let observed = now.saturating_sub(last);
            self.gap = Some(match self.gap {
                None => observed,
                Some(g) => g.mul_f64(1.0 - GAP_WEIGHT) + observed.mul_f64(GAP_WEIGHT),
            });
        }
        self.last_arrival = Some(now);
    }

    /// The next snapshot was not there at `now`: how long to wait before looking again.
    pub fn missed(&mut self, now: Duration) -> Duration {
        self.waiting = true;
        let started = *self.wait_started.get_or_insert(now);
        if let (Some(last), Some(gap)) = (self.last_arrival, self.gap) {
            let expected = last + gap;
            let margin = (gap / 4).max(self.floor);
            if now + margin < expected {
                // Well before the next commit is due: sleep until shortly before it.
                return (expected - margin - now).clamp(self.floor, self.ceiling);
            }
            if now < expected + gap / 2 {
                return self.floor;
            }
        }
        // Nothing due: wait an eighth of the time waited so far.
        let waited = now.saturating_sub(started);
        (waited / RELATIVE_WAIT_DIVISOR).clamp(self.floor, self.ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn schedule(floor_ms: u64, ceiling_ms: u64) -> PollSchedule {
        PollSchedule::new(PollConfig {
            min_interval: ms(floor_ms),
            max_interval: ms(ceiling_ms),
        })
    }

    #[test]
    fn waits_longer_the_longer_nothing_comes_up_to_the_ceiling() {
        let mut s = schedule(10, 100);
        let t = Duration::ZERO;
        let delays: Vec<Duration> = [0, 40, 200, 400, 2000]
            .iter()
            .map(|&i| s.missed(t + ms(i)))
            .collect();
        assert_eq!(delays, [ms(10), ms(10), ms(25), ms(50), ms(100)]);
    }

    #[test]
    fn learns_a_regular_cadence_and_polls_at_the_floor_around_it() {
        let mut s = schedule(10, 1000);
        let t0 = Duration::ZERO;
        // Arrivals every 200 ms, observed while waiting.
        for i in 0..5u64 {
            s.missed(t0 + ms(i * 200) - ms(5).min(ms(i * 200)));
            s.found(t0 + ms(i * 200));
        }
        let gap = s.mean_gap().unwrap();
        assert!(gap > ms(190) && gap < ms(210), "{gap:?}");
        let last = t0 + ms(800);
        // Right after an arrival: sleep until shortly before the next one is due.
        let d = s.missed(last + ms(1));
        assert!(d >= ms(140) && d <= ms(150), "{d:?}");
        // Around the due time: the floor.
        assert_eq!(s.missed(last + ms(160)), ms(10));
        assert_eq!(s.missed(last + ms(290)), ms(10));
        // Half a gap late: an eighth of the time waited.
        assert_eq!(s.missed(last + ms(401)), ms(50));
        assert_eq!(s.missed(last + ms(801)), ms(100));
        // A late commit still resets the schedule.
        s.found(last + ms(900));
        assert!(s.missed(last + ms(901)) >= ms(10));
    }

    #[test]
    fn catching_up_does_not_count_as_arrivals() {
        let mut s = PollSchedule::new(PollConfig::default());
        let t = Duration::ZERO;
        s.found(t);
        s.found(t + ms(1));
        assert_eq!(s.mean_gap(), None);
        s.missed(t + ms(2));
        s.found(t + ms(300));
        s.missed(t + ms(301));
        s.found(t + ms(500));
        assert_eq!(s.mean_gap(), Some(ms(200)));
    }

    #[test]
    fn the_ceiling_is_never_below_the_floor() {
        let mut s = schedule(50, 5);
        assert_eq!(s.missed(Duration::ZERO), ms(50));
    }
}
