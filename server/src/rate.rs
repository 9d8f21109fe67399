//! Token buckets: every rate limit in the server (per connection, per user, per IP address).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// `rate` tokens per second sustained, at most `burst` saved up.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether it has been idle long enough to be full again (forgetting it changes nothing).
    fn is_full(&self, now: Instant) -> bool {
        self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate >= self.burst
    }
}

/// A token bucket per key (user, IP address), behind its own lock. Buckets outlive their
/// key's activity (a user reconnecting does not get a fresh one) and are forgotten only once
/// full again.
pub struct RateByKey<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

/// Buckets kept before full ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

impl<K: std::hash::Hash + Eq + Clone> RateByKey<K> {
    pub fn new(rate: f64, burst: f64) -> Self {
        RateByKey {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `per_minute` sustained, bursts of the same.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = f64::from(per_minute.max(1));
        RateByKey::new(n / 60.0, n)
    }

    /// Takes one token for `key`; false when its bucket is empty.
    pub fn take(&self, key: &K) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let now = Instant::now();
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        buckets
            .entry(key.clone())
            .or_insert_with(|| TokenBucket::new(self.rate, self.burst))
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let limiter = RateByKey::per_minute(3);
        assert!(limiter.take(&1) && limiter.take(&1) && limiter.take(&1));
        assert!(!limiter.take(&1));
        assert!(limiter.take(&2), "keys have their own buckets");
        let mut bucket = TokenBucket::new(1.0, 2.0);
        assert!(bucket.take() && bucket.take() && !bucket.take());
    }
}
