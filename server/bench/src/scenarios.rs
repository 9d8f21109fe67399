//! The scenarios. Each returns plain figures; `report` turns them into the table, JSON and plot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::{oneshot, watch, Notify};
use tokio_tungstenite::tungstenite::Message;
use xietong::{ChannelId, Seq};

use crate::client::{self, lock, parse_delivery, Endpoint, Probe, RecvStats, SharedStats};
use crate::target::{Kind, Target};

// ---------- idle hold ----------

#[derive(Debug, Clone, Serialize)]
pub struct IdleResult {
    pub connections: usize,
    pub failed: usize,
    pub connect_seconds: f64,
    pub connects_per_second: f64,
    pub rss_before_bytes: u64,
    pub rss_after_bytes: u64,
    pub rss_per_connection_bytes: f64,
    /// Handshakes the kernel dropped meanwhile because a listen queue was full (on this
    /// machine, any listener): each costs its client a retransmit, 1 s or more. `None` where
    /// the kernel's count cannot be read.
    pub listen_overflows: Option<u64>,
}

/// Opens `n` connections that only read (answering pings), then reads the server's RSS.
pub async fn idle_hold(target: &Target, ep: &Endpoint, n: usize, concurrency: usize) -> IdleResult {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = target.rss();
    let overflows_before = listen_overflows();
    let (opened, failed, connect_seconds) = open_connections(ep, 0, n, concurrency).await;
    let overflows = overflows_since(overflows_before);
    let connected = opened.len();
    let readers: Vec<_> = opened
        .into_iter()
        .map(|mut ws| tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = target.rss();
    for reader in &readers {
        reader.abort();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    IdleResult {
        connections: connected,
        failed,
        connect_seconds,
        connects_per_second: connected as f64 / connect_seconds,
        rss_before_bytes: rss_before,
        rss_after_bytes: rss_after,
        rss_per_connection_bytes: rss_after.saturating_sub(rss_before) as f64
            / connected.max(1) as f64,
        listen_overflows: overflows,
    }
}

/// The kernel's count of handshakes dropped because a listen queue was full
/// (`TcpExt: ListenOverflows` in `/proc/net/netstat`).
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut tcp_ext = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (tcp_ext.next()?, tcp_ext.next()?);
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, value)| value.parse().ok())
}

/// Listen-queue drops since `before` (a reading of [`listen_overflows`]).
fn overflows_since(before: Option<u64>) -> Option<u64> {
    Some(listen_overflows()?.saturating_sub(before?))
}

/// A count that may be unknown, for the log.
pub fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "(unknown)".to_owned(), |n| n.to_string())
}

/// Opens connections number `first..first + n`, `concurrency` at a time: those that opened,
/// how many failed, and the seconds it took.
async fn open_connections(
    ep: &Endpoint,
    first: usize,
    n: usize,
    concurrency: usize,
) -> (Vec<client::Ws>, usize, f64) {
    let started = Instant::now();
    let results: Vec<Result<client::Ws, client::ClientError>> =
        futures::stream::iter(first..first + n)
            .map(|i| ep.connect(i))
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let seconds = started.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| r.is_err()).count();
    (results.into_iter().flatten().collect(), failed, seconds)
}

// ---------- connect rounds ----------

/// Connects/s of Xietong and a baseline, both running, measured in alternating rounds. The
/// idle hold's one pass per server comes minutes apart, with the other scenarios in between;
/// back-to-back rounds see the same machine, and the median ignores a round that met a hiccup.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectRounds {
    /// The baseline's results key.
    pub baseline: String,
    pub connections_per_round: usize,
    /// Per round: (Xietong's connects/s, the baseline's), measured one right after the other.
    pub rounds: Vec<(f64, f64)>,
    pub failed: usize,
    /// Over all rounds: see [`IdleResult::listen_overflows`].
    pub listen_overflows: Option<u64>,
    /// The median of the rounds' ratios (Xietong ÷ baseline).
    pub ratio_median: f64,
    pub xietong_median: f64,
    pub baseline_median: f64,
}

/// `rounds` rounds of `n` connections to each server, closed again after each; who goes first
/// alternates. Connection numbers start at `first_index` and never repeat, so each round has
/// source ports of its own (see [`Endpoint::connect`]).
pub async fn connect_rounds(
    xietong: &Endpoint,
    baseline: &Endpoint,
    baseline_key: String,
    rounds: usize,
    n: usize,
    concurrency: usize,
    first_index: usize,
) -> ConnectRounds {
    let mut measured = Vec::with_capacity(rounds);
    let mut failed = 0;
    let overflows_before = listen_overflows();
    for round in 0..rounds {
        let mut rates = [0.0; 2];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let ep = [xietong, baseline][side];
            let first = first_index + (2 * round + side) * n;
            let (opened, failed_now, seconds) = open_connections(ep, first, n, concurrency).await;
            failed += failed_now;
            rates[side] = opened.len() as f64 / seconds;
            drop(opened);
            // The server closes them meanwhile, not during the next measurement.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        eprintln!(
            "  round {}: {:.0} against {:.0} connects/s ({:.2}×)",
            round + 1,
            rates[0],
            rates[1],
            rates[0] / rates[1].max(1e-9)
        );
        measured.push((rates[0], rates[1]));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => 0.0,
            l if l % 2 == 1 => v[l / 2],
            l => (v[l / 2 - 1] + v[l / 2]) / 2.0,
        }
    };
    ConnectRounds {
        baseline: baseline_key,
        connections_per_round: n,
        ratio_median: median(measured.iter().map(|(x, b)| x / b.max(1e-9)).collect()),
        xietong_median: median(measured.iter().map(|(x, _)| *x).collect()),
        baseline_median: median(measured.iter().map(|(_, b)| *b).collect()),
        rounds: measured,
        failed,
        listen_overflows: overflows_since(overflows_before),
    }
}

// ---------- receivers ----------

/// Connections subscribed to one channel, each recording every delivery.
pub struct Receivers {
    pub stats: Vec<SharedStats>,
    bounce: Vec<Arc<Notify>>,
    stop: watch::Sender<bool>,
    pub reconnects: Arc<AtomicU64>,
}

impl Receivers {
    pub async fn start(
        ep: &Endpoint,
        channel: ChannelId,
        count: usize,
        first_index: usize,
    ) -> Receivers {
        let (stop, stop_rx) = watch::channel(false);
        let reconnects = Arc::new(AtomicU64::new(0));
        let mut stats = Vec::with_capacity(count);
        let mut bounce = Vec::with_capacity(count);
        let mut ready = Vec::with_capacity(count);
        for i in 0..count {
            let s: SharedStats = Default::default();
            let b = Arc::new(Notify::new());
            let (tx, rx) = oneshot::channel();
            tokio::spawn(receiver(
                ep.clone(),
                first_index + i,
                channel,
                s.clone(),
                b.clone(),
                stop_rx.clone(),
                tx,
                reconnects.clone(),
            ));
            stats.push(s);
            bounce.push(b);
            ready.push(rx);
            if i % 100 == 99 {
                tokio::task::yield_now().await;
            }
        }
        for rx in ready {
            let _ = tokio::time::timeout(Duration::from_secs(60), rx).await;
        }
        Receivers {
            stats,
            bounce,
            stop,
            reconnects,
        }
    }

    pub fn reset(&self) {
        for s in &self.stats {
            lock(s).reset();
        }
    }

    pub fn delivered(&self) -> u64 {
        self.stats.iter().map(|s| lock(s).delivered).sum()
    }

    pub fn stop(self) {
        let _ = self.stop.send(true);
    }
}

#[allow(clippy::too_many_arguments)]
async fn receiver(
    ep: Endpoint,
    index: usize,
    channel: ChannelId,
    stats: SharedStats,
    bounce: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    ready: oneshot::Sender<()>,
    reconnects: Arc<AtomicU64>,
) {
    let mut ready = Some(ready);
    let mut first = true;
    loop {
        if *stop.borrow() {
            return;
        }
        let mut ws = match ep.connect(index).await {
            Ok(ws) => ws,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if !first {
            reconnects.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        if ep.kind == Kind::Xietong {
            let after = {
                let s = lock(&stats);
                (s.last_seq != Seq::ZERO).then_some(s.last_seq)
            };
            if client::send_text(&mut ws, client::subscribe_frame(channel, after))
                .await
                .is_err()
            {
                continue;
            }
        } else if let Some(tx) = ready.take() {
            let _ = tx.send(());
        }
        loop {
            tokio::select! {
                _ = bounce.notified() => { let _ = ws.close(None).await; break; }
                _ = stop.changed() => { let _ = ws.close(None).await; return; }
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        let now = client::now_micros();
                        if let Some((seq, probe)) = parse_delivery(ep.kind, text.as_str()) {
                            lock(&stats).record(seq, probe, now);
                        } else if text.as_str().starts_with("{\"resync\":") {
                            // Too far behind for a replay: a browser refetches its snapshot; the
                            // harness counts it and goes on from the head (what it missed counts
                            // as lost).
                            if let Ok(xietong::ServerMsg::Resync { head, .. }) = serde_json::from_str::<xietong::ServerMsg>(text.as_str()) {
                                let mut s = lock(&stats);
                                s.resyncs += 1;
                                s.last_seq = head;
                            }
                            if let Some(tx) = ready.take() { let _ = tx.send(()); }
                        } else if text.as_str().starts_with("{\"subscribed\":") {
                            if let Ok(xietong::ServerMsg::Subscribed { head, .. }) = serde_json::from_str::<xietong::ServerMsg>(text.as_str()) {
                                let mut s = lock(&stats);
                                if s.last_seq == Seq::ZERO { s.last_seq = head; }
                            }
                            if let Some(tx) = ready.take() { let _ = tx.send(()); }
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
            }
        }
    }
}

// ---------- publishers ----------

/// Publishes probes at `rate` per second for `duration`; returns how many were published (for
/// Xietong: acknowledged as stored).
async fn publish(
    ep: Endpoint,
    index: usize,
    channel: ChannelId,
    publisher: u32,
    rate: f64,
    duration: Duration,
) -> u64 {
    let Ok(ws) = ep.connect(index).await else {
        return 0;
    };
    let (mut sink, mut stream) = ws.split();
    let acked = Arc::new(AtomicU64::new(0));
    let kind = ep.kind;
    let reader = {
        let acked = acked.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                if kind == Kind::Xietong {
                    if let Message::Text(t) = frame {
                        if t.as_str().starts_with("{\"ack\":") {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        })
    };
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + duration;
    let mut sent = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        let probe = Probe {
            p: publisher,
            c: sent,
            t: client::now_micros(),
        };
        if sink
            .send(Message::Text(ep.publish_frame(probe, channel).into()))
            .await
            .is_err()
        {
            break;
        }
        sent += 1;
    }
    let published = if kind == Kind::Xietong {
        let wait_until = Instant::now() + Duration::from_secs(10);
        while acked.load(Ordering::Relaxed) < sent && Instant::now() < wait_until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        acked.load(Ordering::Relaxed)
    } else {
        // No acks to wait for: linger while the reader drains, so the socket never closes with
        // unread data (that would send a TCP reset and the server could drop the last frames).
        tokio::time::sleep(Duration::from_millis(500)).await;
        sent
    };
    let _ = sink.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    published
}

// ---------- fan-out ----------

#[derive(Debug, Clone, Serialize)]
pub struct FanoutResult {
    pub rate_per_second: f64,
    pub seconds: f64,
    pub receivers: usize,
    pub published: u64,
    pub deliveries: u64,
    pub deliveries_per_second: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub seq_gaps: u64,
    pub reconnects: u64,
    /// Xietong: reconnects too far behind for a replay (told to refetch).
    pub resyncs: u64,
    pub server_cpu_seconds: f64,
    pub cpu_seconds_per_million_deliveries: f64,
    /// (percentile, latency ms) points for the plot.
    pub percentiles: Vec<(f64, f64)>,
}

impl FanoutResult {
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.duplicates == 0 && self.reordered == 0 && self.seq_gaps == 0
    }
}

pub struct Load<'a> {
    pub target: &'a Target,
    pub ep: &'a Endpoint,
    pub channel: ChannelId,
    pub receivers: &'a Receivers,
    /// Connection indexes for publishers start here (after the receivers').
    pub publisher_index: usize,
    pub next_publisher: &'a mut u32,
}

/// `rate` messages/s for `duration` into the channel every receiver listens to. With `churn`,
/// that fraction of receivers disconnects and reconnects every second meanwhile.
pub async fn fanout(
    load: &mut Load<'_>,
    rate: f64,
    duration: Duration,
    churn: f64,
) -> FanoutResult {
    load.receivers.reset();
    let reconnects_before = load.receivers.reconnects.load(Ordering::Relaxed);
    let cpu_before = load.target.cpu_seconds();
    let started = Instant::now();
    let publishers = ((rate / 50.0).ceil() as usize).clamp(10, 200);
    let mut tasks = Vec::new();
    let mut ids = Vec::new();
    for i in 0..publishers {
        let id = *load.next_publisher;
        *load.next_publisher += 1;
        ids.push(id);
        tasks.push(tokio::spawn(publish(
            load.ep.clone(),
            load.publisher_index + i,
            load.channel,
            id,
            rate / publishers as f64,
            duration,
        )));
    }
    let churner = (churn > 0.0).then(|| {
        let bounce = load.receivers.bounce.clone();
        tokio::spawn(async move {
            let per_tick = ((bounce.len() as f64) * churn).round() as usize;
            let mut offset = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                for k in 0..per_tick {
                    bounce[(offset + k) % bounce.len()].notify_one();
                }
                offset += per_tick;
            }
        })
    });
    let mut published = HashMap::new();
    for (id, task) in ids.into_iter().zip(tasks) {
        published.insert(id, task.await.unwrap_or(0));
    }
    if let Some(churner) = churner {
        churner.abort();
    }
    let publish_seconds = started.elapsed().as_secs_f64();
    // Drain: wait until every receiver has everything, or nothing arrives for a while.
    let expected: u64 = published.values().sum::<u64>() * load.receivers.stats.len() as u64;
    let quiet_limit = if churn > 0.0 && load.ep.kind == Kind::Xietong {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(3)
    };
    let mut last = load.receivers.delivered();
    let mut quiet_since = Instant::now();
    while last < expected && quiet_since.elapsed() < quiet_limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = load.receivers.delivered();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
    let cpu = load.target.cpu_seconds() - cpu_before;
    let mut hist = client::new_histogram();
    let mut totals = RecvStats::default();
    let mut lost = 0;
    for s in &load.receivers.stats {
        let s = lock(s);
        let _ = hist.add(&s.latency_us);
        totals.delivered += s.delivered;
        totals.duplicates += s.duplicates;
        totals.reordered += s.reordered;
        totals.seq_gaps += s.seq_gaps;
        totals.resyncs += s.resyncs;
        let missing = s.missing(&published);
        if missing > 0 && lost == 0 {
            eprintln!(
                "  first receiver with losses misses (publisher, number): {:?} of {:?}",
                s.missing_sample(&published, 8),
                published
            );
        }
        lost += missing;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let percentiles = [
        0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0,
    ]
    .iter()
    .map(|p| (*p, ms(hist.value_at_quantile(p / 100.0))))
    .collect();
    FanoutResult {
        rate_per_second: rate,
        seconds: publish_seconds,
        receivers: load.receivers.stats.len(),
        published: published.values().sum(),
        deliveries: totals.delivered,
        deliveries_per_second: totals.delivered as f64 / publish_seconds,
        latency_ms_p50: ms(hist.value_at_quantile(0.5)),
        latency_ms_p99: ms(hist.value_at_quantile(0.99)),
        latency_ms_max: ms(hist.max()),
        lost,
        duplicates: totals.duplicates,
        reordered: totals.reordered,
        seq_gaps: totals.seq_gaps,
        reconnects: load.receivers.reconnects.load(Ordering::Relaxed) - reconnects_before,
        resyncs: totals.resyncs,
        server_cpu_seconds: cpu,
        cpu_seconds_per_million_deliveries: cpu / (totals.delivered.max(1) as f64 / 1e6),
        percentiles,
    }
}

impl Receivers {
    /// Waits until nothing has arrived for `quiet` (the previous phase's tail is done), at most
    /// `limit`.
    pub async fn settle(&self, quiet: Duration, limit: Duration) {
        let started = Instant::now();
        let mut last = self.delivered();
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < quiet && started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.delivered();
            if now != last {
                last = now;
                quiet_since = Instant::now();
            }
        }
    }
}

// ---------- saturation ----------

#[derive(Debug, Clone, Serialize)]
pub struct SaturationResult {
    pub steps: Vec<FanoutResult>,
    /// Highest deliveries/s of a step with p99 ≤ the limit and no loss.
    pub sustained_deliveries_per_second: f64,
    pub sustained_rate_per_second: f64,
}

/// Raises the rate 1.5× per step until a step misses the limit, then narrows the last
/// passed and the first failed rate down by `refine` halvings (geometric midpoints), so the
/// sustained rate is known to within 1.5^(1/2^refine) and a ratio against another server is
/// not an artefact of the grid (two servers one step apart differ 1.5× whatever their gap).
pub async fn saturation(
    load: &mut Load<'_>,
    start_rate: f64,
    step: Duration,
    max_p99_ms: f64,
    max_rate: f64,
    refine: u32,
) -> SaturationResult {
    let mut steps = Vec::new();
    let mut best = (0.0, 0.0);
    let mut passed: Option<f64> = None;
    let mut failed: Option<f64> = None;
    let mut rate = start_rate;
    let mut refinements = 0;
    while rate <= max_rate {
        let (result, ok) = saturation_step(load, rate, step, max_p99_ms).await;
        if ok && result.deliveries_per_second > best.0 {
            best = (result.deliveries_per_second, rate);
        }
        steps.push(result);
        if ok {
            passed = Some(rate);
        } else {
            failed = Some(rate);
        }
        rate = match (passed, failed) {
            (_, None) => rate * 1.5,
            (Some(low), Some(high)) if refinements < refine => {
                refinements += 1;
                (low * high).sqrt()
            }
            _ => break,
        };
        if failed.is_some() {
            // The failed step's backlog must not count against the next one.
            load.receivers
                .settle(Duration::from_secs(1), Duration::from_secs(10))
                .await;
        }
    }
    SaturationResult {
        steps,
        sustained_deliveries_per_second: best.0,
        sustained_rate_per_second: best.1,
    }
}

/// One saturation step at `rate`, and whether it passed: no loss and p99 within the limit. One
/// slow step on a shared 2-core box can be a hiccup, so a rate fails when it misses the latency
/// limit twice in a row.
async fn saturation_step(
    load: &mut Load<'_>,
    rate: f64,
    step: Duration,
    max_p99_ms: f64,
) -> (FanoutResult, bool) {
    let mut result = fanout(load, rate, step, 0.0).await;
    let mut ok = result.clean() && result.latency_ms_p99 <= max_p99_ms;
    if !ok && result.clean() {
        load.receivers
            .settle(Duration::from_secs(1), Duration::from_secs(10))
            .await;
        result = fanout(load, rate, step, 0.0).await;
        ok = result.clean() && result.latency_ms_p99 <= max_p99_ms;
    }
    eprintln!(
        "  {:>6.0} msg/s → {:>9.0} deliveries/s, p99 {:>7.1} ms, lost {}{}",
        rate,
        result.deliveries_per_second,
        result.latency_ms_p99,
        result.lost,
        if ok { "" } else { "  (limit)" }
    );
    (result, ok)
}

// ---------- persistence (Xietong only) ----------

#[derive(Debug, Clone, Serialize)]
pub struct PersistenceResult {
    pub publishers: usize,
    pub window: usize,
    pub seconds: f64,
    pub committed: u64,
    pub committed_per_second: f64,
}

/// `publishers` connections each keep `window` posts in flight; counts acknowledgements (each
/// one means committed to SQLite).
pub async fn persistence(
    ep: &Endpoint,
    channel: ChannelId,
    publishers: usize,
    window: usize,
    duration: Duration,
    first_index: usize,
) -> PersistenceResult {
    let started = Instant::now();
    let end = started + duration;
    let tasks: Vec<_> = (0..publishers)
        .map(|i| {
            let ep = ep.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = ep.connect(first_index + i).await else {
                    return 0u64;
                };
                let mut sent = 0u64;
                let mut acked = 0u64;
                let publisher = 1_000_000 + i as u32;
                let frame = |c| {
                    ep.publish_frame(
                        Probe {
                            p: publisher,
                            c,
                            t: client::now_micros(),
                        },
                        channel,
                    )
                };
                while sent < window as u64 {
                    if client::send_text(&mut ws, frame(sent)).await.is_err() {
                        return acked;
                    }
                    sent += 1;
                }
                while let Some(Ok(message)) = ws.next().await {
                    if let Message::Text(t) = message {
                        if t.as_str().starts_with("{\"ack\":") {
                            acked += 1;
                            if Instant::now() < end {
                                if client::send_text(&mut ws, frame(sent)).await.is_err() {
                                    break;
                                }
                                sent += 1;
                            } else if acked == sent {
                                break;
                            }
                        }
                    }
                }
                acked
            })
        })
        .collect();
    let mut committed = 0;
    for task in tasks {
        committed += task.await.unwrap_or(0);
    }
    let seconds = started.elapsed().as_secs_f64();
    PersistenceResult {
        publishers,
        window,
        seconds,
        committed,
        committed_per_second: committed as f64 / seconds,
    }
}

// ---------- first screen (Xietong only) ----------

#[derive(Debug, Clone, Serialize)]
pub struct FirstScreenResult {
    pub requests: usize,
    /// Requests that failed: an error status, a broken connection, or no answer within 5 s.
    pub failed: usize,
    pub messages_rendered: usize,
    pub page_ms_p50: f64,
    pub page_ms_p99: f64,
    pub static_ms_p50: f64,
    pub static_ms_p99: f64,
}

pub async fn first_screen(
    http: &reqwest::Client,
    ep: &Endpoint,
    channel: ChannelId,
    requests: usize,
) -> FirstScreenResult {
    let page_url = format!("{}/c/{}", ep.base(), channel);
    let static_url = format!("{}/pkg/xietong.css", ep.base());
    let cookie = ep.cookies.first().cloned().unwrap_or_default();
    let mut page = client::new_histogram();
    let mut file = client::new_histogram();
    let mut rendered = 0;
    let mut failed = 0;
    const DEADLINE: Duration = Duration::from_secs(5);
    for _ in 0..requests {
        let t = Instant::now();
        let fetched = tokio::time::timeout(DEADLINE, async {
            let r = http
                .get(&page_url)
                .header("cookie", &cookie)
                .send()
                .await
                .ok()?;
            if !r.status().is_success() {
                return None;
            }
            r.text().await.ok()
        })
        .await;
        match fetched {
            Ok(Some(body)) => {
                let _ = page.record(t.elapsed().as_micros().max(1) as u64);
                rendered = body.matches("<article ").count();
            }
            _ => failed += 1,
        }
        let t = Instant::now();
        let fetched = tokio::time::timeout(DEADLINE, async {
            let r = http.get(&static_url).send().await.ok()?;
            if !r.status().is_success() {
                return None;
            }
            r.bytes().await.ok()
        })
        .await;
        match fetched {
            Ok(Some(_)) => {
                let _ = file.record(t.elapsed().as_micros().max(1) as u64);
            }
            _ => failed += 1,
        }
    }
    let ms = |h: &hdrhistogram::Histogram<u64>, q| h.value_at_quantile(q) as f64 / 1000.0;
    FirstScreenResult {
        requests,
        failed,
        messages_rendered: rendered,
        page_ms_p50: ms(&page, 0.5),
        page_ms_p99: ms(&page, 0.99),
        static_ms_p50: ms(&file, 0.5),
        static_ms_p99: ms(&file, 0.99),
    }
}
