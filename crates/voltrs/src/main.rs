//! The `voltrs` binary.
//!
//! * `voltrs start`: the server (VoltDB's binary protocol on the client and admin ports,
//!   the JSON HTTP API with `/metrics`); see docs/CONFIG.md.
//! * `voltrs sql`: a sqlcmd-like shell connected to a server with `voltrs-client`
//!   ([`sql_shell`]); with standard input not a terminal it runs the script it reads.
//! * `voltrs bench ping|select|...|voter|kv`: round-trip latency and throughput against a
//!   server, and the workloads of VoltDB's voter and voltkv example clients.
//! * `voltrs embedded`: the SQL shell on an in-process database (no server); with
//!   standard input not a terminal it runs the script it reads and exits.

mod bench;
mod server_args;
mod shell;
mod sql_shell;

/// mimalloc: the sites allocate per call (values, rows, Lua), and glibc's malloc took
/// about a fifth of the server's samples in the voter profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "voltrs",
    version,
    about = "An in-memory, partitioned, VoltDB-compatible SQL database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (single node; recovers the data folder's snapshot and command log).
    Start(StartArgs),
    /// Inspect a data folder: what it holds and any damage (changes no data). Exits 1 on
    /// damage recovery would refuse.
    Check {
        /// The data folder (default: ./voltrs_data).
        dir: Option<PathBuf>,
    },
    /// An SQL shell connected to a running server (like VoltDB's sqlcmd).
    Sql(sql_shell::SqlArgs),
    /// Measure call latency and throughput against a running server.
    Bench(bench::BenchArgs),
    /// An SQL shell on an in-process database, without a server.
    Embedded {
        /// Number of partitions (default: the number of CPU cores).
        #[arg(long)]
        sites: Option<usize>,
    },
}

#[derive(clap::Args)]
struct StartArgs {
    /// Data folder (created if missing).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long)]
    host: Option<String>,
    /// VoltDB client port (0 picks a free port).
    #[arg(long)]
    client_port: Option<u16>,
    /// VoltDB admin port (0 picks a free port).
    #[arg(long)]
    admin_port: Option<u16>,
    /// HTTP port: JSON API, /metrics, /health (0 picks a free port).
    #[arg(long)]
    http_port: Option<u16>,
    /// PostgreSQL port (0 picks a free port).
    #[arg(long)]
    pg_port: Option<u16>,
    /// Number of partitions (default: the number of CPU cores).
    #[arg(long)]
    sites: Option<usize>,
    /// A TOML configuration file (docs/CONFIG.md); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Command log: sync (default: a write is acknowledged once on disk), async (synced
    /// every async_flush_ms; a crash loses at most that) or off (nothing is kept).
    #[arg(long, value_name = "sync|async|off")]
    command_log: Option<String>,
}

fn server_config(a: StartArgs) -> anyhow::Result<voltrs_server::ServerConfig> {
    let mut c = voltrs_server::ServerConfig::default();
    if let Some(path) = &a.config {
        c.apply_file(path)?;
    }
    if let Some(v) = a.dir {
        c.dir = v;
    }
    if let Some(v) = a.host {
        c.host = v;
    }
    if let Some(v) = a.client_port {
        c.client_port = v;
    }
    if let Some(v) = a.admin_port {
        c.admin_port = v;
    }
    if let Some(v) = a.http_port {
        c.http_port = v;
    }
    if let Some(v) = a.pg_port {
        c.pg_port = v;
    }
    if a.sites.is_some() {
        c.sites = a.sites;
    }
    if let Some(m) = &a.command_log {
        c.log.mode = voltrs_server::config::parse_log_mode(m)?;
    }
    c.check()?;
    Ok(c)
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sql(args) => match sql_shell::run(args) {
            Ok(code) => std::process::exit(code),
            Err(e) => Err(e),
        },
        Command::Bench(args) => bench::run(args),
        Command::Start(args) => server_config(args).and_then(|config| {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(voltrs_server::run(config))
        }),
        Command::Check { dir } => check(dir),
        Command::Embedded { sites } => {
            let mut config = voltrs_engine::Config::default();
            if let Some(n) = sites {
                config.partitions = n;
            }
            voltrs_engine::Database::open(config)
                .map_err(anyhow::Error::from)
                .and_then(shell::run)
        }
    };
    if let Err(e) = result {
        eprintln!("voltrs: {e:#}");
        std::process::exit(1);
    }
}

/// `voltrs check DIR`: prints the report; exit status 1 when something is damaged.
fn check(dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("voltrs_data"));
    let report = voltrs_engine::durability::check::check(&voltrs_engine::durability::io::DiskStorage, &dir);
    for line in &report.lines {
        println!("{line}");
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    for p in &report.problems {
        println!("damage: {p}");
    }
    if report.problems.is_empty() {
        println!("ok: recovery can use this folder");
        Ok(())
    } else {
        std::process::exit(1);
    }
}
