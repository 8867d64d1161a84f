//! Counts failed sign-ins per key (an account name, a client address) in a sliding window.
//! Kept in memory: each instance limits on its own, which still bounds guessing to a few
//! attempts per minute per instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Limiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Keys kept before old ones are swept out.
const SWEEP_AT: usize = 10_000;

impl Limiter {
    pub fn new(max_failures: usize, window: Duration) -> Limiter {
        Limiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `key` has used up its failures in the window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(key) else {
            return Ok(());
        };
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.max_failures {
            let oldest = times.iter().min().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    pub fn fail(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            let window = self.window;
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < window));
        }
        map.entry(key.to_string()).or_default().push(now);
    }

    pub fn clear(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let limiter = Limiter::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for i in 0..3 {
            assert!(limiter.check("ana", start).is_ok(), "attempt {i}");
            limiter.fail("ana", start);
        }
        let wait = limiter
            .check("ana", start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limiter.check("bob", start).is_ok(), "other keys unaffected");
        assert!(limiter
            .check("ana", start + Duration::from_secs(61))
            .is_ok());
        limiter.fail("bob", start);
        limiter.clear("bob");
        assert!(limiter.check("bob", start).is_ok());
    }
}
