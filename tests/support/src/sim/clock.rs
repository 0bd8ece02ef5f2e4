//! [`SimClock`]: the table's [`Clock`] in a simulation, read from tokio's paused timer. Every
//! wait — a storage latency, a retry back-off, an actor's pause — is a timer that the paused
//! runtime jumps to once every task is idle, so hours of simulated time cost nothing and the
//! commit times, expiration ages and orphan cut-offs the library sees move with them.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use streamhouse::Clock;
use tokio::time::Instant;

/// Milliseconds since the epoch = a fixed start plus the paused timer's elapsed time.
#[derive(Debug, Clone)]
pub struct SimClock {
    base_millis: i64,
    start: Instant,
}

impl SimClock {
    /// A clock reading `base_millis` now. Make it inside the simulation's runtime.
    pub fn new(base_millis: i64) -> SimClock {
        SimClock {
            base_millis,
            start: Instant::now(),
        }
    }

    pub fn millis(&self) -> i64 {
        self.base_millis + self.start.elapsed().as_millis() as i64
    }
}

impl Clock for SimClock {
    fn now_millis(&self) -> i64 {
        self.millis()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(d).boxed()
    }
}
