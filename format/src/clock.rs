//! The clock: where Streamhouse reads the time (snapshot commit times, expiration by age,
//! consumer expiry, orphan cut-offs, compaction leases) and how it waits. It is injected
//! through [`FileIO`](crate::io::FileIO) (the system clock by default), so tests drive time
//! with a [`ManualClock`] instead of sleeping.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{watch, Notify};

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
///
/// By default a wait moves the clock forward and returns at once (retry back-offs cost
/// nothing). A clock made with [`holding_waits`](Self::holding_waits) holds each wait until
/// the clock is moved past its end instead, as a timer would: a test drives a waiting loop
/// (a follow-mode tail's polling) by [`advance`](Self::advance), after
/// [`until_waiting`](Self::until_waiting) says the loop is parked.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    /// The time; each held wait holds a receiver.
    time: watch::Sender<i64>,
    hold_waits: bool,
    /// Notified whenever a held wait begins.
    wait_began: Notify,
}

impl ManualClock {
    /// A clock that reads `millis` (since the epoch) until moved.
    pub fn new(millis: i64) -> Self {
        ManualClock {
            inner: Arc::new(ManualInner {
                time: watch::Sender::new(millis),
                hold_waits: false,
                wait_began: Notify::new(),
            }),
        }
    }

    /// A clock that starts at the system clock's time.
    pub fn starting_now() -> Self {
        ManualClock::new(SystemClock.now_millis())
    }

    /// A clock at this one's time whose waits last until it is moved past their end (clones
    /// made before are not affected).
    pub fn holding_waits(self) -> Self {
        ManualClock {
            inner: Arc::new(ManualInner {
                time: watch::Sender::new(self.now_millis()),
                hold_waits: true,
                wait_began: Notify::new(),
            }),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.inner.time.send_modify(|t| *t = t.saturating_add(d));
    }

    /// Sets the clock to `millis` since the epoch.
    pub fn set(&self, millis: i64) {
        self.inner.time.send_replace(millis);
    }

    /// How many waits are held now (always 0 unless the clock holds waits).
    pub fn waiting(&self) -> usize {
        self.inner.time.receiver_count()
    }

    /// Returns once at least `n` waits are held.
    pub async fn until_waiting(&self, n: usize) {
        loop {
            let began = self.inner.wait_began.notified();
            tokio::pin!(began);
            began.as_mut().enable();
            if self.waiting() >= n {
                return;
            }
            began.await;
        }
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        *self.inner.time.borrow()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        if !self.inner.hold_waits {
            self.advance(d);
            // Still a yield, so a loop that waits lets other tasks run.
            return tokio::task::yield_now().boxed();
        }
        let mut time = self.inner.time.subscribe();
        let end = self
            .now_millis()
            .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.inner.wait_began.notify_waiters();
        async move {
            // The sender lives as long as any clone of the clock; once all are gone no one
            // can move the time, and the wait ends.
            let _ = time.wait_for(|t| *t >= end).await;
        }
        .boxed()
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
        assert_eq!(c.waiting(), 0, "a wait that moves the clock is not held");
        let sys = SystemClock.now_millis();
        assert!(sys > 1_700_000_000_000, "{sys}");
    }

    #[tokio::test]
    async fn a_holding_clock_ends_a_wait_only_once_moved_past_it() {
        let c = ManualClock::new(1_000).holding_waits();
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move { c.sleep(Duration::from_millis(100)).await })
        };
        c.until_waiting(1).await;
        assert_eq!(c.now_millis(), 1_000, "a held wait does not move the clock");
        c.advance(Duration::from_millis(99));
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert!(
            !waiter.is_finished(),
            "1 ms before its end the wait is still held"
        );
        assert_eq!(c.waiting(), 1);
        c.advance(Duration::from_millis(1));
        waiter.await.unwrap();
        assert_eq!(c.waiting(), 0);
        c.sleep(Duration::ZERO).await;
    }
}
