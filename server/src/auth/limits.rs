//! What keeps sign-up and log-in from being used to exhaust the server: argon2 is deliberately
//! expensive (19 MiB and tens of milliseconds per hash), so hashing is bounded, and callers are
//! limited per IP address and per username.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::AuthError;

/// Password hashes computed at once; the rest wait (up to `MAX_WAITING`, then are refused).
/// Half the cores: pages and sockets keep the other half while a flood of log-ins is hashed.
pub struct PasswordGate {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Hash requests allowed to queue behind the running ones before new ones are refused.
const MAX_WAITING: usize = 64;
/// How long a queued request waits for its turn before it is refused.
const MAX_WAIT: Duration = Duration::from_secs(15);

impl Default for PasswordGate {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        PasswordGate {
            permits: Semaphore::new((cores / 2).max(1)),
            waiting: AtomicUsize::new(0),
            max_waiting: MAX_WAITING,
        }
    }
}

impl PasswordGate {
    /// Runs `work` (hashing or verifying) when a slot is free; `Busy` when too many wait.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AuthError::Busy);
        }
        let permit = tokio::time::timeout(MAX_WAIT, self.permits.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = match permit {
            Ok(Ok(permit)) => permit,
            _ => return Err(AuthError::Busy),
        };
        Ok(tokio::task::spawn_blocking(work).await?)
    }
}

/// Log-in and sign-up attempts per client IP address.
pub type IpLimiter = crate::rate::RateByKey<IpAddr>;

/// Failed log-ins allowed per account from one address per window, before further attempts
/// from there are refused (argon2 makes each guess slow; the per-IP limit bounds how fast one
/// address guesses at all). Counted per address and account, not per account alone: otherwise
/// anyone could lock a colleague out by guessing wrong ten times.
const MAX_LOGIN_FAILURES: u32 = 10;
const LOGIN_FAILURE_WINDOW: Duration = Duration::from_secs(300);

type ThrottleKey = (Option<IpAddr>, String);

#[derive(Default)]
pub struct LoginThrottle(Mutex<HashMap<ThrottleKey, (u32, Instant)>>);

impl LoginThrottle {
    fn key(ip: Option<IpAddr>, username: &str) -> ThrottleKey {
        (ip, username.trim().to_lowercase())
    }

    pub fn blocked(&self, ip: Option<IpAddr>, username: &str) -> bool {
        let key = Self::key(ip, username);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&key) {
            Some((_, since)) if since.elapsed() > LOGIN_FAILURE_WINDOW => {
                map.remove(&key);
                false
            }
            Some((count, _)) => *count >= MAX_LOGIN_FAILURES,
            None => false,
        }
    }

    pub fn failed(&self, ip: Option<IpAddr>, username: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() <= LOGIN_FAILURE_WINDOW);
        }
        map.entry(Self::key(ip, username))
            .or_insert((0, Instant::now()))
            .0 += 1;
    }

    pub fn succeeded(&self, ip: Option<IpAddr>, username: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&Self::key(ip, username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_refuses_when_too_many_wait() {
        let gate = std::sync::Arc::new(PasswordGate {
            permits: Semaphore::new(1),
            waiting: AtomicUsize::new(0),
            max_waiting: 3,
        });
        let mut running = Vec::new();
        for _ in 0..4 {
            let gate = gate.clone();
            running.push(tokio::spawn(async move {
                gate.run(|| std::thread::sleep(Duration::from_millis(200)))
                    .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = gate.run(|| ()).await;
        assert!(matches!(refused, Err(AuthError::Busy)), "{refused:?}");
        for task in running {
            let _ = task.await;
        }
    }
}
