//! The command line (see ../shared/design.md's contract).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kubox",
    version,
    about = "A Kubernetes cluster in a box, in the terminal",
    long_about = "kubox hosts a small Kubernetes control plane in one process: a store playing \
                  etcd, an API server, a scheduler, kubelets running real containers, and a TUI \
                  that shows each step of a pod's life. `kubox` with no command opens the TUI."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The TUI's colours: dark, light or high-contrast (NO_COLOR turns colours off).
    #[arg(long, env = "KUBOX_THEME", default_value = "dark", value_name = "NAME")]
    pub theme: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Where kubox keeps its store (default: $XDG_DATA_HOME/kubox, i.e. ~/.local/share/kubox).
    #[arg(long, global = true, env = "KUBOX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where the HTTP API listens. `127.0.0.1:0` picks a free port; DATA_DIR/kubeconfig says
    /// which. Only loopback addresses, unless --allow-remote is given.
    #[arg(
        long,
        global = true,
        default_value = "127.0.0.1:6443",
        value_name = "ADDR"
    )]
    pub listen: std::net::SocketAddr,

    /// Allow --listen on a non-loopback address. Requires --token: anyone who can reach the port
    /// could otherwise run containers on this machine.
    #[arg(long, global = true, requires = "token")]
    pub allow_remote: bool,

    /// Require `Authorization: Bearer TOKEN` on every HTTP request (written into the kubeconfig).
    #[arg(long, global = true, env = "KUBOX_TOKEN", value_name = "TOKEN")]
    pub token: Option<String>,

    /// How many virtual nodes (node-1 … node-N, spread over three zones), each with a kubelet.
    #[arg(
        long,
        global = true,
        default_value_t = 3,
        value_name = "N",
        conflicts_with = "cluster"
    )]
    pub nodes: usize,

    /// The nodes from a file of Node manifests (name, labels, taints, status.capacity).
    #[arg(long, global = true, value_name = "FILE")]
    pub cluster: Option<PathBuf>,

    /// Which container runtime the kubelets drive: Docker, the simulated runtime, or Docker when
    /// the daemon answers and the simulation otherwise.
    #[arg(long, global = true, value_enum, default_value_t = RuntimeChoice::Auto)]
    pub runtime: RuntimeChoice,

    /// Let pods run privileged containers, use host networking, mount host paths or publish
    /// host ports off loopback. Off by default: such a pod could take over this machine.
    #[arg(long, global = true)]
    pub allow_privileged: bool,

    /// Static pod manifests: each node runs the pods of `DIR/<node>/*.yaml` without the
    /// scheduler, and shows them in the API as mirror pods `<name>-<node>`.
    #[arg(long, global = true, value_name = "DIR")]
    pub manifests: Option<PathBuf>,

    /// Seconds a node's kubelet may be silent before the node turns Unknown and is tainted
    /// unreachable (Kubernetes' node-monitor-grace-period).
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 40)]
    pub node_monitor_grace_period: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeChoice {
    Auto,
    Docker,
    Sim,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cluster without the TUI, logging to stderr, until SIGINT or SIGTERM.
    Serve,
    /// Write a consistent snapshot of the store to FILE (works while kubox runs).
    Backup {
        /// The snapshot file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Print the kubeconfig that points kubectl at this kubox (DATA_DIR/kubeconfig).
    Kubeconfig,
    /// Replace the store with the snapshot in FILE (refused while kubox runs on the data dir).
    Restore {
        /// A snapshot written by `kubox backup`.
        file: PathBuf,
    },
}

impl CommonArgs {
    /// The data dir: the flag, else the XDG data dir.
    pub fn data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("kubox")
    }
}
