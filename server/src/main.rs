use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use xietong_server::Config;

/// 协同 Xietong: a self-hosted, real-time team office.
#[derive(Parser)]
#[command(name = "xietong", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Task>,
}

#[derive(Subcommand)]
enum Task {
    /// Administration from the command line (works with --signup closed).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Creates an administrator account; reads its password from the first line of stdin.
    Create {
        /// The account's username.
        name: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = cli.config;
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    if let Some(Task::Admin {
        action: AdminAction::Create { name },
    }) = cli.command
    {
        eprintln!("Password for {name} (one line on stdin):");
        let mut password = String::new();
        if let Err(e) = std::io::stdin().read_line(&mut password) {
            eprintln!("xietong: cannot read the password: {e}");
            return std::process::ExitCode::FAILURE;
        }
        let password = password.trim_end_matches(['\r', '\n']);
        return match xietong_server::create_admin(&config, &name, password).await {
            Ok(user) => {
                println!("created administrator {} (id {})", user.username, user.id);
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xietong: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let running = match xietong_server::start(config).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("xietong: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let stop = running.stop_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        stop.cancel();
    });
    match running.wait().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xietong: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
