use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use kubox::cli::{Cli, Command, CommonArgs};
use kubox::cluster::{Cluster, Config, shutdown_signal};
use kubox::store::OpenError;
use kubox::store::backup::{BackupError, backup_offline, restore};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_file = match tui_log_file(&cli) {
        Ok(f) => f,
        Err(message) => {
            eprintln!("kubox: {message}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(log_file.as_ref().map(|(_, file)| file.clone()));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kubox: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli, log_file.map(|(path, _)| path)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kubox: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The TUI owns the terminal, so its log goes to `DATA_DIR/kubox.log` (appended). `None` for
/// the subcommands, which log to stderr.
fn tui_log_file(cli: &Cli) -> Result<Option<(PathBuf, Arc<File>)>, String> {
    if cli.command.is_some() {
        return Ok(None);
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(
            "the TUI needs a terminal (stdin and stdout); `kubox serve` runs the cluster without it"
                .to_string(),
        );
    }
    let dir = cli.common.data_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(LOG_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
    Ok(Some((path, Arc::new(file))))
}

/// The TUI's log file in the data dir.
const LOG_FILE: &str = "kubox.log";

fn init_logging(file: Option<Arc<File>>) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KUBOX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    match file {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(file)
            .with_ansi(false)
            .init(),
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
    }
}

async fn run(cli: Cli, log_file: Option<PathBuf>) -> Result<(), String> {
    match cli.command {
        None => tui(&cli.common, &cli.theme, log_file).await,
        Some(Command::Serve) => serve(&cli.common).await,
        Some(Command::Backup { file }) => backup(&cli.common, &file).await,
        Some(Command::Kubeconfig) => {
            let path = cli.common.data_dir().join(kubox::cluster::KUBECONFIG_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "no kubeconfig at {} ({e}): kubox writes it when `kubox serve` (or `kubox`) starts",
                    path.display()
                )
            })?;
            print!("{text}");
            Ok(())
        }
        Some(Command::Restore { file }) => {
            let dir = cli.common.data_dir();
            let info = restore(&dir, &file).map_err(|e| e.to_string())?;
            println!(
                "restored {} objects at revision {} from {} into {}",
                info.objects,
                info.revision,
                file.display(),
                dir.display()
            );
            Ok(())
        }
    }
}

/// The cluster the common flags describe.
fn config(common: &CommonArgs) -> Result<Config, String> {
    if !common.listen.ip().is_loopback() && !common.allow_remote {
        return Err(format!(
            "--listen {} is not a loopback address: anyone who can reach it could run containers here. \
             Pass --allow-remote together with --token TOKEN if you mean it",
            common.listen
        ));
    }
    let nodes = match &common.cluster {
        Some(file) => kubox::cluster::nodes_from_file(file)?,
        None => (1..=common.nodes)
            .map(kubox::kubelet::node::NodeConfig::default_node)
            .collect(),
    };
    Ok(Config {
        data_dir: common.data_dir(),
        listen: Some(common.listen),
        token: common.token.clone(),
        nodes,
        runtime: common.runtime,
        allow_privileged: common.allow_privileged,
        manifests: common.manifests.clone(),
        node_grace: std::time::Duration::from_secs(common.node_monitor_grace_period),
        sim_latency: kubox::cluster::SIM_START_LATENCY,
    })
}

/// `kubox`: the whole cluster in this process, and the TUI on this terminal.
async fn tui(common: &CommonArgs, theme: &str, log_file: Option<PathBuf>) -> Result<(), String> {
    let mut theme = kubox::tui::Theme::builtin(theme).map_err(|e| format!("--theme: {e}"))?;
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        theme = theme.without_colour();
    }
    let config = config(common)?;
    let cluster = Cluster::start(&config).await.map_err(|e| e.to_string())?;
    tracing::info!("{}; the TUI is open", cluster.runtime_note);
    let options = kubox::tui::Options {
        theme,
        log_file,
        decisions: Some(cluster.scheduler.records()),
        queue: Some(cluster.scheduler.queue()),
    };
    let result = kubox::tui::run(&cluster, options).await;
    tracing::info!("stopping: finishing queued writes and closing the store");
    cluster.shutdown().await;
    result
}

async fn serve(common: &CommonArgs) -> Result<(), String> {
    let started = std::time::Instant::now();
    let signalled = shutdown_signal();
    let config = config(common)?;
    let cluster = Cluster::start(&config).await.map_err(|e| e.to_string())?;
    let store = cluster.api.store();
    let address = cluster
        .http_address
        .map(|a| format!("http://{a}"))
        .unwrap_or_default();
    tracing::info!(
        data_dir = %cluster.data_dir().display(),
        revision = store.revision().unwrap_or(0),
        api = %address,
        took_ms = started.elapsed().as_secs_f64() * 1000.0,
        nodes = cluster.kubelets.len(),
        "kubox is up: store, API server, scheduler and kubelets running; Ctrl-C or SIGTERM stops it"
    );
    tracing::info!("{}", cluster.runtime_note);
    tracing::info!(
        "kubectl --kubeconfig {} get pods",
        cluster
            .data_dir()
            .join(kubox::cluster::KUBECONFIG_FILE)
            .display()
    );
    signalled.await;
    tracing::info!("stopping: finishing queued writes and closing the store");
    cluster.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn backup(common: &CommonArgs, file: &std::path::Path) -> Result<(), String> {
    let dir = common.data_dir();
    // The running kubox writes the file, so hand it an absolute path.
    let file = std::path::absolute(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (revision, objects, how) = match backup_offline(&dir, &file) {
        Ok(info) => (info.revision, info.objects, "offline"),
        Err(BackupError::Open(OpenError::InUse { .. })) => {
            let (rev, objects) = kubox::admin::request_backup(&dir, &file).await?;
            (rev, objects, "through the running kubox")
        }
        Err(e) => return Err(e.to_string()),
    };
    println!(
        "backed up {objects} objects at revision {revision} to {} ({how})",
        file.display()
    );
    Ok(())
}
