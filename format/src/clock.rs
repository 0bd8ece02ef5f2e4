//! The clock: where Streamhouse reads the time (snapshot commit times, expiration by age,
//! consumer expiry, orphan cut-offs, compaction leases) and how it waits. It is injected
//! through [`FileIO`](crate::io::FileIO) (the system clock by default), so tests drive time
//! with a [`ManualClock`] instead of sleeping.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;

/// A source of wall-clock time and of waits.
pub trait Clock: Send + Sync + Debug {
    /// Milliseconds since 1970-01-01 UTC.
    fn now_millis(&self) -> i64;

    /// Waits `d`. The system clock sleeps; a manual clock moves itself forward by `d` and
    /// returns at once.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// The operating system's clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(d).boxed()
    }
}

/// A clock that only moves when told to (or by the waits it is asked for). Clones share
/// the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock that reads `millis` (since the epoch) until moved.
    pub fn new(millis: i64) -> Self {
        ManualClock {
            millis: Arc::new(AtomicI64::new(millis)),
        }
    }

    /// A clock that starts at the system clock's time.
    pub fn starting_now() -> Self {
        ManualClock::new(SystemClock.now_millis())
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.millis.fetch_add(
            i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Ordering::SeqCst,
        );
    }

    /// Sets the clock to `millis` since the epoch.
    pub fn set(&self, millis: i64) {
        self.millis.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.millis.load(Ordering::SeqCst)
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.advance(d);
        futures::future::ready(()).boxed()
    }
}

/// The clock used when none is given.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_when_told_or_waited_on() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_millis(), 1_000);
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now_millis(), 3_000);
        let shared = c.clone();
        shared.sleep(Duration::from_millis(500)).await;
        assert_eq!(
            c.now_millis(),
            3_500,
            "a wait moves the clock, and clones share it"
        );
        c.set(7);
        assert_eq!(shared.now_millis(), 7);
        let sys = SystemClock.now_millis();
        assert!(sys > 1_700_000_000_000, "{sys}");
    }
}
