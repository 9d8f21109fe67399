//! The results: one table on stdout, a JSON file with a stable schema, a latency plot (SVG).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::scenarios::{
    ConnectRounds, FanoutResult, FirstScreenResult, IdleResult, PersistenceResult, SaturationResult,
};
use crate::target::Kind;

/// Bumped when a field changes meaning or is removed (adding fields keeps it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Default)]
pub struct ServerResults {
    pub idle: Option<IdleResult>,
    pub fanout: Option<FanoutResult>,
    pub saturation: Option<SaturationResult>,
    pub churn: Option<FanoutResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// The first screen's module (`pkg/xietong.wasm`).
    pub wasm_bytes: u64,
    pub wasm_gzip_bytes: u64,
    /// Modules loaded on demand (`cargo leptos --split`): (file, raw bytes, gzipped bytes).
    pub lazy_chunks: Vec<(String, u64, u64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub date: String,
    pub machine: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
    pub servers: BTreeMap<String, ServerResults>,
    pub persistence: Option<PersistenceResult>,
    /// Connects/s in alternating rounds beside a baseline (`--connect-rounds`).
    pub connect_rounds: Option<ConnectRounds>,
    pub first_screen: Option<FirstScreenResult>,
    pub bundle: Option<Bundle>,
    pub targets: Vec<Target>,
}

/// The results key of Xietong run as several nodes.
pub fn nodes_key(nodes: usize) -> String {
    format!("xietong-{nodes}-nodes")
}

/// The results key of a server kind: `xietong`, `bare-rust`, `node-ws`.
pub fn key(kind: Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Report {
    pub fn server(&self, kind: Kind) -> Option<&ServerResults> {
        self.servers.get(&key(kind))
    }

    pub fn server_mut(&mut self, key: &str) -> &mut ServerResults {
        self.servers.entry(key.to_owned()).or_default()
    }

    /// The Xietong cluster run, if there was one: (key, results).
    fn cluster(&self) -> Option<(&String, &ServerResults)> {
        self.servers.iter().find(|(k, _)| k.ends_with("-nodes"))
    }

    /// Evaluates the issue's targets against what was measured.
    pub fn evaluate_targets(&mut self) {
        let mut targets = Vec::new();
        let x = self.server(Kind::Xietong).cloned().unwrap_or_default();
        let bare = self.server(Kind::BareRust).cloned().unwrap_or_default();
        let batched = self.server(Kind::BareBatched).cloned().unwrap_or_default();
        let node = self.server(Kind::NodeWs).cloned().unwrap_or_default();
        if let Some(idle) = &x.idle {
            let kib = idle.rss_per_connection_bytes / 1024.0;
            targets.push(Target {
                name: "idle RSS per connection".into(),
                target: "≤ 16 KiB".into(),
                measured: format!("{kib:.1} KiB"),
                met: kib <= 16.0,
            });
        }
        if let Some(f) = &x.fanout {
            targets.push(Target {
                name: "fan-out p99".into(),
                target: "≤ 50 ms, zero loss".into(),
                measured: format!("{:.1} ms, lost {}", f.latency_ms_p99, f.lost),
                met: f.latency_ms_p99 <= 50.0 && f.clean(),
            });
            if let Some(b) = &bare.fanout {
                let r = f.cpu_seconds_per_million_deliveries
                    / b.cpu_seconds_per_million_deliveries.max(1e-9);
                targets.push(Target {
                    name: "CPU per delivery vs bare".into(),
                    target: "≤ 1.6×".into(),
                    measured: format!("{r:.2}×"),
                    met: r <= 1.6,
                });
            }
            if let Some(n) = &node.fanout {
                let r = f.cpu_seconds_per_million_deliveries
                    / n.cpu_seconds_per_million_deliveries.max(1e-9);
                targets.push(Target {
                    name: "CPU per delivery vs node ws".into(),
                    target: "≤ 0.33×".into(),
                    measured: format!("{r:.2}×"),
                    met: r <= 1.0 / 3.0,
                });
            }
        }
        if let Some(s) = &x.saturation {
            // A baseline that sustained no step gives no ratio (and no target is claimed met).
            let ratio = |base: &Option<SaturationResult>| {
                base.as_ref()
                    .filter(|b| b.sustained_deliveries_per_second > 0.0)
                    .map(|b| s.sustained_deliveries_per_second / b.sustained_deliveries_per_second)
            };
            for (name, base, goal, min) in [
                ("saturation vs bare", &bare.saturation, "≥ 0.6×", 0.6),
                (
                    "saturation vs bare batched (the floor)",
                    &batched.saturation,
                    "≥ 0.8×",
                    0.8,
                ),
                ("saturation vs node ws", &node.saturation, "≥ 3×", 3.0),
            ] {
                if base.is_some() {
                    let r = ratio(base);
                    targets.push(Target {
                        name: name.into(),
                        target: goal.into(),
                        measured: r
                            .map(|r| format!("{r:.2}×"))
                            .unwrap_or_else(|| "baseline sustained no step".into()),
                        met: r.is_some_and(|r| r >= min),
                    });
                }
            }
        }
        if let Some(c) = &x.churn {
            targets.push(Target {
                name: "churn recovery".into(),
                target: "zero loss".into(),
                measured: format!("lost {}, dup {}", c.lost, c.duplicates),
                met: c.clean(),
            });
        }
        if let Some(p) = &self.persistence {
            targets.push(Target {
                name: "SQLite commits".into(),
                target: "≥ 10,000/s".into(),
                measured: format!("{:.0}/s", p.committed_per_second),
                met: p.committed_per_second >= 10_000.0,
            });
        }
        if let Some(b) = &self.bundle {
            let kib = b.wasm_gzip_bytes as f64 / 1024.0;
            targets.push(Target {
                name: "WASM bundle gzipped".into(),
                target: "≤ 350 KiB".into(),
                measured: format!("{kib:.0} KiB"),
                met: kib <= 350.0,
            });
        }
        if let Some(f) = &self.first_screen {
            targets.push(Target {
                name: "first screen p99 (SSR, 50 msgs)".into(),
                target: "≤ 300 ms, no failed request".into(),
                measured: format!("{:.1} ms, {} failed", f.page_ms_p99, f.failed),
                met: f.page_ms_p99 <= 300.0 && f.failed == 0,
            });
        }
        if let Some(idle) = &x.idle {
            let base = [(&bare, "bare"), (&batched, "bare batched")]
                .into_iter()
                .find_map(|(b, name)| {
                    b.idle
                        .as_ref()
                        .filter(|b| b.connects_per_second > 0.0)
                        .map(|b| (b, name))
                });
            if let Some((b, name)) = base {
                let r = idle.connects_per_second / b.connects_per_second;
                targets.push(Target {
                    name: format!("connects/s vs {name}, one pass each (idle hold)"),
                    target: "≥ 0.8×".into(),
                    measured: format!("{r:.2}×"),
                    met: r >= 0.8,
                });
            }
        }
        if let Some(c) = &self.connect_rounds {
            targets.push(Target {
                name: format!(
                    "connects/s vs {}, median of {} alternating rounds",
                    c.baseline,
                    c.rounds.len()
                ),
                target: "≥ 0.8×".into(),
                measured: format!(
                    "{:.2}× (medians {:.0} and {:.0}/s; {} failed, {} dropped by a full listen queue)",
                    c.ratio_median,
                    c.xietong_median,
                    c.baseline_median,
                    c.failed,
                    crate::scenarios::count(c.listen_overflows)
                ),
                met: c.ratio_median >= 0.8 && c.failed == 0,
            });
        }
        self.targets = targets;
    }

    pub fn table(&self) -> String {
        let kinds = [
            Kind::Xietong,
            Kind::BareRust,
            Kind::BareBatched,
            Kind::NodeWs,
        ];
        let cluster = self.cluster();
        type Row = (String, String, [Option<f64>; 4], Option<f64>);
        let mut rows: Vec<Row> = Vec::new();
        let mut add = |scenario: &str,
                       metric: &str,
                       f: &dyn Fn(&ServerResults) -> Option<f64>,
                       _higher_better: bool| {
            let values = kinds.map(|k| self.server(k).and_then(f));
            rows.push((
                scenario.into(),
                metric.into(),
                values,
                cluster.and_then(|(_, c)| f(c)),
            ));
        };
        add(
            "idle hold",
            "RSS per connection (KiB)",
            &|s| s.idle.as_ref().map(|i| i.rss_per_connection_bytes / 1024.0),
            false,
        );
        add(
            "idle hold",
            "connects/s",
            &|s| s.idle.as_ref().map(|i| i.connects_per_second),
            true,
        );
        add(
            "fan-out",
            "latency p50 (ms)",
            &|s| s.fanout.as_ref().map(|f| f.latency_ms_p50),
            false,
        );
        add(
            "fan-out",
            "latency p99 (ms)",
            &|s| s.fanout.as_ref().map(|f| f.latency_ms_p99),
            false,
        );
        add(
            "fan-out",
            "latency max (ms)",
            &|s| s.fanout.as_ref().map(|f| f.latency_ms_max),
            false,
        );
        add(
            "fan-out",
            "deliveries/s",
            &|s| s.fanout.as_ref().map(|f| f.deliveries_per_second),
            true,
        );
        add(
            "fan-out",
            "server CPU-s per 1M deliveries",
            &|s| {
                s.fanout
                    .as_ref()
                    .map(|f| f.cpu_seconds_per_million_deliveries)
            },
            false,
        );
        add(
            "fan-out",
            "lost + duplicated + reordered",
            &|s| {
                s.fanout
                    .as_ref()
                    .map(|f| (f.lost + f.duplicates + f.reordered + f.seq_gaps) as f64)
            },
            false,
        );
        add(
            "saturation",
            "sustained deliveries/s",
            &|s| {
                s.saturation
                    .as_ref()
                    .map(|x| x.sustained_deliveries_per_second)
            },
            true,
        );
        add(
            "churn 10%/s",
            "latency p99 (ms)",
            &|s| s.churn.as_ref().map(|f| f.latency_ms_p99),
            false,
        );
        add(
            "churn 10%/s",
            "lost",
            &|s| s.churn.as_ref().map(|f| f.lost as f64),
            false,
        );
        add(
            "churn 10%/s",
            "duplicated",
            &|s| s.churn.as_ref().map(|f| f.duplicates as f64),
            false,
        );

        let mut out = String::new();
        let cluster_header = cluster.map(|(k, _)| format!(" {k} |")).unwrap_or_default();
        let cluster_rule = if cluster.is_some() { "---:|" } else { "" };
        let _ = writeln!(out, "| scenario | metric | xietong |{cluster_header} bare tokio-tungstenite | bare batched | node ws | xietong ÷ bare | xietong ÷ bare batched | xietong ÷ node |");
        let _ = writeln!(
            out,
            "|---|---|---:|{cluster_rule}---:|---:|---:|---:|---:|---:|"
        );
        for (scenario, metric, v, c) in rows {
            let cell = |x: Option<f64>| x.map(fmt_num).unwrap_or_else(|| "—".into());
            let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) if b > 0.0 && a > 0.0 => format!("{:.2}×", a / b),
                _ => "—".into(),
            };
            let cluster_cell = if cluster.is_some() {
                format!(" {} |", cell(c))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {scenario} | {metric} | {} |{cluster_cell} {} | {} | {} | {} | {} | {} |",
                cell(v[0]),
                cell(v[1]),
                cell(v[2]),
                cell(v[3]),
                ratio(v[0], v[1]),
                ratio(v[0], v[2]),
                ratio(v[0], v[3])
            );
        }
        let blank = if cluster.is_some() { " — |" } else { "" };
        if let Some(p) = &self.persistence {
            let _ = writeln!(out, "| persistence | committed messages/s (SQLite, {} publishers × {} in flight) | {} |{blank} — | — | — | — | — | — |", p.publishers, p.window, fmt_num(p.committed_per_second));
        }
        if let Some(f) = &self.first_screen {
            let _ = writeln!(out, "| first screen | channel page, 50 messages, p50 / p99 (ms) | {:.1} / {:.1} |{blank} — | — | — | — | — | — |", f.page_ms_p50, f.page_ms_p99);
            let _ = writeln!(out, "| first screen | static file (CSS), p50 / p99 (ms) | {:.1} / {:.1} |{blank} — | — | — | — | — | — |", f.static_ms_p50, f.static_ms_p99);
            let _ = writeln!(out, "| first screen | failed or timed-out requests (of {}) | {} |{blank} — | — | — | — | — | — |", 2 * f.requests, f.failed);
        }
        if let Some(b) = &self.bundle {
            let _ = writeln!(
                out,
                "| bundle | first-screen WASM raw / gzipped (KiB) | {:.0} / {:.0} |{blank} — | — | — | — | — | — |",
                b.wasm_bytes as f64 / 1024.0,
                b.wasm_gzip_bytes as f64 / 1024.0
            );
            for (name, raw, gz) in &b.lazy_chunks {
                let _ = writeln!(
                    out,
                    "| bundle | lazily loaded `{name}` raw / gzipped (KiB) | {:.1} / {:.1} |{blank} — | — | — | — | — | — |",
                    *raw as f64 / 1024.0,
                    *gz as f64 / 1024.0
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "| target | goal | measured | met |");
        let _ = writeln!(out, "|---|---|---|---|");
        for t in &self.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                t.name,
                t.target,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        out
    }

    /// Latency by percentile (fan-out), one line per server; the x axis spreads the tail
    /// ("nines") so p99 and p99.9 are visible.
    pub fn latency_svg(&self) -> String {
        type Series<'a> = (&'a str, &'a str, &'a Vec<(f64, f64)>);
        let mut series: Vec<Series> = [
            (Kind::Xietong, "#2563eb"),
            (Kind::BareRust, "#16a34a"),
            (Kind::BareBatched, "#9333ea"),
            (Kind::NodeWs, "#dc2626"),
        ]
        .iter()
        .filter_map(|(k, color)| {
            self.server(*k)
                .and_then(|s| s.fanout.as_ref())
                .map(|f| (k.label(), *color, &f.percentiles))
        })
        .collect();
        if let Some((key, fanout)) = self
            .cluster()
            .and_then(|(k, c)| c.fanout.as_ref().map(|f| (k, f)))
        {
            series.insert(1, (key.as_str(), "#7c3aed", &fanout.percentiles));
        }
        let (w, h, left, right, top, bottom) = (860.0, 480.0, 70.0, 20.0, 40.0, 60.0);
        let nines = |p: f64| -(1.0 - (p / 100.0).min(0.9999)).log10();
        let x_max = nines(99.99);
        let y_max = series
            .iter()
            .flat_map(|(_, _, pts)| pts.iter().map(|(_, ms)| *ms))
            .fold(1.0f64, f64::max)
            * 1.1;
        let px = |p: f64| left + nines(p) / x_max * (w - left - right);
        let py = |ms: f64| top + (1.0 - ms / y_max) * (h - top - bottom);
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            svg,
            r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="24" font-size="16" text-anchor="middle">Fan-out delivery latency by percentile ({})</text>"#,
            w / 2.0,
            self.date
        );
        for p in [0.0, 90.0, 99.0, 99.9, 99.99] {
            let x = px(p);
            let _ = writeln!(
                svg,
                r##"<line x1="{x}" y1="{top}" x2="{x}" y2="{}" stroke="#e5e7eb"/><text x="{x}" y="{}" text-anchor="middle">p{p}</text>"##,
                h - bottom,
                h - bottom + 18.0
            );
        }
        for i in 0..=5 {
            let ms = y_max * i as f64 / 5.0;
            let y = py(ms);
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#e5e7eb"/><text x="{}" y="{}" text-anchor="end">{ms:.1} ms</text>"##,
                w - right,
                left - 6.0,
                y + 4.0
            );
        }
        for (i, (label, color, pts)) in series.iter().enumerate() {
            let points: Vec<String> = pts
                .iter()
                .filter(|(p, _)| *p <= 99.99)
                .map(|(p, ms)| format!("{:.1},{:.1}", px(*p), py(*ms)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
            let ly = top + 16.0 + i as f64 * 18.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{label}</text>"#,
                left + 10.0,
                left + 34.0,
                left + 40.0,
                ly + 4.0
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">percentile (tail spread: each tick is one more nine)</text></svg>"#,
            w / 2.0,
            h - 12.0
        );
        svg
    }
}

fn fmt_num(x: f64) -> String {
    if x.abs() >= 1000.0 {
        let s = format!("{:.0}", x);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 && c != '-' {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}
