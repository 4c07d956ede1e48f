//! What the workloads of VoltDB's example clients (`voltrs bench voter`, `voltrs bench kv`)
//! share: the flags, the calling loop, the progress lines and the common part of the report.
//! A workload owns only what its calls are and what their answers mean ([`Workload`]).
//!
//! 1. [`RunArgs`]: `--servers`, `--duration`, `--warmup`, `--connections`,
//!    `--max-outstanding`, `--ratelimit`, `--json`; [`RunArgs::connect`] opens the clients.
//! 2. [`drive`]: `--max-outstanding` chains of calls, spread over the clients, each with its
//!    own [`Workload`], make one call at a time, so that many calls are in flight. Without
//!    `--ratelimit` each answer's callback makes the chain's next call
//!    ([`Client::call_with_callback`], VoltDB's asynchronous style: no task is woken per
//!    call); under it a pacing thread sends call `k` at `k / rate` seconds on an idle
//!    chain ([`pace`]), spaced by the OS's sleep rather than the runtime's millisecond
//!    timer. They stop after the warmup and `--duration` measured seconds (the calls in
//!    flight are awaited). A progress line every second.
//! 3. [`Summary`]: the measured calls, throughput and latency percentiles (HdrHistogram,
//!    microseconds), failures; the report around the workload's own lines, and the JSON
//!    line's common fields. With `--json` every line goes to standard error ([`say`]) and standard output
//!    gets only the JSON line.
//!
//! A call is measured when it was sent after the warmup; latencies are those of measured
//! calls the workload judged successful.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use voltrs_client::{Client, ClientError, Response, Value};

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub server: crate::server_args::ServerArgs,
    /// Measured seconds.
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Seconds of calls before measuring.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Clients to open (each has one connection per server).
    #[arg(long, default_value_t = 1)]
    pub connections: usize,
    /// Calls in flight at most (the number of chains of calls).
    #[arg(long, default_value_t = 200)]
    pub max_outstanding: usize,
    /// Calls per second at most (default: as fast as the server answers).
    #[arg(long)]
    pub ratelimit: Option<u64>,
    /// Progress and report on standard error, one JSON line on standard output.
    #[arg(long)]
    pub json: bool,
}

impl RunArgs {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(self.duration > 0.0 && self.warmup >= 0.0) || self.connections == 0 || self.max_outstanding == 0 {
            bail!("--duration, --connections and --max-outstanding must be positive, --warmup not negative");
        }
        if self.ratelimit == Some(0) {
            bail!("--ratelimit must be positive");
        }
        Ok(())
    }

    /// `--connections` clients.
    pub async fn connect(&self) -> anyhow::Result<Vec<Client>> {
        let mut clients = Vec::with_capacity(self.connections);
        for _ in 0..self.connections {
            clients.push(Client::connect(self.server.client_config()).await?);
        }
        Ok(clients)
    }

    /// The run's opening line: `voltrs bench <workload> against ...`, then `details`.
    pub fn header(&self, workload: &str, details: &str) -> String {
        format!(
            "voltrs bench {workload} against {}: {} s warmup, {} s measured, {} connection(s), {} calls in flight at most, {details}",
            self.server.addresses().join(","),
            self.warmup,
            self.duration,
            self.connections,
            self.max_outstanding,
        )
    }

    pub fn say(&self, line: &str) {
        say(self.json, line);
    }
}

/// Where progress and the report go: standard output, or standard error under `--json`.
pub fn say(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// Runs a workload's future on a fresh multi-threaded runtime.
pub fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(bench: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench)
}

/// One chain of calls' view of a workload. Each chain has its own, and makes one call at a
/// time: [`Workload::answer`] judges the answer to the last [`Workload::next_call`].
pub trait Workload: Send + 'static {
    /// The next call: the procedure and its parameters.
    fn next_call(&mut self) -> (&'static str, Vec<Value>);

    /// Takes the answer to the last call; `measured` says whether it was sent after the
    /// warmup. `Err(message)` counts the call as failed (the first message is reported).
    fn answer(&mut self, result: Result<Response, ClientError>, measured: bool) -> Result<(), String>;
}

/// The timing every caller follows.
#[derive(Clone, Copy)]
struct Plan {
    start: Instant,
    /// When calls start to be measured (after the warmup).
    measure: Instant,
    /// When no call starts any more.
    end: Instant,
    /// Time between calls under `--ratelimit`.
    interval: Option<Duration>,
}

impl Plan {
    fn new(args: &RunArgs) -> Plan {
        let start = Instant::now();
        Plan {
            start,
            measure: start + Duration::from_secs_f64(args.warmup),
            end: start + Duration::from_secs_f64(args.warmup + args.duration),
            interval: args.ratelimit.map(|r| Duration::from_secs_f64(1.0 / r as f64)),
        }
    }
}

/// Counts the callers share. `ok` and `failed` are of the measured calls.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    /// Calls answered, warmup included (for the progress lines).
    answered: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

fn new_histogram() -> Histogram<u64> {
    // Microseconds from 1 µs to 100 s, 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// Runs the calls: one chain per `--max-outstanding`, chain `n` on client `n mod
/// clients` with workload `workload(n)`; the summary once the last call is answered.
pub async fn drive<W: Workload>(
    args: &RunArgs,
    clients: &[Client],
    mut workload: impl FnMut(usize) -> W,
) -> anyhow::Result<Summary> {
    if clients.is_empty() {
        bail!("no client to call with");
    }
    let plan = Plan::new(args);
    let tally = Arc::new(Tally::default());
    let progress = tokio::spawn(progress(tally.clone(), plan, args.json));
    let mut latency = new_histogram();
    if plan.interval.is_none() {
        // As fast as answers come: each answer's callback makes the next call (VoltDB's
        // asynchronous client style), so no task is woken per call.
        let mut chains = Vec::with_capacity(args.max_outstanding);
        for n in 0..args.max_outstanding {
            let (done, finished) = tokio::sync::oneshot::channel();
            let chain = Chain {
                client: clients[n % clients.len()].clone(),
                workload: workload(n),
                tally: tally.clone(),
                plan,
                latency: new_histogram(),
                done,
            };
            Box::new(chain).next();
            chains.push(finished);
        }
        for finished in chains {
            latency.add(
                finished
                    .await
                    .context("a chain of calls stopped without its latencies")?,
            )?;
        }
    } else {
        let chains = (0..args.max_outstanding)
            .map(|n| Paced {
                client: clients[n % clients.len()].clone(),
                workload: workload(n),
                latency: new_histogram(),
            })
            .collect();
        let (tally, runtime) = (tally.clone(), tokio::runtime::Handle::current());
        let pacer = std::thread::Builder::new()
            .name("voltrs-bench-pacer".into())
            .spawn(move || pace(chains, &tally, plan, runtime))?;
        let paced = tokio::task::spawn_blocking(move || pacer.join()).await?;
        latency.add(paced.map_err(|_| anyhow::anyhow!("the pacing thread failed"))??)?;
    }
    let measured = plan.measure.elapsed();
    progress.abort();
    Ok(Summary::new(&tally, &latency, measured))
}

/// A chain of calls under `--ratelimit`, handed out by the pacer when idle.
struct Paced<W> {
    client: Client,
    workload: W,
    latency: Histogram<u64>,
}

/// Under `--ratelimit`: sends call `k` at `start + k × interval` on an idle chain (late, at
/// once, when every chain is in flight), from a thread of its own so calls are spaced by
/// the operating system's sleep (tens of microseconds) rather than bunched on the async
/// runtime's millisecond timer ticks. The latencies of every chain once all are back.
fn pace<W: Workload>(
    chains: Vec<Paced<W>>,
    tally: &Arc<Tally>,
    plan: Plan,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<Histogram<u64>> {
    // Calls reconnect on the runtime when they must.
    let _runtime = runtime.enter();
    let interval = plan.interval.unwrap_or_default();
    let total = chains.len();
    let (back, idle) = std::sync::mpsc::channel();
    for chain in chains {
        let _ = back.send(chain);
    }
    for slot in 0u64.. {
        let at = plan.start + interval.mul_f64(slot as f64);
        if at >= plan.end {
            break;
        }
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let Ok(mut chain) = idle.recv() else {
            break;
        };
        let sent = Instant::now();
        if sent >= plan.end {
            let _ = back.send(chain);
            break;
        }
        let (procedure, params) = chain.workload.next_call();
        let (client, back, tally) = (chain.client.clone(), back.clone(), tally.clone());
        client.call_with_callback(procedure, params, move |result| {
            count(&mut chain.workload, result, sent, &plan, &tally, &mut chain.latency);
            let _ = back.send(chain);
        });
    }
    let mut latency = new_histogram();
    for _ in 0..total {
        let chain = idle
            .recv_timeout(Duration::from_secs(120))
            .context("calls still unanswered two minutes after the run")?;
        latency.add(chain.latency)?;
    }
    Ok(latency)
}

/// The pause after a failed call before the next.
const FAILED_CALL_PAUSE: Duration = Duration::from_millis(10);

/// Judges and counts one answer to a call sent at `sent`; false if the call failed.
fn count<W: Workload>(
    workload: &mut W,
    result: Result<Response, ClientError>,
    sent: Instant,
    plan: &Plan,
    tally: &Tally,
    latency: &mut Histogram<u64>,
) -> bool {
    let micros = sent.elapsed().as_micros() as u64;
    let measured = sent >= plan.measure;
    let verdict = workload.answer(result, measured);
    tally.answered.fetch_add(1, Ordering::Relaxed);
    match verdict {
        Ok(()) => {
            if measured {
                tally.ok.fetch_add(1, Ordering::Relaxed);
                latency.saturating_record(micros.max(1));
            }
            true
        }
        Err(message) => {
            if measured {
                tally.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = tally.first_failure.lock() {
                    first.get_or_insert(message);
                }
            }
            false
        }
    }
}

/// One chain of calls (without `--ratelimit`): each answer's callback counts it and makes
/// the next call, until the end of the plan; then the latencies go to `done`.
struct Chain<W> {
    client: Client,
    workload: W,
    tally: Arc<Tally>,
    plan: Plan,
    latency: Histogram<u64>,
    done: tokio::sync::oneshot::Sender<Histogram<u64>>,
}

impl<W: Workload> Chain<W> {
    /// Makes the next call, or ends the chain once the run is over.
    fn next(mut self: Box<Self>) {
        let sent = Instant::now();
        if sent >= self.plan.end {
            let _ = self.done.send(self.latency);
            return;
        }
        let (procedure, params) = self.workload.next_call();
        let client = self.client.clone();
        client.call_with_callback(procedure, params, move |result| {
            let chain = &mut *self;
            if count(
                &mut chain.workload,
                result,
                sent,
                &chain.plan,
                &chain.tally,
                &mut chain.latency,
            ) {
                self.next();
            } else {
                // A server that is gone fails calls at once: do not spin on it.
                tokio::spawn(async move {
                    tokio::time::sleep(FAILED_CALL_PAUSE).await;
                    self.next();
                });
            }
        });
    }
}

/// Prints a progress line every second until aborted.
async fn progress(tally: Arc<Tally>, plan: Plan, json: bool) {
    let mut tick = tokio::time::interval_at((plan.start + Duration::from_secs(1)).into(), Duration::from_secs(1));
    let (mut last_answered, mut last_at) = (0, plan.start);
    loop {
        let now = tick.tick().await.into_std();
        let answered = tally.answered.load(Ordering::Relaxed);
        let rate = (answered - last_answered) as f64 / (now - last_at).as_secs_f64();
        (last_answered, last_at) = (answered, now);
        let at = (now - plan.start).as_secs_f64();
        if now <= plan.measure {
            say(json, &format!("{at:6.1} s  warmup    {rate:9.0} calls/s"));
        } else {
            let so_far = tally.ok.load(Ordering::Relaxed) as f64 / (now - plan.measure).as_secs_f64();
            let failed = tally.failed.load(Ordering::Relaxed);
            say(
                json,
                &format!("{at:6.1} s  measured  {rate:9.0} calls/s now, {so_far:9.0} calls/s so far, {failed} failed"),
            );
        }
    }
}

/// The figures every workload reports.
pub struct Summary {
    /// Measured calls the workload judged successful.
    pub calls: u64,
    pub tps: f64,
    pub seconds: f64,
    latency_ms: [(&'static str, f64); 6],
    pub failed: u64,
    first_failure: Option<String>,
}

impl Summary {
    fn new(tally: &Tally, latency: &Histogram<u64>, measured: Duration) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        let calls = tally.ok.load(Ordering::Relaxed);
        Summary {
            calls,
            tps: calls as f64 / measured.as_secs_f64(),
            seconds: measured.as_secs_f64(),
            latency_ms: [
                ("avg", latency.mean() / 1000.0),
                ("p50", ms(latency.value_at_quantile(0.50))),
                ("p95", ms(latency.value_at_quantile(0.95))),
                ("p99", ms(latency.value_at_quantile(0.99))),
                ("p999", ms(latency.value_at_quantile(0.999))),
                ("max", ms(latency.max())),
            ],
            failed: tally.failed.load(Ordering::Relaxed),
            first_failure: tally.first_failure.lock().ok().and_then(|f| f.clone()),
        }
    }

    /// Prints the report (after an empty line): calls, throughput, latency, then the
    /// workload's `counts` lines, the failed calls (and the first failure's message), and its
    /// `check` line last.
    pub fn print(&self, json: bool, counts: impl IntoIterator<Item = String>, check: String) {
        let latency: Vec<String> = self
            .latency_ms
            .iter()
            .map(|(name, v)| format!("{name} {v:.3}"))
            .collect();
        let mut lines = vec![
            String::new(),
            format!("calls            {} in {:.1} s", self.calls + self.failed, self.seconds),
            format!("throughput       {:.0} calls/s (answered, not failed)", self.tps),
            format!("latency ms       {}", latency.join("  ")),
        ];
        lines.extend(counts);
        lines.push(format!("failed           {}", self.failed));
        if let Some(f) = &self.first_failure {
            lines.push(format!("first failure    {f}"));
        }
        lines.push(check);
        for line in lines {
            say(json, &line);
        }
    }

    /// The JSON line: `tps`, `calls`, `seconds`, `latency_ms` (avg, p50, p95, p99, p999,
    /// max), `failed`, and the fields of `extra` (an object).
    pub fn json(&self, extra: serde_json::Value) -> String {
        let latency: serde_json::Map<String, serde_json::Value> = self
            .latency_ms
            .iter()
            .map(|(name, v)| (name.to_string(), serde_json::json!((v * 1000.0).round() / 1000.0)))
            .collect();
        let mut line = serde_json::json!({
            "tps": self.tps.round(),
            "calls": self.calls,
            "seconds": self.seconds,
            "latency_ms": latency,
            "failed": self.failed,
        });
        if let (Some(line), serde_json::Value::Object(extra)) = (line.as_object_mut(), extra) {
            line.extend(extra);
        }
        line.to_string()
    }
}

/// SplitMix64: fast and well spread; the benchmarks need no more.
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence does not overlap another seed's: SplitMix64's state only
    /// steps by a constant, so nearby seeds would give the same calls shifted by a few.
    pub fn seeded(seed: u64) -> Rng {
        Rng(mix(seed))
    }

    /// Task `n`'s generator, also different in every run (process id and clock): runs
    /// against one database must not repeat each other's calls.
    pub fn for_task(n: u64) -> Rng {
        Rng::seeded(n ^ (u64::from(std::process::id()) << 32) ^ now_nanos())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `[0, n)` (`n` > 0; the modulo bias is negligible for the benchmarks).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The clock's nanoseconds.
fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_line_has_the_common_fields_and_the_workloads() {
        let tally = Tally::default();
        tally.ok.store(500, Ordering::Relaxed);
        tally.failed.store(2, Ordering::Relaxed);
        let mut latency = new_histogram();
        for us in [1000, 1500, 2000] {
            latency.record(us).expect("in range");
        }
        let summary = Summary::new(&tally, &latency, Duration::from_secs(2));
        let line: serde_json::Value =
            serde_json::from_str(&summary.json(serde_json::json!({"gets": 7}))).expect("JSON");
        assert_eq!(line["tps"], 250.0);
        assert_eq!(line["calls"], 500);
        assert_eq!(line["failed"], 2);
        assert_eq!(line["gets"], 7);
        assert_eq!(line["latency_ms"]["p50"], 1.5);
        assert_eq!(line["latency_ms"]["max"], 2.0);
    }

    #[test]
    fn the_rng_stays_in_range() {
        let mut rng = Rng::seeded(7);
        assert!((0..10_000).all(|_| rng.below(10) < 10));
        let units: Vec<f64> = (0..10_000).map(|_| rng.unit()).collect();
        assert!(units.iter().all(|u| (0.0..1.0).contains(u)));
        let low = units.iter().filter(|&&u| u < 0.9).count();
        assert!((8_800..9_200).contains(&low), "{low}");
        assert_eq!(rng.bytes(100).len(), 100);
    }
}
