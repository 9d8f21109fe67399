//! `xietong-bench`: drives a real Xietong server (release build, embedded SQLite, fresh data
//! directory) through its public paths — HTTP sign-up, then `/ws` — and two baselines measured in
//! the same run, and prints one table. See README "Performance".

mod client;
mod files;
mod notices;
mod report;
mod scenarios;
mod search;
mod target;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use xietong::{ChannelId, Seq};

use client::Endpoint;
use report::{Bundle, Report};
use scenarios::Load;
use target::{Kind, Paths, Target};

#[derive(Parser, Debug)]
#[command(
    name = "xietong-bench",
    about = "Load harness for Xietong's real-time path, with baselines in the same run"
)]
struct Args {
    /// Servers to measure (xietong, bare, node).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "xietong,bare,bare-batched,node"
    )]
    servers: Vec<String>,
    /// Scenario 1: idle connections held.
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// Connections opened at once while connecting.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Connects/s in rounds alternating between Xietong and the floor (bare-batched; else the
    /// first baseline listed), both running (0: not measured). Run before the other scenarios.
    #[arg(long, default_value_t = 5)]
    connect_rounds: usize,
    /// Connections per server per connect round.
    #[arg(long, default_value_t = 5_000)]
    connect_round_connections: usize,
    /// Scenario 2: channel members (receiving connections).
    #[arg(long, default_value_t = 1_000)]
    members: usize,
    /// Scenario 2: messages per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Scenario 2: seconds of publishing.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Xietong's log filter; `warn,xietong_server::events=debug` adds the event log writer's
    /// load (queue wait, commit, publish, busy share) every 10 s.
    #[arg(long, default_value = "warn")]
    server_log: String,
    /// Scenario 3: first publish rate (messages/s), raised 1.5× per step.
    #[arg(long, default_value_t = 50.0)]
    saturation_start: f64,
    /// Scenario 3: seconds per step.
    #[arg(long, default_value_t = 5)]
    saturation_step_seconds: u64,
    /// Scenario 3: p99 latency limit in ms.
    #[arg(long, default_value_t = 100.0)]
    saturation_p99_ms: f64,
    /// Scenario 3: stop raising beyond this rate.
    #[arg(long, default_value_t = 50_000.0)]
    saturation_max_rate: f64,
    /// Scenario 3: after the first step that misses the limit, this many more steps halve the
    /// interval between the last rate passed and the first failed (geometric midpoints).
    #[arg(long, default_value_t = 3)]
    saturation_refine: u32,
    /// Scenario 4: publishers, and posts each keeps in flight.
    #[arg(long, default_value_t = 50)]
    persist_publishers: usize,
    #[arg(long, default_value_t = 32)]
    persist_window: usize,
    #[arg(long, default_value_t = 10)]
    persist_seconds: u64,
    /// Scenario 5: fraction of members reconnecting every second, and seconds.
    #[arg(long, default_value_t = 0.1)]
    churn: f64,
    #[arg(long, default_value_t = 30)]
    churn_seconds: u64,
    /// Users the connections are spread over (Xietong; each user's session serves several
    /// connections, like browser tabs).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Requests for the first-screen measurement.
    #[arg(long, default_value_t = 200)]
    first_screen_requests: usize,
    #[arg(long)]
    xietong_bin: PathBuf,
    #[arg(long)]
    bare_bin: PathBuf,
    #[arg(long)]
    node_dir: PathBuf,
    /// The site built by `cargo leptos build --release` (for SSR pages and the bundle size).
    #[arg(long)]
    site_root: PathBuf,
    /// Also run Xietong as this many nodes on PostgreSQL + Redis (1: single node only).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// PostgreSQL server for --nodes (a database is created there and dropped afterwards).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Runtime threads per node with --nodes (0: one per core, each node's default). Several
    /// nodes on one small machine otherwise run more threads than it has cores.
    #[arg(long, default_value_t = 0)]
    node_workers: usize,
    /// Redis for --nodes.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// The search benchmark instead of the real-time scenarios: a channel with this many
    /// messages of history (0: do not run it).
    #[arg(long, default_value_t = 0)]
    search_messages: u64,
    /// Databases the search benchmark runs on (sqlite, postgres).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    search_engines: Vec<String>,
    /// Times each search query is sent.
    #[arg(long, default_value_t = 10)]
    search_rounds: usize,
    /// Keeps the seeded PostgreSQL database (its name is printed) for looking at query plans.
    #[arg(long)]
    search_keep_database: bool,
    /// The files benchmark instead of the real-time scenarios: upload and download a file of
    /// this many MB against `cp` of it (0: do not run it).
    #[arg(long, default_value_t = 0)]
    files_megabytes: u64,
    /// The files benchmark: MB per uploaded piece (the browser sends 4).
    #[arg(long, default_value_t = 4)]
    files_piece_megabytes: u64,
    /// The notice benchmark instead of the real-time scenarios: one notice to this many
    /// people, each connected and with an email address (0: do not run it).
    #[arg(long, default_value_t = 0)]
    notice_people: usize,
    /// Where the JSON results and the SVG plot go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

const PASSWORD: &str = "bench password 1";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xietong-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn raise_fd_limit(needed: u64) -> Result<u64, String> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().map_err(|e| e.to_string())?;
    if soft < hard {
        rlimit::Resource::NOFILE
            .set(hard, hard)
            .map_err(|e| e.to_string())?;
        eprintln!("raised the open-file limit (ulimit -n) from {soft} to {hard} for this run and the servers it starts");
    }
    if hard < needed {
        eprintln!("warning: ulimit -n hard limit {hard} is below the {needed} this run needs; connections beyond it will fail");
    }
    Ok(hard)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    raise_fd_limit(args.idle_connections as u64 + 2_000)?;
    if args.idle_connections > 20_000 {
        eprintln!(
            "using source addresses 127.0.0.1..127.0.0.{} (20,000 connections each)",
            1 + args.idle_connections / 20_000
        );
    }
    let paths = Paths {
        xietong: args.xietong_bin.clone(),
        bare: args.bare_bin.clone(),
        node_dir: args.node_dir.clone(),
        site_root: args.site_root.clone(),
        xietong_log: args.server_log.clone(),
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()?;
    if args.search_messages > 0 {
        return run_search(&args, &paths, &http).await;
    }
    if args.notice_people > 0 {
        let result = notices::run(&paths, args.notice_people).await?;
        std::fs::create_dir_all(&args.out)?;
        let json_path = args
            .out
            .join(format!("notice-{}.json", today().replace(':', "-")));
        std::fs::write(&json_path, serde_json::to_string_pretty(&result)?)?;
        notices::print(&result);
        println!("\n(results: {})", json_path.display());
        return Ok(());
    }
    if args.files_megabytes > 0 {
        let result = files::run(
            &paths,
            &http,
            args.files_megabytes,
            args.files_piece_megabytes,
        )
        .await?;
        std::fs::create_dir_all(&args.out)?;
        let json_path = args
            .out
            .join(format!("files-{}.json", today().replace(':', "-")));
        std::fs::write(&json_path, serde_json::to_string_pretty(&result)?)?;
        files::print(&result);
        println!(
            "
(results: {})",
            json_path.display()
        );
        return Ok(());
    }
    let mut report = Report {
        schema: report::SCHEMA_VERSION,
        date: today(),
        machine: machine(),
        parameters: parameters(&args),
        servers: BTreeMap::new(),
        persistence: None,
        connect_rounds: None,
        first_screen: None,
        bundle: bundle(&args.site_root),
        targets: Vec::new(),
    };
    let kinds: Vec<Kind> = args
        .servers
        .iter()
        .filter_map(|s| match s.as_str() {
            "xietong" => Some(Kind::Xietong),
            "bare" => Some(Kind::BareRust),
            "bare-batched" => Some(Kind::BareBatched),
            "node" => Some(Kind::NodeWs),
            _ => None,
        })
        .collect();
    // Each run: (results key, server kind, nodes). With --nodes N, Xietong also runs as N
    // nodes on PostgreSQL + Redis, reported beside the single node.
    let mut runs: Vec<(String, Kind, usize)> = Vec::new();
    for &kind in &kinds {
        runs.push((report::key(kind), kind, 1));
        if kind == Kind::Xietong && args.nodes > 1 {
            runs.push((report::nodes_key(args.nodes), kind, args.nodes));
        }
    }
    // Against the floor when it runs, else the first baseline listed.
    let round_baseline = kinds
        .iter()
        .copied()
        .find(|k| *k == Kind::BareBatched)
        .or_else(|| kinds.iter().copied().find(|k| *k != Kind::Xietong));
    if let Some(baseline) = round_baseline {
        if args.connect_rounds > 0 && kinds.contains(&Kind::Xietong) {
            report.connect_rounds = Some(connect_rounds(&args, &paths, &http, baseline).await?);
        }
    }
    for (key, kind, nodes) in runs {
        eprintln!("== {key} ==");
        let target = if nodes > 1 {
            Target::start_nodes(
                nodes,
                &paths,
                &args.postgres_url,
                &args.redis_url,
                (args.node_workers > 0).then_some(args.node_workers),
            )
            .await?
        } else {
            Target::start(kind, &paths).await?
        };
        let mut ep = Endpoint {
            kind,
            ports: target.ports.clone(),
            cookies: Vec::new(),
            pad: String::new(),
        };
        let (fanout_channel, persist_channel) = if kind == Kind::Xietong {
            ep.cookies = sign_up_users(&http, &ep, args.users).await?;
            let fanout =
                client::create_channel(&http, &ep.base(), &ep.cookies[0], "bench-fanout").await?;
            let persist =
                client::create_channel(&http, &ep.base(), &ep.cookies[0], "bench-persist").await?;
            (fanout, persist)
        } else {
            ep.pad = "x".repeat(pad_for_baselines());
            (ChannelId(1), ChannelId(1))
        };

        eprintln!("idle hold: {} connections", args.idle_connections);
        let idle = scenarios::idle_hold(
            &target,
            &ep,
            args.idle_connections,
            args.connect_concurrency,
        )
        .await;
        eprintln!(
            "  {:.1} KiB/connection, {:.0} connects/s, {} failed, {} dropped by a full listen queue",
            idle.rss_per_connection_bytes / 1024.0,
            idle.connects_per_second,
            idle.failed,
            scenarios::count(idle.listen_overflows)
        );
        report.server_mut(&key).idle = Some(idle);

        let first_index = args.idle_connections;
        let receivers =
            scenarios::Receivers::start(&ep, fanout_channel, args.members, first_index).await;
        let mut next_publisher = 1u32;
        let mut load = Load {
            target: &target,
            ep: &ep,
            channel: fanout_channel,
            receivers: &receivers,
            publisher_index: first_index + args.members,
            next_publisher: &mut next_publisher,
        };

        eprintln!(
            "fan-out: {} members, {} msg/s, {} s",
            args.members, args.rate, args.seconds
        );
        let fanout =
            scenarios::fanout(&mut load, args.rate, Duration::from_secs(args.seconds), 0.0).await;
        eprintln!(
            "  p50 {:.1} ms, p99 {:.1} ms, {:.0} deliveries/s, lost {}",
            fanout.latency_ms_p50, fanout.latency_ms_p99, fanout.deliveries_per_second, fanout.lost
        );
        report.server_mut(&key).fanout = Some(fanout);

        eprintln!("saturation: from {} msg/s", args.saturation_start);
        let saturation = scenarios::saturation(
            &mut load,
            args.saturation_start,
            Duration::from_secs(args.saturation_step_seconds),
            args.saturation_p99_ms,
            args.saturation_max_rate,
            args.saturation_refine,
        )
        .await;
        report.server_mut(&key).saturation = Some(saturation);
        // Let the last step's backlog drain and cut-off receivers resume before measuring churn.
        receivers
            .settle(Duration::from_secs(2), Duration::from_secs(30))
            .await;

        eprintln!(
            "churn: {:.0}% of members reconnect every second, {} s",
            args.churn * 100.0,
            args.churn_seconds
        );
        let churn = scenarios::fanout(
            &mut load,
            args.rate,
            Duration::from_secs(args.churn_seconds),
            args.churn,
        )
        .await;
        eprintln!(
            "  lost {}, duplicated {}, reconnects {}",
            churn.lost, churn.duplicates, churn.reconnects
        );
        report.server_mut(&key).churn = Some(churn);
        receivers.stop();

        if kind == Kind::Xietong && nodes == 1 {
            eprintln!(
                "persistence: {} publishers × {} in flight, {} s",
                args.persist_publishers, args.persist_window, args.persist_seconds
            );
            let p = scenarios::persistence(
                &ep,
                persist_channel,
                args.persist_publishers,
                args.persist_window,
                Duration::from_secs(args.persist_seconds),
                first_index + args.members + 1_000,
            )
            .await;
            eprintln!("  {:.0} committed/s", p.committed_per_second);
            report.persistence = Some(p);
            eprintln!("first screen: {} requests", args.first_screen_requests);
            report.first_screen = Some(
                scenarios::first_screen(&http, &ep, fanout_channel, args.first_screen_requests)
                    .await,
            );
        }
        target.stop().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report.evaluate_targets();
    std::fs::create_dir_all(&args.out)?;
    let stamp = report.date.replace(':', "-");
    let json_path = args.out.join(format!("results-{stamp}.json"));
    let svg_path = args.out.join(format!("latency-{stamp}.svg"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
    std::fs::write(&svg_path, report.latency_svg())?;
    println!(
        "\nXietong benchmark, {} ({} cores, {})\n",
        report.date,
        report.machine.get("cores").cloned().unwrap_or_default(),
        report.machine.get("cpu").cloned().unwrap_or_default()
    );
    println!("{}", report.table());
    println!(
        "raw results: {}\nlatency plot: {}",
        json_path.display(),
        svg_path.display()
    );
    Ok(())
}

/// `users` accounts (`bench-u0`…): their session cookies.
async fn sign_up_users(
    http: &reqwest::Client,
    ep: &Endpoint,
    users: usize,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut cookies = Vec::with_capacity(users);
    for i in 0..users {
        cookies.push(client::sign_up(http, &ep.base(), &format!("bench-u{i}"), PASSWORD).await?);
    }
    Ok(cookies)
}

/// Xietong (with `--users` signed in) and `baseline` side by side for the connect rounds.
async fn connect_rounds(
    args: &Args,
    paths: &Paths,
    http: &reqwest::Client,
    baseline: Kind,
) -> Result<scenarios::ConnectRounds, Box<dyn std::error::Error>> {
    let xietong = Target::start(Kind::Xietong, paths).await?;
    let floor = Target::start(baseline, paths).await?;
    let mut xietong_ep = Endpoint {
        kind: Kind::Xietong,
        ports: xietong.ports.clone(),
        cookies: Vec::new(),
        pad: String::new(),
    };
    xietong_ep.cookies = sign_up_users(http, &xietong_ep, args.users).await?;
    let floor_ep = Endpoint {
        kind: baseline,
        ports: floor.ports.clone(),
        cookies: Vec::new(),
        pad: String::new(),
    };
    eprintln!(
        "connect rounds: {} × {} connections to each of xietong and {}",
        args.connect_rounds,
        args.connect_round_connections,
        report::key(baseline)
    );
    // Connection numbers from 200,000: source addresses 127.0.0.11 and up, apart from the
    // other scenarios' (see `Endpoint::connect`).
    let rounds = scenarios::connect_rounds(
        &xietong_ep,
        &floor_ep,
        report::key(baseline),
        args.connect_rounds,
        args.connect_round_connections,
        args.connect_concurrency,
        200_000,
    )
    .await;
    eprintln!(
        "  median of the rounds' ratios {:.2}× (medians {:.0} and {:.0} connects/s), {} failed, {} dropped by a full listen queue",
        rounds.ratio_median,
        rounds.xietong_median,
        rounds.baseline_median,
        rounds.failed,
        scenarios::count(rounds.listen_overflows)
    );
    xietong.stop().await;
    floor.stop().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(rounds)
}

/// The search benchmark on each engine, printed as one table and kept as JSON.
async fn run_search(
    args: &Args,
    paths: &Paths,
    http: &reqwest::Client,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut results = Vec::new();
    for engine in &args.search_engines {
        eprintln!(
            "== search on {engine}: {} messages ==",
            args.search_messages
        );
        results.push(
            search::run(
                paths,
                http,
                engine,
                args.search_messages,
                args.search_rounds,
                &args.postgres_url,
                args.search_keep_database,
            )
            .await?,
        );
    }
    std::fs::create_dir_all(&args.out)?;
    let stamp = today().replace(':', "-");
    let json_path = args.out.join(format!("search-{stamp}.json"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&results)?)?;
    println!(
        "\nXietong search benchmark, {} ({} cores)\n",
        today(),
        machine().get("cores").cloned().unwrap_or_default()
    );
    println!("| engine | messages | index build | search p50 | search p99 | scan p50 (baseline) | scan p99 | p99 vs scan | first screen p50 / p99 |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &results {
        println!(
            "| {} | {} | {:.0} s | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}× | {:.1} / {:.1} ms ({} messages) |",
            r.engine,
            r.messages,
            r.index_seconds,
            r.search_ms_p50,
            r.search_ms_p99,
            r.scan_ms_p50,
            r.scan_ms_p99,
            r.search_ms_p99 / r.scan_ms_p99.max(0.001),
            r.first_screen.page_ms_p50,
            r.first_screen.page_ms_p99,
            r.first_screen.messages_rendered,
        );
    }
    for r in &results {
        let mut slowest = r.per_query.clone();
        slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
        let listed: Vec<String> = slowest
            .iter()
            .take(4)
            .map(|(q, ms, hits)| format!("\"{q}\" {ms:.1} ms ({hits} results)"))
            .collect();
        println!("slowest on {}: {}", r.engine, listed.join(", "));
    }
    println!("raw results: {}", json_path.display());
    Ok(())
}

/// Baseline frames are padded to the length of the event frame Xietong sends for the same probe,
/// so every server moves the same bytes.
fn pad_for_baselines() -> usize {
    let probe = client::Probe {
        p: 12,
        c: 3456,
        t: client::now_micros(),
    };
    let body = serde_json::to_string(&probe).unwrap_or_default();
    let event = xietong::ServerMsg::Event(xietong::Event {
        scope: xietong::Scope::Channel(ChannelId(2)),
        seq: Seq(34567),
        actor: Some(xietong::UserId(42)),
        at: 1_764_000_000_000,
        client_id: Some(xietong::ClientMsgId("bench-12-3456".into())),
        body: xietong::chat::ChatEvent::MessagePosted {
            message: xietong::Message {
                id: xietong::MessageId(34567),
                channel: ChannelId(2),
                seq: Seq(34567),
                author: xietong::UserRef {
                    id: xietong::UserId(42),
                    username: "bench-u41".into(),
                },
                body: body.clone(),
                created_at: 1_764_000_000_000,
                client_id: Some(xietong::ClientMsgId("bench-12-3456".into())),
                ..Default::default()
            },
        }
        .into(),
    })
    .to_json();
    event.len().saturating_sub(body.len() + 8)
}

/// The first screen's WASM module and every lazily loaded chunk, raw and gzipped.
fn bundle(site_root: &std::path::Path) -> Option<Bundle> {
    let gzipped = |bytes: &[u8]| -> Option<u64> {
        let mut encoder = flate2::read::GzEncoder::new(bytes, flate2::Compression::best());
        let mut gz = Vec::new();
        encoder.read_to_end(&mut gz).ok()?;
        Some(gz.len() as u64)
    };
    let pkg = site_root.join("pkg");
    let wasm = std::fs::read(pkg.join("xietong.wasm")).ok()?;
    let mut lazy_chunks = Vec::new();
    for entry in std::fs::read_dir(&pkg).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wasm") && name != "xietong.wasm" {
            let bytes = std::fs::read(entry.path()).ok()?;
            lazy_chunks.push((name, bytes.len() as u64, gzipped(&bytes)?));
        }
    }
    lazy_chunks.sort();
    Some(Bundle {
        wasm_bytes: wasm.len() as u64,
        wasm_gzip_bytes: gzipped(&wasm)?,
        lazy_chunks,
    })
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%MZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get().to_string())
            .unwrap_or_default(),
    );
    if let Ok(cpuinfo) = std::fs::read_to_string("/proc/cpuinfo") {
        if let Some(model) = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
        {
            m.insert("cpu".into(), model.trim().to_owned());
        }
    }
    if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        m.insert("kernel".into(), kernel.trim().to_owned());
    }
    m
}

fn parameters(args: &Args) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    for (k, v) in [
        ("idle_connections", args.idle_connections.to_string()),
        ("connect_rounds", args.connect_rounds.to_string()),
        (
            "connect_round_connections",
            args.connect_round_connections.to_string(),
        ),
        ("members", args.members.to_string()),
        ("rate", args.rate.to_string()),
        ("seconds", args.seconds.to_string()),
        ("saturation_start", args.saturation_start.to_string()),
        (
            "saturation_step_seconds",
            args.saturation_step_seconds.to_string(),
        ),
        ("saturation_p99_ms", args.saturation_p99_ms.to_string()),
        ("saturation_refine", args.saturation_refine.to_string()),
        ("persist_publishers", args.persist_publishers.to_string()),
        ("persist_window", args.persist_window.to_string()),
        ("churn", args.churn.to_string()),
        ("churn_seconds", args.churn_seconds.to_string()),
        ("users", args.users.to_string()),
        ("nodes", args.nodes.to_string()),
        ("node_workers", args.node_workers.to_string()),
    ] {
        p.insert(k.to_owned(), v);
    }
    p
}
