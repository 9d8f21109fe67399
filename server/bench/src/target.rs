//! The servers under test: started as child processes on free ports, measured through /proc.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Xietong itself: auth, storage, ordering, recovery.
    Xietong,
    /// tokio-tungstenite broadcast, nothing else; flushes frame by frame.
    BareRust,
    /// The same, writing every queued frame in one system call (as Xietong does): the floor.
    BareBatched,
    /// Node.js `ws` broadcast, nothing else.
    NodeWs,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Xietong => "xietong",
            Kind::BareRust => "bare tokio-tungstenite",
            Kind::BareBatched => "bare batched",
            Kind::NodeWs => "node ws",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot start {what}: {source}")]
    Spawn {
        what: String,
        source: std::io::Error,
    },
    #[error("{0} did not become ready within 60 s")]
    NotReady(String),
    #[error("cannot find a free port: {0}")]
    Port(std::io::Error),
}

pub struct Paths {
    pub xietong: PathBuf,
    pub bare: PathBuf,
    pub node_dir: PathBuf,
    pub site_root: PathBuf,
    /// Xietong's `--log` filter (`--server-log`).
    pub xietong_log: String,
}

pub struct Target {
    /// One port per process (several for a Xietong cluster).
    pub ports: Vec<u16>,
    children: Vec<Child>,
    _data: Option<TempDir>,
    /// A cluster's PostgreSQL database: (admin URL, name), dropped on stop.
    database: Option<(String, String)>,
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Xietong's user-facing limits, raised for the harness: it pipelines far more than 20 posts/s
/// per user, signs 100 users up from one address, and spreads 10,000+ connections over them.
const XIETONG_LIMITS: [&str; 6] = [
    "--post-rate",
    "100000",
    "--auth-rate",
    "1000000",
    "--max-sockets-per-user",
    "1000",
];

/// Starts one Xietong process on `storage` (its database flags) and waits until it serves.
async fn spawn_xietong(
    paths: &Paths,
    storage: &[&std::ffi::OsStr],
    what: &str,
    workers: Option<usize>,
) -> Result<(u16, Child), TargetError> {
    let port = free_port()?;
    let mut c = Command::new(&paths.xietong);
    if let Some(workers) = workers {
        // Tokio's runtime reads this when the binary does not set a thread count itself.
        c.env("TOKIO_WORKER_THREADS", workers.to_string());
    }
    c.args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--log", &paths.xietong_log])
        .args(XIETONG_LIMITS)
        .args(storage)
        .arg("--site-root")
        .arg(&paths.site_root)
        // Xietong logs to stdout: shown with the harness's progress (warnings only, by default).
        .stdout(std::io::stderr())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let child = c.spawn().map_err(|source| TargetError::Spawn {
        what: what.into(),
        source,
    })?;
    wait_ready(port, what).await?;
    Ok((port, child))
}

fn free_port() -> Result<u16, TargetError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(TargetError::Port)?;
    Ok(listener.local_addr().map_err(TargetError::Port)?.port())
}

impl Target {
    /// Starts a fresh server: Xietong with an empty data directory.
    pub async fn start(kind: Kind, paths: &Paths) -> Result<Target, TargetError> {
        Self::start_with_args(kind, paths, &[]).await
    }

    /// `start`, with extra flags for Xietong (`--smtp-url …`).
    pub async fn start_with_args(
        kind: Kind,
        paths: &Paths,
        extra: &[&str],
    ) -> Result<Target, TargetError> {
        let port = free_port()?;
        let bind = format!("127.0.0.1:{port}");
        let (mut command, data) = match kind {
            Kind::Xietong => {
                let dir = std::env::temp_dir()
                    .join(format!("xietong-bench-{}-{port}", std::process::id()));
                let mut c = Command::new(&paths.xietong);
                c.args(["--bind", &bind, "--log", &paths.xietong_log])
                    .args(XIETONG_LIMITS)
                    .args(extra)
                    .arg("--data-dir")
                    .arg(&dir)
                    .arg("--site-root")
                    .arg(&paths.site_root);
                (c, Some(TempDir(dir)))
            }
            Kind::BareRust => {
                let mut c = Command::new(&paths.bare);
                c.arg(&bind);
                (c, None)
            }
            Kind::BareBatched => {
                let mut c = Command::new(&paths.bare);
                c.arg(&bind).arg("--batched");
                (c, None)
            }
            Kind::NodeWs => {
                let mut c = Command::new("node");
                c.arg(paths.node_dir.join("server.js"))
                    .arg(port.to_string());
                (c, None)
            }
        };
        // Xietong logs to stdout: shown with the harness's progress (warnings only, by default).
        let stdout = if kind == Kind::Xietong {
            Stdio::from(std::io::stderr())
        } else {
            Stdio::null()
        };
        command
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| TargetError::Spawn {
            what: kind.label().into(),
            source,
        })?;
        wait_ready(port, kind.label()).await?;
        Ok(Target {
            ports: vec![port],
            children: vec![child],
            _data: data,
            database: None,
        })
    }

    /// Starts `n` Xietong nodes on a fresh PostgreSQL database (created on `postgres_admin`'s
    /// server) sharing `redis`: the deployment of README "Running several nodes".
    /// `workers`: runtime threads per node (`None`: one per core, the default).
    pub async fn start_nodes(
        n: usize,
        paths: &Paths,
        postgres_admin: &str,
        redis: &str,
        workers: Option<usize>,
    ) -> Result<Target, TargetError> {
        let name = format!("xietong_bench_{}", std::process::id());
        let psql = |sql: String| {
            std::process::Command::new("psql")
                .arg(postgres_admin)
                .args(["-qc", &sql])
                .output()
        };
        let _ = psql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        match psql(format!("CREATE DATABASE {name}")) {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                let message = String::from_utf8_lossy(&out.stderr).to_string();
                return Err(TargetError::Spawn {
                    what: "psql".into(),
                    source: std::io::Error::other(message),
                });
            }
            Err(source) => {
                return Err(TargetError::Spawn {
                    what: "psql".into(),
                    source,
                })
            }
        }
        let server = postgres_admin
            .rsplit_once('/')
            .map(|(s, _)| s)
            .unwrap_or(postgres_admin);
        let database_url = format!("{server}/{name}");
        let mut target = Target {
            ports: Vec::new(),
            children: Vec::new(),
            _data: None,
            database: Some((postgres_admin.to_owned(), name)),
        };
        let storage = ["--database-url", &database_url, "--redis-url", redis];
        let storage: Vec<&std::ffi::OsStr> = storage.iter().map(std::ffi::OsStr::new).collect();
        for _ in 0..n {
            // One after the other: the first applies the migrations.
            let (port, child) = spawn_xietong(paths, &storage, "xietong node", workers).await?;
            target.children.push(child);
            target.ports.push(port);
        }
        Ok(target)
    }

    /// Starts one Xietong process on storage the caller keeps (a data directory or a
    /// PostgreSQL database), so it can be stopped, changed and started again.
    pub async fn start_on(
        paths: &Paths,
        storage: &[&std::ffi::OsStr],
    ) -> Result<Target, TargetError> {
        let (port, child) = spawn_xietong(paths, storage, "xietong", None).await?;
        Ok(Target {
            ports: vec![port],
            children: vec![child],
            _data: None,
            database: None,
        })
    }

    fn pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.children.iter().filter_map(|c| c.id())
    }

    /// Resident memory of all the target's processes, bytes.
    /// A single Xietong's data directory (its SQLite database is `xietong.db` in it).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self._data.as_ref().map(|d| d.0.as_path())
    }

    pub fn rss(&self) -> u64 {
        self.pids()
            .map(|pid| proc_status_kib(pid, "VmRSS:") * 1024)
            .sum()
    }

    /// User + system CPU time used so far by all the target's processes, seconds.
    pub fn cpu_seconds(&self) -> f64 {
        self.pids().map(proc_cpu_seconds).sum()
    }

    pub async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.kill().await;
        }
        if let Some((admin, name)) = self.database.take() {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = std::process::Command::new("psql")
                .arg(&admin)
                .args(["-qc", &drop])
                .output();
        }
    }
}

async fn wait_ready(port: u16, what: &str) -> Result<(), TargetError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(TargetError::NotReady(what.into()))
}

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn proc_cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    // The kernel's USER_HZ is 100 on every Linux we run on.
    100.0
}
