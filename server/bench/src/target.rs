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
    /// tokio-tungstenite broadcast, nothing else.
    BareRust,
    /// Node.js `ws` broadcast, nothing else.
    NodeWs,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Xietong => "xietong",
            Kind::BareRust => "bare tokio-tungstenite",
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
}

pub struct Target {
    pub kind: Kind,
    pub port: u16,
    child: Child,
    _data: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<u16, TargetError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(TargetError::Port)?;
    Ok(listener.local_addr().map_err(TargetError::Port)?.port())
}

impl Target {
    /// Starts a fresh server: Xietong with an empty data directory.
    pub async fn start(kind: Kind, paths: &Paths) -> Result<Target, TargetError> {
        let port = free_port()?;
        let bind = format!("127.0.0.1:{port}");
        let (mut command, data) = match kind {
            Kind::Xietong => {
                let dir = std::env::temp_dir()
                    .join(format!("xietong-bench-{}-{port}", std::process::id()));
                let mut c = Command::new(&paths.xietong);
                c.args(["--bind", &bind, "--log", "warn", "--post-rate", "100000"])
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
            Kind::NodeWs => {
                let mut c = Command::new("node");
                c.arg(paths.node_dir.join("server.js"))
                    .arg(port.to_string());
                (c, None)
            }
        };
        command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| TargetError::Spawn {
            what: kind.label().into(),
            source,
        })?;
        let target = Target {
            kind,
            port,
            child,
            _data: data,
        };
        target.wait_ready().await?;
        Ok(target)
    }

    async fn wait_ready(&self) -> Result<(), TargetError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(TargetError::NotReady(self.kind.label().into()))
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Resident memory, bytes.
    pub fn rss(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS:") * 1024
    }

    /// User + system CPU time used so far, seconds.
    pub fn cpu_seconds(&self) -> f64 {
        proc_cpu_seconds(self.pid())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
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
