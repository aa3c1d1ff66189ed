//! The kubelet's restart back-off (client-go's `flowcontrol.Backoff` as `doBackOff` uses it):
//! the first restart is immediate, then 10s, 20s, 40s … capped at 300s; an entry older than
//! twice the cap (10 minutes without a new failure) starts over. Times are tokio's, so tests
//! run on a paused clock. One instance serves container restarts, another image pulls.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for BackoffConfig {
    /// The kubelet's constants: 10s doubling to 300s.
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    backoff: Duration,
    last_update: Instant,
}

#[derive(Debug, Default)]
pub struct Backoff {
    config: BackoffConfig,
    entries: HashMap<String, Entry>,
}

impl Backoff {
    pub fn new(config: BackoffConfig) -> Self {
        Backoff {
            config,
            entries: HashMap::new(),
        }
    }

    fn expired(&self, event: Instant, entry: &Entry) -> bool {
        event.saturating_duration_since(entry.last_update) > self.config.max * 2
    }

    /// `IsInBackOffSince`: whether a retry for a failure at `event` must still wait.
    pub fn in_backoff_since(&self, key: &str, event: Instant) -> bool {
        match self.entries.get(key) {
            Some(e) if !self.expired(event, e) => event.elapsed() < e.backoff,
            _ => false,
        }
    }

    /// `Next`: a retry is happening for a failure at `event`; the next one waits longer.
    pub fn next(&mut self, key: &str, event: Instant) {
        let fresh = match self.entries.get(key) {
            Some(e) => self.expired(event, e),
            None => true,
        };
        let backoff = if fresh {
            self.config.initial
        } else {
            (self.entries[key].backoff * 2).min(self.config.max)
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                backoff,
                last_update: Instant::now(),
            },
        );
    }

    /// The current back-off of `key` (what the waiting message says).
    pub fn get(&self, key: &str) -> Duration {
        self.entries.get(key).map_or(Duration::ZERO, |e| e.backoff)
    }

    /// When a failure at `event` may be retried.
    pub fn retry_at(&self, key: &str, event: Instant) -> Instant {
        event + self.get(key)
    }

    pub fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Forgets every key starting with `prefix` (all of a pod's containers).
    pub fn forget_prefix(&mut self, prefix: &str) {
        self.entries.retain(|k, _| !k.starts_with(prefix));
    }
}

/// Go's `time.Duration.String()` at millisecond precision: `200ms`, `10s`, `1.5s`, `2m40s`,
/// `5m0s`.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = |ms: u128| {
        let whole = ms / 1000;
        let frac = ms % 1000;
        if frac == 0 {
            format!("{whole}s")
        } else {
            format!("{whole}.{}s", format!("{frac:03}").trim_end_matches('0'))
        }
    };
    if ms < 60_000 {
        secs(ms)
    } else if ms < 3_600_000 {
        format!("{}m{}", ms / 60_000, secs(ms % 60_000))
    } else {
        format!(
            "{}h{}m{}",
            ms / 3_600_000,
            (ms % 3_600_000) / 60_000,
            secs(ms % 60_000)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A container failing again right after each restart: immediate, 10s, 20s, 40s, 80s, 160s,
    /// 300s, 300s; after 10 quiet minutes it starts over.
    #[tokio::test(start_paused = true)]
    async fn crash_loop_sequence_and_reset() {
        let mut b = Backoff::new(BackoffConfig::default());
        let mut waits = Vec::new();
        for _ in 0..8 {
            let failed = Instant::now();
            let start = Instant::now();
            while b.in_backoff_since("pod/app", failed) {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            waits.push(start.elapsed().as_secs());
            b.next("pod/app", failed);
        }
        assert_eq!(waits, [0, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(go_duration(b.get("pod/app")), "5m0s");
        assert_eq!(go_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(160)), "2m40s");
        tokio::time::sleep(Duration::from_secs(601)).await;
        let failed = Instant::now();
        assert!(!b.in_backoff_since("pod/app", failed));
        b.next("pod/app", failed);
        assert_eq!(b.get("pod/app"), Duration::from_secs(10));
    }
}
