//! The `voltrs` binary.
//!
//! `voltrs start` opens an embedded database and, until the network frontends exist, an
//! interactive SQL shell on it (statements end with `;`). With standard input not a
//! terminal it runs the script it reads and exits.

mod shell;

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
    /// Start a single-node database with an embedded SQL shell (data in memory only).
    Start {
        /// Number of partitions (default: the number of CPU cores).
        #[arg(long)]
        sites: Option<usize>,
        /// Data folder (reserved: nothing is written until durability lands).
        #[arg(long, default_value = "voltrs_data")]
        dir: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Start { sites, dir: _ } => {
            let mut config = voltrs_engine::Config::default();
            if let Some(n) = sites {
                config.partitions = n;
            }
            let db = voltrs_engine::Database::open(config)?;
            shell::run(db)
        }
    }
}
