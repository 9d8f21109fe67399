//! The search benchmark: a channel with a long history (mixed Chinese and English), then the
//! "Search" server function's latency over a mix of queries, on SQLite and on PostgreSQL, with
//! a baseline in the same run — the same queries as a plain substring scan (`instr` /
//! `strpos`) over the same table, straight through SQL — and the first-screen time of the
//! channel with that history.
//!
//! The history is written straight into the database (as an upgrade from before the search
//! index would leave it, `indexed = 0`); the server's own background pass then indexes it,
//! and the benchmark waits for that before measuring.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::any::AnyPoolOptions;
use sqlx::Row;
use xietong::ChannelId;

use crate::client::{self, Endpoint};
use crate::scenarios::{self, FirstScreenResult};
use crate::target::{Kind, Paths, Target, TempDir};

const PASSWORD: &str = "bench password 1";
const AUTHORS: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub engine: String,
    pub messages: u64,
    pub seed_seconds: f64,
    pub index_seconds: f64,
    pub queries: usize,
    pub search_ms_p50: f64,
    pub search_ms_p99: f64,
    pub search_ms_max: f64,
    /// The same queries as a substring scan of the table (SQL only, no HTTP).
    pub scan_ms_p50: f64,
    pub scan_ms_p99: f64,
    pub mean_hits: f64,
    /// Each query's slowest time, ms, and how many results it had.
    pub per_query: Vec<(String, f64, usize)>,
    pub first_screen: FirstScreenResult,
}

/// Words the history is made of: Chinese runs are joined without spaces, as written.
const CHINESE: [&str; 48] = [
    "会议",
    "项目",
    "上海",
    "北京",
    "客户",
    "合同",
    "报告",
    "审批",
    "明天",
    "下午",
    "讨论",
    "进度",
    "预算",
    "系统",
    "测试",
    "发布",
    "需求",
    "设计",
    "文档",
    "数据",
    "用户",
    "服务器",
    "问题",
    "解决",
    "计划",
    "周报",
    "考勤",
    "请假",
    "出差",
    "报销",
    "销售",
    "市场",
    "产品",
    "开发",
    "运维",
    "财务",
    "人事",
    "通知",
    "公告",
    "培训",
    "深圳",
    "广州",
    "杭州",
    "东边",
    "我们",
    "已经",
    "确认",
    "完成",
];
const ENGLISH: [&str; 40] = [
    "meeting",
    "project",
    "release",
    "deploy",
    "budget",
    "review",
    "customer",
    "contract",
    "report",
    "design",
    "server",
    "database",
    "bug",
    "fix",
    "test",
    "schedule",
    "deadline",
    "sales",
    "market",
    "product",
    "invoice",
    "travel",
    "leave",
    "training",
    "notice",
    "please",
    "check",
    "update",
    "tomorrow",
    "afternoon",
    "shanghai",
    "beijing",
    "approved",
    "draft",
    "urgent",
    "weekly",
    "plan",
    "issue",
    "resolved",
    "team",
];

/// A small deterministic generator (xorshift), so every run writes the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn message_text(rng: &mut Rng) -> String {
    let mut text = String::new();
    let parts = 3 + rng.below(8);
    for _ in 0..parts {
        if rng.below(3) < 2 {
            text.push_str(CHINESE[rng.below(CHINESE.len())]);
        } else {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(ENGLISH[rng.below(ENGLISH.len())]);
            text.push(' ');
        }
    }
    text.trim().to_owned()
}

/// The queries measured, in proportion: common and rarer Chinese words, phrases across word
/// boundaries, English prefixes, several words, and the two filters.
fn queries() -> Vec<String> {
    let mut q: Vec<String> = Vec::new();
    for w in ["会议", "上海", "服务器", "报销", "东边", "杭州"] {
        q.push(w.into());
    }
    for w in ["上海东边", "明天下午", "会议项目", "审批通过"] {
        q.push(w.into());
    }
    for w in ["meet", "deploy", "shanghai", "resolv", "invoice"] {
        q.push(w.into());
    }
    for w in [
        "budget review",
        "会议 release",
        "urgent 审批",
        "project 上海 team",
    ] {
        q.push(w.into());
    }
    for w in [
        "上海 from:bench-a3",
        "deploy from:bench-a7",
        "会议 in:history",
        "bug in:history",
    ] {
        q.push(w.into());
    }
    q
}

/// What a substring scan would look up for a query: its plain words.
fn scan_words(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .filter(|w| !w.contains(':'))
        .map(str::to_lowercase)
        .collect()
}

pub async fn run(
    paths: &Paths,
    http: &reqwest::Client,
    engine: &str,
    messages: u64,
    rounds: usize,
    postgres_admin: &str,
    keep_database: bool,
) -> Result<SearchResult, Box<dyn std::error::Error>> {
    sqlx::any::install_default_drivers();
    let mut _dir: Option<TempDir> = None;
    let mut database: Option<String> = None;
    let (storage, db_url): (Vec<std::ffi::OsString>, String) = match engine {
        "sqlite" => {
            let dir =
                std::env::temp_dir().join(format!("xietong-search-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let url = format!("sqlite://{}", dir.join("xietong.db").display());
            let storage = vec!["--data-dir".into(), dir.clone().into_os_string()];
            _dir = Some(TempDir(dir));
            (storage, url)
        }
        _ => {
            let name = format!("xietong_search_bench_{}", std::process::id());
            let admin = AnyPoolOptions::new()
                .max_connections(1)
                .connect(postgres_admin)
                .await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            let server = postgres_admin
                .rsplit_once('/')
                .map(|(s, _)| s)
                .unwrap_or(postgres_admin);
            let url = format!("{server}/{name}");
            database = Some(name);
            (vec!["--database-url".into(), url.clone().into()], url)
        }
    };
    let storage_args: Vec<&std::ffi::OsStr> = storage.iter().map(|s| s.as_os_str()).collect();

    // First start: the schema, the authors, the channel.
    let target = Target::start_on(paths, &storage_args).await?;
    let mut ep = Endpoint {
        kind: Kind::Xietong,
        ports: target.ports.clone(),
        cookies: Vec::new(),
        pad: String::new(),
    };
    for i in 0..AUTHORS {
        ep.cookies
            .push(client::sign_up(http, &ep.base(), &format!("bench-a{i}"), PASSWORD).await?);
    }
    let channel = client::create_channel(http, &ep.base(), &ep.cookies[0], "history").await?;
    target.stop().await;

    eprintln!("  writing {messages} messages into {engine}");
    let started = Instant::now();
    seed(&db_url, channel, messages).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!("  {seed_seconds:.0} s");

    // Second start: the server indexes the history in the background.
    let started = Instant::now();
    let target = Target::start_on(paths, &storage_args).await?;
    ep.ports = target.ports.clone();
    let pool = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&db_url)
        .await?;
    loop {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE indexed = 0")
            .fetch_one(&pool)
            .await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let index_seconds = started.elapsed().as_secs_f64();
    eprintln!("  indexed in {index_seconds:.0} s");
    // The pass ends with ANALYZE (fresh planner statistics; on PostgreSQL after VACUUM of the
    // index table); let it finish.
    if engine != "sqlite" {
        loop {
            let vacuumed: Option<bool> = sqlx::query_scalar(
                "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'search_terms'",
            )
            .fetch_optional(&pool)
            .await?;
            if vacuumed == Some(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(10)).await;

    let queries = queries();
    let mut search = client::new_histogram();
    let mut scan = client::new_histogram();
    let mut hits_total = 0usize;
    let mut measured = 0usize;
    let mut per_query: Vec<(String, f64, usize)> =
        queries.iter().map(|q| (q.clone(), 0.0, 0)).collect();
    let contains = if engine == "sqlite" {
        "instr(lower(body), $1) > 0"
    } else {
        "strpos(lower(body), $1) > 0"
    };
    for round in 0..rounds {
        for (qi, query) in queries.iter().enumerate() {
            let cookie = &ep.cookies[round % AUTHORS];
            let t = Instant::now();
            let response = http
                .post(format!("{}/api/search", ep.base()))
                .header("cookie", cookie)
                .header("accept", "application/json")
                .form(&[("q", query.as_str())])
                .send()
                .await?
                .error_for_status()?;
            let hits: Vec<xietong::search::SearchHit> = response.json().await?;
            let took = t.elapsed();
            let _ = search.record(took.as_micros().max(1) as u64);
            let slot = &mut per_query[qi];
            slot.1 = slot.1.max(took.as_secs_f64() * 1000.0);
            slot.2 = hits.len();
            hits_total += hits.len();
            measured += 1;
            if round == 0 {
                // The baseline, once per query: a substring scan for its first word.
                let word = scan_words(query).into_iter().next().unwrap_or_default();
                let t = Instant::now();
                let sql = format!(
                    "SELECT id FROM messages WHERE channel_id = $2 AND {contains} ORDER BY id DESC LIMIT 30"
                );
                let _ = sqlx::query(&sql)
                    .bind(&word)
                    .bind(channel.0)
                    .fetch_all(&pool)
                    .await?;
                let _ = scan.record(t.elapsed().as_micros().max(1) as u64);
            }
        }
    }
    let first_screen = scenarios::first_screen(http, &ep, channel, 100).await;
    pool.close().await;
    target.stop().await;
    if let Some(name) = database.filter(|name| {
        if keep_database {
            eprintln!("  kept the database {name}");
        }
        !keep_database
    }) {
        let admin = AnyPoolOptions::new()
            .max_connections(1)
            .connect(postgres_admin)
            .await?;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
    }
    let ms = |h: &hdrhistogram::Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(SearchResult {
        engine: engine.into(),
        messages,
        seed_seconds,
        index_seconds,
        queries: measured,
        search_ms_p50: ms(&search, 0.5),
        search_ms_p99: ms(&search, 0.99),
        search_ms_max: search.max() as f64 / 1000.0,
        scan_ms_p50: ms(&scan, 0.5),
        scan_ms_p99: ms(&scan, 0.99),
        mean_hits: hits_total as f64 / measured.max(1) as f64,
        per_query,
        first_screen,
    })
}

/// Writes the history straight into the database: `messages` rows by the bench authors, and
/// the channel's log head moved past them.
async fn seed(
    url: &str,
    channel: ChannelId,
    messages: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let authors: Vec<i64> =
        sqlx::query("SELECT id FROM users WHERE username LIKE 'bench-a%' ORDER BY id")
            .fetch_all(&pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<_, _>>()?;
    let head: i64 =
        sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM messages WHERE channel_id = $1")
            .bind(channel.0)
            .fetch_one(&pool)
            .await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start_ms: i64 = 1_700_000_000_000;
    const ROWS: u64 = 500;
    let mut seq = head;
    let mut written = 0u64;
    while written < messages {
        let n = ROWS.min(messages - written);
        let mut tx = pool.begin().await?;
        let placeholders: Vec<String> = (0..n as usize)
            .map(|i| {
                format!(
                    "($1, ${}, ${}, ${}, ${})",
                    2 + i * 4,
                    3 + i * 4,
                    4 + i * 4,
                    5 + i * 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO messages (channel_id, seq, author_id, body, created_at) VALUES {}",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(channel.0);
        for _ in 0..n {
            seq += 1;
            let author = authors[rng.below(authors.len())];
            query = query
                .bind(seq)
                .bind(author)
                .bind(message_text(&mut rng))
                .bind(start_ms + seq * 1000);
        }
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        written += n;
        if written % 100_000 == 0 {
            eprintln!("    {written}");
        }
    }
    sqlx::query("UPDATE scope_heads SET head = $1 WHERE scope = $2")
        .bind(seq)
        .bind(format!("channel:{channel}"))
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO scope_heads (scope, head) SELECT $2, $1 WHERE NOT EXISTS (SELECT 1 FROM scope_heads WHERE scope = $2)")
        .bind(seq)
        .bind(format!("channel:{channel}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_mixes_chinese_and_english_the_same_way_every_run() {
        let mut a = Rng(7);
        let mut b = Rng(7);
        let texts: Vec<String> = (0..50).map(|_| message_text(&mut a)).collect();
        assert_eq!(
            texts,
            (0..50).map(|_| message_text(&mut b)).collect::<Vec<_>>()
        );
        assert!(texts.iter().any(|t| t.chars().any(xietong::search::is_cjk)));
        assert!(texts
            .iter()
            .any(|t| t.contains("meeting") || t.contains("deploy") || t.contains("team")));
    }
}
