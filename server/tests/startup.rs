//! The binary itself: its help, and a clear failure when the database cannot be opened.

use std::process::Command;

#[test]
fn help_lists_every_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bind",
        "--data-dir",
        "--database-url",
        "--allowed-origins",
        "--max-frame-bytes",
        "--site-root",
        "--output-name",
        "XIETONG_BIND",
        "XIETONG_DATABASE_URL",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn an_unopenable_database_is_a_clear_error_and_a_failed_exit() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where the data directory should be").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(blocker.join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot start") && stderr.contains("not-a-dir"),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            "sqlite:///nonexistent-dir/x.db",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open the database sqlite:///nonexistent-dir/x.db"),
        "{stderr}"
    );
}

#[test]
fn mail_to_outside_addresses_without_an_smtp_server_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .args(["--bind", "127.0.0.1:0", "--mail-outside", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--mail-outside") && stderr.contains("--smtp-url"), "{stderr}");
}
