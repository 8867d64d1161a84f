//! Counts sign-in attempts per key (an account name, a name with a client address, a client
//! address) in a sliding window. An attempt is counted *before* the password is checked, in
//! the same lock as the check, so parallel guesses cannot all pass a limit that each one
//! alone would meet; a successful sign-in takes its attempt back. Kept in memory: each
//! instance limits on its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Limiter {
    max_attempts: usize,
    window: Duration,
    attempts: Mutex<Attempts>,
}

#[derive(Debug)]
struct Attempts {
    by_key: HashMap<String, Vec<Instant>>,
    /// Keys at which stale ones are next swept out: twice what a sweep left, so sweeping
    /// costs O(1) per attempt on average however many keys there are.
    sweep_at: usize,
}

/// Keys kept before old ones are first swept out.
const SWEEP_AT: usize = 10_000;
/// Keys kept at most: past it (every key still in its window) a new key is refused as if
/// limited, so memory stays bounded under a guesser with very many addresses.
const MAX_KEYS: usize = 500_000;

impl Limiter {
    pub fn new(max_attempts: usize, window: Duration) -> Limiter {
        Limiter {
            max_attempts,
            window,
            attempts: Mutex::new(Attempts {
                by_key: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
        }
    }

    /// Counts an attempt for `key` when it is under the limit (`Ok`); `Err(wait)` when the
    /// window is used up, counting nothing.
    pub fn attempt(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let Attempts { by_key, sweep_at } = &mut *attempts;
        if !by_key.contains_key(key) {
            if by_key.len() >= *sweep_at {
                let window = self.window;
                by_key.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < window));
                *sweep_at = (by_key.len() * 2).max(SWEEP_AT);
            }
            if by_key.len() >= MAX_KEYS {
                return Err(self.window);
            }
        }
        let times = by_key.entry(key.to_string()).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.max_attempts {
            let oldest = times.iter().min().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push(now);
        Ok(())
    }

    /// Takes back one attempt counted at `at` (a sign-in that succeeded counts against no
    /// limit), leaving the key's other attempts.
    pub fn take_back(&self, key: &str, at: Instant) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(times) = attempts.by_key.get_mut(key) {
            if let Some(i) = times.iter().position(|t| *t == at) {
                times.swap_remove(i);
            }
        }
    }

    /// Forgets `key`'s attempts (a successful sign-in).
    pub fn clear(&self, key: &str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts.by_key.remove(key);
    }
}

/// Name-and-address pairs that signed in successfully lately. The per-name limit (the one a
/// guesser spread over many addresses can run up) does not apply to them, so such a guesser
/// cannot lock the owner out of the places they use; the per-pair limit still does.
#[derive(Debug)]
pub struct KnownPairs {
    keep: Duration,
    seen: Mutex<HashMap<String, Instant>>,
}

/// Pairs remembered at most; past it the oldest are dropped first.
const MAX_KNOWN: usize = 100_000;

impl KnownPairs {
    pub fn new(keep: Duration) -> KnownPairs {
        KnownPairs {
            keep,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub fn remember(&self, pair: &str, now: Instant) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_KNOWN && !seen.contains_key(pair) {
            let keep = self.keep;
            seen.retain(|_, at| now.duration_since(*at) < keep);
            if seen.len() >= MAX_KNOWN {
                if let Some(oldest) = seen
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(k, _)| k.clone())
                {
                    seen.remove(&oldest);
                }
            }
        }
        seen.insert(pair.to_string(), now);
    }

    pub fn knows(&self, pair: &str, now: Instant) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(pair)
            .is_some_and(|at| now.duration_since(*at) < self.keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_pairs_are_forgotten_after_their_time() {
        let known = KnownPairs::new(Duration::from_secs(60));
        let start = Instant::now();
        known.remember("ana\n10.0.0.1", start);
        assert!(known.knows("ana\n10.0.0.1", start + Duration::from_secs(59)));
        assert!(!known.knows("ana\n10.0.0.2", start));
        assert!(!known.knows("ana\n10.0.0.1", start + Duration::from_secs(60)));
    }

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let limiter = Limiter::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for i in 0..3 {
            assert!(limiter.attempt("ana", start).is_ok(), "attempt {i}");
        }
        let wait = limiter
            .attempt("ana", start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            limiter.attempt("bob", start).is_ok(),
            "other keys unaffected"
        );
        assert!(limiter
            .attempt("ana", start + Duration::from_secs(61))
            .is_ok());
        limiter.clear("ana");
        let later = start + Duration::from_secs(1);
        assert!(limiter.attempt("ana", later).is_ok());
        limiter.take_back("ana", later);
        for _ in 0..3 {
            assert!(limiter.attempt("ana", start).is_ok());
        }
    }

    #[test]
    fn parallel_attempts_pass_only_up_to_the_limit() {
        let limiter = std::sync::Arc::new(Limiter::new(5, Duration::from_secs(60)));
        let now = Instant::now();
        let passed: usize = (0..40)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || limiter.attempt("ana", now).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap_or(false)))
            .sum();
        assert_eq!(passed, 5);
    }
}
