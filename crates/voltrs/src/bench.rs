//! `voltrs bench ping|select|adhoc-select|insert|voter|kv`: round-trip latency and
//! throughput through `voltrs-client` against a running server. The workloads of VoltDB's
//! example clients live in [`voter`] (voter) and [`kv`] (voltkv), on what [`driver`] and
//! [`schema`] give them; the rest here:
//!
//! 1. Every workload but `ping` first makes sure its schema exists (table `BENCH_KV`
//!    partitioned on `ID`, single-partition procedure `BENCH_GET`) and upserts `--rows`
//!    rows.
//! 2. For each `--in-flight` count N, N tasks share one client and call in a loop for
//!    `--seconds`, so N calls are always in flight; every round trip is recorded.
//! 3. One line per N: calls made, calls per second, and the 50th, 99th percentile and
//!    largest round trip in microseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use voltrs_client::{Client, Value, status};

mod driver;
mod kv;
mod schema;
mod voter;

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    workload: BenchWorkload,
}

/// What each call does.
#[derive(clap::Subcommand)]
enum BenchWorkload {
    /// `@Ping`: no transaction.
    Ping(CallArgs),
    /// `BENCH_GET(id)`: a single-partition procedure reading one row by primary key.
    Select(CallArgs),
    /// `@AdHoc('SELECT val FROM bench_kv WHERE id = ?', id)`: the same read as ad hoc SQL.
    AdhocSelect(CallArgs),
    /// `BENCH_KV.insert(id, val)`: a single-row insert of a new key.
    Insert(CallArgs),
    /// VoltDB's voter client: asynchronous `Vote` calls, then a report and a consistency
    /// check against `Results` (creates the voter schema of examples/voter if missing).
    Voter(voter::VoterArgs),
    /// VoltDB's voltkv client: `Get` and `Put` of values by key (`--get-ratio` gets), then a
    /// report and a check that every key is stored (creates the schema of examples/kv and
    /// preloads the keys if missing).
    Kv(kv::KvArgs),
}

/// The flags of the call-in-a-loop workloads.
#[derive(clap::Args)]
struct CallArgs {
    #[command(flatten)]
    server: crate::server_args::ServerArgs,
    /// Calls kept in flight; a comma-separated list runs once per value.
    #[arg(long, value_delimiter = ',', default_value = "1,64")]
    in_flight: Vec<usize>,
    /// Length of each run.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Rows loaded for `select` (each call reads a random one).
    #[arg(long, default_value_t = 10_000)]
    rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Ping,
    Select,
    AdhocSelect,
    Insert,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Ping => "ping",
            Workload::Select => "select",
            Workload::AdhocSelect => "adhoc-select",
            Workload::Insert => "insert",
        }
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let (workload, args) = match args.workload {
        BenchWorkload::Voter(args) => return voter::run(args),
        BenchWorkload::Kv(args) => return kv::run(args),
        BenchWorkload::Ping(args) => (Workload::Ping, args),
        BenchWorkload::Select(args) => (Workload::Select, args),
        BenchWorkload::AdhocSelect(args) => (Workload::AdhocSelect, args),
        BenchWorkload::Insert(args) => (Workload::Insert, args),
    };
    if args.in_flight.contains(&0) || args.rows == 0 || args.seconds.is_nan() || args.seconds <= 0.0 {
        bail!("--in-flight values, --rows and --seconds must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(workload, args))
}

async fn bench(workload: Workload, args: CallArgs) -> anyhow::Result<()> {
    let servers = args.server.addresses();
    let client = Client::connect(args.server.client_config()).await?;
    if workload != Workload::Ping {
        setup(&client, args.rows).await?;
    }
    let duration = Duration::from_secs_f64(args.seconds);
    println!(
        "voltrs bench {} against {}, {:.1} s per run",
        workload.name(),
        servers.join(","),
        args.seconds
    );
    println!(
        "{:>9}  {:>9}  {:>10}  {:>8}  {:>8}  {:>8}",
        "in_flight", "calls", "calls/s", "p50_us", "p99_us", "max_us"
    );
    for &n in &args.in_flight {
        let (mut latencies, elapsed) = measure(&client, workload, n, duration, args.rows).await?;
        latencies.sort_unstable();
        let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
        println!(
            "{:>9}  {:>9}  {:>10.0}  {:>8}  {:>8}  {:>8}",
            n,
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            latencies[latencies.len() - 1]
        );
    }
    Ok(())
}

/// Runs `n` concurrent callers for `duration`; every round trip in microseconds, and the
/// time the run really took.
async fn measure(
    client: &Client,
    workload: Workload,
    n: usize,
    duration: Duration,
    rows: u64,
) -> anyhow::Result<(Vec<u32>, Duration)> {
    let started = Instant::now();
    let deadline = started + duration;
    // Inserted keys: above the loaded rows and unique across runs (microseconds now).
    let next_key = Arc::new(AtomicI64::new(
        rows as i64
            + SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64),
    ));
    let mut tasks = Vec::with_capacity(n);
    for seed in 0..n {
        let client = client.clone();
        let next_key = next_key.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (seed as u64 + 1);
            while Instant::now() < deadline {
                // xorshift64: a cheap, well-spread key sequence per task.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = Value::Integer((x % rows) as i64);
                let (procedure, params) = match workload {
                    Workload::Ping => ("@Ping", Vec::new()),
                    Workload::Select => ("BENCH_GET", vec![key]),
                    Workload::AdhocSelect => ("@AdHoc", vec![Value::str(ADHOC_SELECT), key]),
                    Workload::Insert => {
                        let id = next_key.fetch_add(1, Ordering::Relaxed);
                        ("BENCH_KV.insert", vec![Value::Integer(id), Value::str("inserted")])
                    }
                };
                let t = Instant::now();
                let r = client.call(procedure, params).await?;
                let micros = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                if r.status != status::SUCCESS {
                    bail!("{procedure} failed: {}", r.status_string.unwrap_or_default());
                }
                let reads = matches!(workload, Workload::Select | Workload::AdhocSelect);
                if reads && r.tables.first().map(|t| t.rows.len()) != Some(1) {
                    bail!("{procedure} did not find its row");
                }
                latencies.push(micros);
            }
            Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("a benchmark task failed")??);
    }
    if all.is_empty() {
        bail!("no call completed within the run");
    }
    Ok((all, started.elapsed()))
}

/// The ad hoc form of `BENCH_GET`.
const ADHOC_SELECT: &str = "SELECT val FROM bench_kv WHERE id = ?";

/// Creates the benchmark's schema unless it exists, and upserts the rows.
async fn setup(client: &Client, rows: u64) -> anyhow::Result<()> {
    let has = |r: &voltrs_client::Response, column: usize, name: &str| {
        r.tables.first().is_some_and(|t| {
            t.rows
                .iter()
                .any(|row| matches!(row.get(column), Some(Value::Varchar(s)) if s.eq_ignore_ascii_case(name)))
        })
    };
    let tables = client.call("@SystemCatalog", vec![Value::str("TABLES")]).await?;
    let procedures = client.call("@SystemCatalog", vec![Value::str("PROCEDURES")]).await?;
    let mut ddl = Vec::new();
    if !has(&tables, 2, "BENCH_KV") {
        ddl.push("CREATE TABLE bench_kv (id BIGINT NOT NULL, val VARCHAR(64) NOT NULL, PRIMARY KEY (id))");
        ddl.push("PARTITION TABLE bench_kv ON COLUMN id");
    }
    if !has(&procedures, 2, "BENCH_GET") {
        ddl.push(
            "CREATE PROCEDURE bench_get PARTITION ON TABLE bench_kv COLUMN id AS SELECT val FROM bench_kv WHERE id = ?",
        );
    }
    for statement in &ddl {
        let r = client.call("@AdHoc", vec![Value::str(statement)]).await?;
        if r.status != status::SUCCESS {
            bail!("{statement}: {}", r.status_string.unwrap_or_default());
        }
    }
    if !ddl.is_empty() {
        client.refresh_topology().await?;
    }
    // Load with 64 calls in flight.
    let mut loaders = Vec::new();
    for lane in 0..64 {
        let client = client.clone();
        loaders.push(tokio::spawn(async move {
            for id in (lane..rows).step_by(64) {
                let params = vec![Value::Integer(id as i64), Value::str(&format!("value {id}"))];
                let r = client.call("BENCH_KV.upsert", params).await?;
                if r.status != status::SUCCESS {
                    bail!("BENCH_KV.upsert: {}", r.status_string.unwrap_or_default());
                }
            }
            Ok(())
        }));
    }
    for l in loaders {
        l.await.context("a loading task failed")??;
    }
    Ok(())
}
