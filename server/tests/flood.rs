//! A flood of log-ins, alone in its own test binary: it measures memory and page latency,
//! which other tests running beside it on the same cores would disturb.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// 300 concurrent log-ins with unknown users: password hashing is bounded, so memory stays
/// flat and pages stay fast meanwhile; every attempt gets a 4xx, none a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bogus_logins_neither_exhausts_memory_nor_stalls_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let base = server.base();
    // Warm up (the dummy hash, the page) before measuring.
    assert_eq!(
        post_form(&base, "login", "username=nobody&password=whatever1")
            .await
            .status(),
        401
    );
    assert_eq!(
        http()
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let before = rss_kib();
    let flood: Vec<_> = (0..300)
        .map(|i| {
            let base = base.clone();
            tokio::spawn(async move {
                post_form(
                    &base,
                    "login",
                    &format!("username=ghost{i}&password=whatever{i}"),
                )
                .await
                .status()
                .as_u16()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let page = http().get(format!("{base}/login")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        page.text().await.unwrap();
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let peak = rss_kib();
    let mut statuses = std::collections::BTreeMap::new();
    for task in flood {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    let grown_mib = peak.saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "RSS grew {grown_mib} MiB during the flood");
    assert!(
        slowest < Duration::from_millis(200),
        "a page took {slowest:?} during the flood"
    );
    assert!(
        statuses.keys().all(|s| *s == 401 || *s == 429),
        "answers: {statuses:?}"
    );
    server.stop().await;
}
