//! The files benchmark: one large file uploaded to a fresh Xietong (release, embedded SQLite)
//! in pieces, as the browser sends it, and downloaded again, each timed against `cp` of the
//! same file on the same disk (then fsync'd, as the server makes every piece durable), with
//! the server's resident memory sampled throughout: it must not grow with the file.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use xietong::files::{StartUpload, Upload};

use crate::target::{Kind, Paths, Target};

#[derive(Debug, Serialize)]
pub struct FilesResult {
    pub bytes: u64,
    pub piece_bytes: u64,
    pub cp_seconds: f64,
    pub upload_seconds: f64,
    pub download_seconds: f64,
    /// Upload time / `cp` time (1.0: as fast as copying on the disk).
    pub upload_vs_cp: f64,
    pub download_vs_cp: f64,
    pub server_rss_before_mib: f64,
    /// Highest resident memory while uploading and while downloading, above the idle figure.
    pub upload_rss_growth_mib: f64,
    pub download_rss_growth_mib: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

/// Fills a file with `bytes` of incompressible bytes (xorshift), 1 MiB at a time.
fn write_sample(path: &Path, bytes: u64) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let word = state.to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    file.flush()?;
    file.get_ref().sync_all()
}

/// The server's peak resident memory while `work` runs, sampled every 20 ms.
async fn peak_rss_during<F: std::future::Future>(target: &Target, work: F) -> (F::Output, u64) {
    let mut peak = target.rss();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return (out, peak.max(target.rss())),
            _ = tick.tick() => peak = peak.max(target.rss()),
        }
    }
}

pub async fn run(
    paths: &Paths,
    http: &reqwest::Client,
    megabytes: u64,
    piece_megabytes: u64,
) -> Result<FilesResult, Box<dyn std::error::Error>> {
    let bytes = megabytes * 1024 * 1024;
    let piece = piece_megabytes * 1024 * 1024;
    let dir = crate::target::TempDir(
        std::env::temp_dir().join(format!("xietong-bench-files-{}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0)?;
    let source = dir.0.join("source.bin");
    eprintln!("writing a {megabytes} MB sample file");
    write_sample(&source, bytes)?;

    // The baseline: the same bytes copied on the same disk, made durable.
    let copy = dir.0.join("copy.bin");
    let started = Instant::now();
    let status = std::process::Command::new("cp")
        .arg(&source)
        .arg(&copy)
        .status()?;
    if !status.success() {
        return Err("cp failed".into());
    }
    std::fs::File::open(&copy)?.sync_all()?;
    let cp_seconds = started.elapsed().as_secs_f64();
    std::fs::remove_file(&copy)?;

    let target = Target::start(Kind::Xietong, paths).await?;
    let base = format!("http://127.0.0.1:{}", target.ports[0]);
    let cookie = crate::client::sign_up(http, &base, "bench-files", crate::PASSWORD).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = target.rss();

    let upload = async {
        let started = Instant::now();
        let mut upload: Upload = http
            .post(format!("{base}/files/uploads"))
            .header("cookie", &cookie)
            .json(&StartUpload {
                name: "大文件.bin".into(),
                size: bytes,
            })
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut file = tokio::fs::File::open(&source).await?;
        let mut buffer = vec![0u8; piece as usize];
        while !upload.complete {
            use tokio::io::AsyncReadExt;
            let n = (bytes - upload.received).min(piece) as usize;
            file.read_exact(&mut buffer[..n]).await?;
            upload = http
                .put(format!(
                    "{base}/files/uploads/{}?offset={}",
                    upload.id, upload.received
                ))
                .header("cookie", &cookie)
                .body(buffer[..n].to_vec())
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
        }
        Ok::<_, Box<dyn std::error::Error>>((upload, started.elapsed().as_secs_f64()))
    };
    eprintln!("uploading in {piece_megabytes} MB pieces");
    let (uploaded, upload_peak) = peak_rss_during(&target, upload).await;
    let (upload, upload_seconds) = uploaded?;

    // Into the file cabinet, to have a stored file to download.
    let saved: xietong::CommandOutput = http
        .post(format!("{base}/api/command"))
        .header("cookie", &cookie)
        .header("accept", "application/json")
        .json(&serde_json::json!({
            "client_id": "bench-files-save-1",
            "command": xietong::Command::SaveUpload(xietong::files::SaveUpload {
                upload: upload.id.clone(),
                parent: None,
            }),
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let xietong::CommandOutput::EntryChanged { .. } = saved else {
        return Err(format!("saving the upload answered {saved:?}").into());
    };
    let cabinet: xietong::files::CabinetSnapshot = http
        .post(format!("{base}/api/cabinet"))
        .header("cookie", &cookie)
        .header("accept", "application/json")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let file = cabinet
        .entries
        .iter()
        .find_map(|e| e.file.clone())
        .ok_or("the cabinet holds no file")?;

    let target_path = dir.0.join("downloaded.bin");
    let download = async {
        let started = Instant::now();
        let mut response = http
            .get(format!("{base}{}", file.url()))
            .header("cookie", &cookie)
            .send()
            .await?
            .error_for_status()?;
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&target_path)?);
        let mut received = 0u64;
        while let Some(chunk) = response.chunk().await? {
            received += chunk.len() as u64;
            out.write_all(&chunk)?;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
        if received != bytes {
            return Err(format!("downloaded {received} of {bytes} bytes").into());
        }
        Ok::<_, Box<dyn std::error::Error>>(started.elapsed().as_secs_f64())
    };
    eprintln!("downloading");
    let (downloaded, download_peak) = peak_rss_during(&target, download).await;
    let download_seconds = downloaded?;
    target.stop().await;

    Ok(FilesResult {
        bytes,
        piece_bytes: piece,
        cp_seconds,
        upload_seconds,
        download_seconds,
        upload_vs_cp: upload_seconds / cp_seconds,
        download_vs_cp: download_seconds / cp_seconds,
        server_rss_before_mib: idle_rss as f64 / MIB,
        upload_rss_growth_mib: upload_peak.saturating_sub(idle_rss) as f64 / MIB,
        download_rss_growth_mib: download_peak.saturating_sub(idle_rss) as f64 / MIB,
    })
}

/// The result as the table the harness prints.
pub fn print(result: &FilesResult) {
    let mb = result.bytes as f64 / MIB;
    println!(
        "\nXietong files benchmark: {mb:.0} MB, pieces of {:.0} MB\n",
        result.piece_bytes as f64 / MIB
    );
    println!("| | seconds | MB/s | vs cp |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| cp + fsync (baseline) | {:.2} | {:.0} | 1.00× |",
        result.cp_seconds,
        mb / result.cp_seconds
    );
    println!(
        "| upload (pieces, hashed, stored) | {:.2} | {:.0} | {:.2}× |",
        result.upload_seconds,
        mb / result.upload_seconds,
        result.upload_vs_cp
    );
    println!(
        "| download | {:.2} | {:.0} | {:.2}× |",
        result.download_seconds,
        mb / result.download_seconds,
        result.download_vs_cp
    );
    println!(
        "\nserver memory: {:.1} MiB idle; peak growth {:.1} MiB while uploading, {:.1} MiB while downloading",
        result.server_rss_before_mib, result.upload_rss_growth_mib, result.download_rss_growth_mib
    );
}
