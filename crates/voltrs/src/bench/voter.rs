//! `voltrs bench voter`: VoltDB's voter client (`client/voter/AsyncBenchmark.java` and
//! `PhoneCallGenerator.java` in VoltDB/voltdb) over the binary protocol.
//!
//! 1. [`setup`]: connect `--connections` clients; create what is missing of
//!    `examples/voter/ddl.sql` (embedded: statements whose table, view or procedure exists
//!    are skipped) and call `Initialize`, which loads contestants and area codes once.
//! 2. Read the vote total of `Results`: the baseline of the consistency check.
//! 3. `--max-outstanding` tasks, spread over the clients, call `Vote(phone, contestant,
//!    maxvotes)` in a loop, each waiting for its answer, so that many calls are in flight;
//!    `--ratelimit` paces them. Calls made during `--warmup` are not measured (but their
//!    accepted votes are counted for the consistency check).
//! 4. A progress line every second; after `--duration` measured seconds no call starts, the
//!    calls in flight are awaited.
//! 5. The report: calls, throughput, latency percentiles (HdrHistogram), the votes by
//!    answer, and the check that `Results` grew by exactly the votes accepted. With
//!    `--json` the report goes to standard error and standard output ends with one JSON line.
//!
//! The check assumes nobody else votes during the run. A call whose connection was lost
//! may or may not have run, so each widens the accepted range by one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use voltrs_client::{Client, ClientError, Response, Value, status};

use crate::sql_shell::input::{Command, after_first_word, commands, first_word};

/// The voter example's schema and procedures.
const DDL: &str = include_str!("../../../../examples/voter/ddl.sql");

/// The contestants' names `Initialize` takes (VoltDB's `AsyncBenchmark`).
const NAMES: &str = "Edwina Burnam,Tabatha Gehling,Kelly Clauss,Jessie Alloway,Alana Bregman,Jessie Eichman,\
Allie Rogalski,Nita Coster,Kurt Walser,Ericka Dieter,Loraine Nygren,Tania Mattioli";

/// The contestant an invalid vote names (about one call in a hundred).
const INVALID_CONTESTANT: i64 = 999;

#[derive(clap::Args)]
pub struct VoterArgs {
    #[command(flatten)]
    server: crate::server_args::ServerArgs,
    /// Measured seconds.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Seconds of calls before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Clients to open (each has one connection per server).
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Calls in flight at most (the number of calling tasks).
    #[arg(long, default_value_t = 200)]
    max_outstanding: usize,
    /// Calls per second at most (default: as fast as the server answers).
    #[arg(long)]
    ratelimit: Option<u64>,
    /// Contestants voted for (1 to 12).
    #[arg(long, default_value_t = 6)]
    contestants: i64,
    /// Votes a phone may cast.
    #[arg(long, default_value_t = 2)]
    maxvotes: i64,
    /// Progress and report on standard error, one JSON line on standard output.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VoterArgs) -> anyhow::Result<()> {
    let names = NAMES.split(',').count() as i64;
    if !(1..=names).contains(&args.contestants) {
        bail!("--contestants must be between 1 and {names}");
    }
    if !(args.duration > 0.0 && args.warmup >= 0.0) || args.connections == 0 || args.max_outstanding == 0 {
        bail!("--duration, --connections and --max-outstanding must be positive, --warmup not negative");
    }
    if args.ratelimit == Some(0) {
        bail!("--ratelimit must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(args))
}

/// Where progress and the report go: standard output, or standard error under `--json`.
fn say(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

async fn bench(args: VoterArgs) -> anyhow::Result<()> {
    let mut clients = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        clients.push(Client::connect(args.server.client_config()).await?);
    }
    setup(&clients[0], &args).await?;
    let before = total_votes(&clients[0]).await?;
    say(
        args.json,
        &format!(
            "voltrs bench voter against {}: {} s warmup, {} s measured, {} connection(s), {} calls in flight at most, {} contestants, {} votes per phone",
            args.server.addresses().join(","),
            args.warmup,
            args.duration,
            args.connections,
            args.max_outstanding,
            args.contestants,
            args.maxvotes
        ),
    );

    let start = Instant::now();
    let plan = Plan {
        start,
        measure: start + Duration::from_secs_f64(args.warmup),
        end: start + Duration::from_secs_f64(args.warmup + args.duration),
        interval: args.ratelimit.map(|r| Duration::from_secs_f64(1.0 / r as f64)),
        maxvotes: args.maxvotes,
    };
    let shared = Arc::new(Shared::default());
    let map = Arc::new(VotingMap::new(args.contestants));
    let progress = tokio::spawn(progress(shared.clone(), plan, args.json));
    let mut tasks = Vec::with_capacity(args.max_outstanding);
    for n in 0..args.max_outstanding {
        let client = clients[n % clients.len()].clone();
        let generator = Generator::new(map.clone(), n as u64 + 1);
        tasks.push(tokio::spawn(caller(client, generator, shared.clone(), plan)));
    }
    let mut latency = new_histogram();
    for t in tasks {
        latency.add(t.await.context("a calling task failed")?)?;
    }
    let measured = plan.measure.elapsed();
    progress.abort();

    let after = total_votes(&clients[0]).await?;
    let report = Report::new(&shared, &latency, measured, after - before);
    report.print(args.json);
    print_results(&clients[0], args.json).await?;
    if args.json {
        println!("{}", report.json());
    }
    if !report.consistent() {
        bail!("consistency check failed: {}", report.consistency());
    }
    Ok(())
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
    maxvotes: i64,
}

/// Counts the callers share. `accepted`, `invalid`, `over_limit` and `failed` are of the
/// measured calls; the rest span the whole run.
#[derive(Default)]
struct Shared {
    accepted: AtomicU64,
    invalid: AtomicU64,
    over_limit: AtomicU64,
    failed: AtomicU64,
    /// Accepted votes of the warmup.
    warmup_accepted: AtomicU64,
    /// Calls whose connection was lost: they may or may not have voted.
    uncertain: AtomicU64,
    /// Calls answered, warmup included (for the progress lines).
    answered: AtomicU64,
    /// Calls started so far (the slots of `--ratelimit`).
    started: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl Shared {
    fn measured(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
            + self.invalid.load(Ordering::Relaxed)
            + self.over_limit.load(Ordering::Relaxed)
    }
}

/// What one `Vote` call came to.
enum Outcome {
    Accepted,
    Invalid,
    OverLimit,
    Failed(String),
}

fn new_histogram() -> Histogram<u64> {
    // Microseconds from 1 µs to 100 s, 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// One calling task: calls `Vote` until the end of the plan; the latencies (µs) of its
/// measured, successful calls.
async fn caller(client: Client, mut generator: Generator, shared: Arc<Shared>, plan: Plan) -> Histogram<u64> {
    let mut latency = new_histogram();
    loop {
        let slot = shared.started.fetch_add(1, Ordering::Relaxed);
        if let Some(interval) = plan.interval {
            let at = plan.start + interval.mul_f64(slot as f64);
            if at >= plan.end {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
        }
        let sent = Instant::now();
        if sent >= plan.end {
            break;
        }
        let (phone, contestant) = generator.next();
        let params = vec![
            Value::Integer(phone),
            Value::Integer(contestant),
            Value::Integer(plan.maxvotes),
        ];
        let result = client.call("Vote", params).await;
        let micros = sent.elapsed().as_micros() as u64;
        let outcome = match result {
            Ok(r) => outcome(&r),
            Err(e) => {
                if matches!(e, ClientError::ConnectionLost { .. }) {
                    shared.uncertain.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Failed(e.to_string())
            }
        };
        shared.answered.fetch_add(1, Ordering::Relaxed);
        let measured = sent >= plan.measure;
        let counter = match outcome {
            Outcome::Failed(message) => {
                if measured {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = shared.first_failure.lock() {
                        first.get_or_insert(message);
                    }
                }
                // A server that is gone fails calls at once: do not spin on it.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Outcome::Accepted if !measured => &shared.warmup_accepted,
            _ if !measured => continue,
            Outcome::Accepted => &shared.accepted,
            Outcome::Invalid => &shared.invalid,
            Outcome::OverLimit => &shared.over_limit,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if measured {
            latency.saturating_record(micros.max(1));
        }
    }
    latency
}

/// Vote's answer: a 1×1 BIGINT table holding 0, 1 or 2.
fn outcome(r: &Response) -> Outcome {
    if r.status != status::SUCCESS {
        return Outcome::Failed(format!(
            "Vote failed (status {}): {}",
            r.status,
            r.status_string.as_deref().unwrap_or("")
        ));
    }
    match r
        .tables
        .first()
        .and_then(|t| t.rows.first())
        .and_then(|row| row.first())
    {
        Some(Value::Integer(0)) => Outcome::Accepted,
        Some(Value::Integer(1)) => Outcome::Invalid,
        Some(Value::Integer(2)) => Outcome::OverLimit,
        other => Outcome::Failed(format!("Vote returned {other:?}, not 0, 1 or 2")),
    }
}

/// Prints a progress line every second until aborted.
async fn progress(shared: Arc<Shared>, plan: Plan, json: bool) {
    let mut tick = tokio::time::interval_at((plan.start + Duration::from_secs(1)).into(), Duration::from_secs(1));
    let (mut last_answered, mut last_at) = (0, plan.start);
    loop {
        let now = tick.tick().await.into_std();
        let answered = shared.answered.load(Ordering::Relaxed);
        let rate = (answered - last_answered) as f64 / (now - last_at).as_secs_f64();
        (last_answered, last_at) = (answered, now);
        let at = (now - plan.start).as_secs_f64();
        if now <= plan.measure {
            say(json, &format!("{at:6.1} s  warmup    {rate:9.0} calls/s"));
        } else {
            let so_far = shared.measured() as f64 / (now - plan.measure).as_secs_f64();
            let failed = shared.failed.load(Ordering::Relaxed);
            say(
                json,
                &format!("{at:6.1} s  measured  {rate:9.0} calls/s now, {so_far:9.0} calls/s so far, {failed} failed"),
            );
        }
    }
}

/// The figures of a finished run.
struct Report {
    calls: u64,
    tps: f64,
    seconds: f64,
    latency_ms: [(&'static str, f64); 6],
    accepted: u64,
    invalid: u64,
    over_limit: u64,
    failed: u64,
    first_failure: Option<String>,
    /// Votes accepted over the whole run, warmup included.
    accepted_all: u64,
    uncertain: u64,
    /// How much the total of `Results` grew.
    growth: i64,
}

impl Report {
    fn new(shared: &Shared, latency: &Histogram<u64>, measured: Duration, growth: i64) -> Report {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let ms = |us: u64| us as f64 / 1000.0;
        let calls = shared.measured();
        let accepted = load(&shared.accepted);
        Report {
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
            accepted,
            invalid: load(&shared.invalid),
            over_limit: load(&shared.over_limit),
            failed: load(&shared.failed),
            first_failure: shared.first_failure.lock().ok().and_then(|f| f.clone()),
            accepted_all: accepted + load(&shared.warmup_accepted),
            uncertain: load(&shared.uncertain),
            growth,
        }
    }

    /// Whether `Results` grew by the accepted votes (up to the calls of unknown fate).
    fn consistent(&self) -> bool {
        let low = self.accepted_all as i64;
        (low..=low + self.uncertain as i64).contains(&self.growth)
    }

    fn consistency(&self) -> String {
        let verdict = if self.consistent() { "ok" } else { "FAILED" };
        let unknown = if self.uncertain > 0 {
            format!(" (+ up to {} calls whose connection was lost)", self.uncertain)
        } else {
            String::new()
        };
        format!(
            "{verdict}: Results grew by {} votes; this run accepted {}{unknown}",
            self.growth, self.accepted_all
        )
    }

    fn print(&self, json: bool) {
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
            format!("accepted         {}", self.accepted),
            format!("invalid          {} (contestant does not exist)", self.invalid),
            format!("over limit       {} (phone has voted enough)", self.over_limit),
            format!("failed           {}", self.failed),
        ];
        if let Some(f) = &self.first_failure {
            lines.push(format!("first failure    {f}"));
        }
        lines.push(format!("consistency      {}", self.consistency()));
        for line in lines {
            say(json, &line);
        }
    }

    fn json(&self) -> String {
        let latency: serde_json::Map<String, serde_json::Value> = self
            .latency_ms
            .iter()
            .map(|(name, v)| (name.to_string(), serde_json::json!((v * 1000.0).round() / 1000.0)))
            .collect();
        serde_json::json!({
            "tps": self.tps.round(),
            "calls": self.calls,
            "seconds": self.seconds,
            "latency_ms": latency,
            "accepted": self.accepted,
            "invalid": self.invalid,
            "over_limit": self.over_limit,
            "failed": self.failed,
            "consistent": self.consistent(),
            "results_growth": self.growth,
            "accepted_with_warmup": self.accepted_all,
        })
        .to_string()
    }
}

/// Calls a procedure; a failure status is an error naming it.
async fn call(client: &Client, procedure: &str, params: Vec<Value>) -> anyhow::Result<Response> {
    let r = client.call(procedure, params).await?;
    if r.status != status::SUCCESS {
        bail!("{procedure}: {}", r.status_string.unwrap_or_default());
    }
    Ok(r)
}

/// The total of `Results`' TOTAL_VOTES column.
async fn total_votes(client: &Client) -> anyhow::Result<i64> {
    let r = call(client, "Results", Vec::new()).await?;
    let table = r.tables.first().context("Results returned no table")?;
    Ok(table
        .rows
        .iter()
        .filter_map(|row| match row.get(2) {
            Some(Value::Integer(n)) => Some(*n),
            _ => None,
        })
        .sum())
}

/// VoltDB's closing lines: each contestant's votes and the winner.
async fn print_results(client: &Client, json: bool) -> anyhow::Result<()> {
    let r = call(client, "Results", Vec::new()).await?;
    let Some(table) = r.tables.first() else {
        return Ok(());
    };
    say(json, "");
    say(json, &format!("{:<20} {:>14}", "Contestant Name", "Votes Received"));
    for row in &table.rows {
        if let (Some(Value::Varchar(name)), Some(Value::Integer(votes))) = (row.first(), row.get(2)) {
            say(json, &format!("{name:<20} {votes:>14}"));
        }
    }
    if let Some(Value::Varchar(winner)) = table.rows.first().and_then(|row| row.first()) {
        say(json, &format!("The winner is {winner}"));
    }
    Ok(())
}

/// Creates what is missing of the voter schema and procedures, then calls `Initialize`.
async fn setup(client: &Client, args: &VoterArgs) -> anyhow::Result<()> {
    let mut existing = catalog_names(client, "TABLES").await?;
    existing.extend(catalog_names(client, "PROCEDURES").await?);
    let mut created = false;
    for command in commands(DDL) {
        let Ok(Command::Sql(statement)) = command else {
            bail!("examples/voter/ddl.sql holds something that is not SQL: {command:?}");
        };
        if created_object(&statement).is_some_and(|name| existing.contains(&name)) {
            continue;
        }
        call(client, "@AdHoc", vec![Value::str(&statement)])
            .await
            .with_context(|| format!("creating the voter schema: {}", first_line(&statement)))?;
        created = true;
    }
    if created {
        client.refresh_topology().await?;
    }
    let r = call(
        client,
        "Initialize",
        vec![Value::Integer(args.contestants), Value::str(NAMES)],
    )
    .await?;
    if let Some(Value::Integer(n)) = r
        .tables
        .first()
        .and_then(|t| t.rows.first())
        .and_then(|row| row.first())
        && *n != args.contestants
    {
        say(
            args.json,
            &format!("note: the database already has {n} contestants; votes for others count as invalid"),
        );
    }
    Ok(())
}

/// The upper-cased names in column 3 (TABLE_NAME, PROCEDURE_NAME) of a `@SystemCatalog`
/// selector.
async fn catalog_names(client: &Client, selector: &str) -> anyhow::Result<Vec<String>> {
    let r = call(client, "@SystemCatalog", vec![Value::str(selector)]).await?;
    Ok(r.tables
        .first()
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|row| match row.get(2) {
                    Some(Value::Varchar(s)) => Some(s.to_uppercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The upper-cased name of what a statement creates or partitions (`CREATE TABLE x`,
/// `CREATE VIEW x`, `CREATE PROCEDURE x`, `PARTITION TABLE x`).
fn created_object(statement: &str) -> Option<String> {
    let verb = first_word(statement).to_uppercase();
    let mut words = after_first_word(statement).split(|c: char| c.is_whitespace() || c == '(' || c == ';');
    let kind = words.next()?.to_uppercase();
    let name = words.find(|w| !w.is_empty())?.to_uppercase();
    match (verb.as_str(), kind.as_str()) {
        ("CREATE", "TABLE" | "VIEW" | "PROCEDURE") | ("PARTITION", "TABLE") => Some(name),
        _ => None,
    }
}

/// The first line of a statement that is not a comment (for error messages).
fn first_line(statement: &str) -> &str {
    statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("")
}

/// The area codes of `Initialize`'s list in `ddl.sql`, in its order (the generator's skew
/// favours the first ones).
fn area_codes() -> Vec<i64> {
    let Some(list) = DDL
        .split_once("local AREA_CODES = {")
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(list, _)| list)
    else {
        return Vec::new();
    };
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Each area code's favourite contestant, fixed for the run (`PhoneCallGenerator`'s
/// voting map: contestant 1 with odds 30 %, else |sin(i) · N| mod N + 1).
struct VotingMap {
    area_codes: Vec<i64>,
    favourite: Vec<i64>,
    contestants: i64,
}

impl VotingMap {
    fn new(contestants: i64) -> VotingMap {
        let area_codes = area_codes();
        let mut rng = Rng::seeded(0x5EED);
        let favourite = (0..area_codes.len())
            .map(|i| {
                if rng.below(100) < 30 {
                    1
                } else {
                    ((i as f64).sin() * contestants as f64).abs() as i64 % contestants + 1
                }
            })
            .collect();
        VotingMap {
            area_codes,
            favourite,
            contestants,
        }
    }
}

/// VoltDB's `PhoneCallGenerator`: a skewed area code, `(rand(N) · rand(N)) mod N`; the
/// phone is that area code × 10^7 + uniform [0, 10^7); the contestant is 999 (invalid)
/// with odds 1/100, else a uniform one with odds ½, else the area code's favourite.
struct Generator {
    map: Arc<VotingMap>,
    rng: Rng,
}

impl Generator {
    fn new(map: Arc<VotingMap>, seed: u64) -> Generator {
        Generator {
            map,
            rng: Rng::seeded(seed ^ (u64::from(std::process::id()) << 32) ^ now_nanos()),
        }
    }

    /// The next call: (phone number, contestant).
    fn next(&mut self) -> (i64, i64) {
        let n = self.map.area_codes.len() as u64;
        let area = ((self.rng.below(n) * self.rng.below(n)) % n) as usize;
        let contestant = if self.rng.below(100) == 0 {
            INVALID_CONTESTANT
        } else if self.rng.below(2) == 0 {
            self.rng.below(self.map.contestants as u64) as i64 + 1
        } else {
            self.map.favourite[area]
        };
        let phone = self.map.area_codes[area] * 10_000_000 + self.rng.below(10_000_000) as i64;
        (phone, contestant)
    }
}

/// SplitMix64: fast and well spread; the benchmark needs no more.
struct Rng(u64);

impl Rng {
    /// A generator whose sequence does not overlap another seed's: SplitMix64's state only
    /// steps by a constant, so nearby seeds would give the same calls shifted by a few.
    fn seeded(seed: u64) -> Rng {
        Rng(mix(seed))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0) % n
    }
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The clock's nanoseconds: runs against one database must not repeat each other's phones.
fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ddl_holds_voltdbs_305_area_codes() {
        let codes = area_codes();
        assert_eq!(codes.len(), 305);
        assert_eq!((codes[0], codes[304]), (907, 307));
    }

    #[test]
    fn the_ddl_splits_into_statements_that_name_what_they_create() {
        let names: Vec<Option<String>> = commands(DDL)
            .into_iter()
            .map(|c| match c {
                Ok(Command::Sql(s)) => created_object(&s),
                other => panic!("not SQL: {other:?}"),
            })
            .collect();
        let expected = [
            "CONTESTANTS",
            "VOTES",
            "VOTES",
            "AREA_CODE_STATE",
            "V_VOTES_BY_PHONE_NUMBER",
            "V_VOTES_BY_CONTESTANT_NUMBER_STATE",
            "INITIALIZE",
            "VOTE",
            "RESULTS",
            "GETSTATEHEATMAP",
        ];
        assert_eq!(names, expected.map(|n| Some(n.to_string())));
    }

    #[test]
    fn the_generator_follows_voltdbs_odds() {
        let map = Arc::new(VotingMap::new(6));
        let mut g = Generator::new(map, 1);
        let calls: Vec<(i64, i64)> = (0..100_000).map(|_| g.next()).collect();
        let invalid = calls.iter().filter(|c| c.1 == INVALID_CONTESTANT).count();
        assert!((700..1300).contains(&invalid), "about 1 % invalid: {invalid}");
        assert!(
            calls
                .iter()
                .all(|&(p, c)| c == INVALID_CONTESTANT || (1..=6).contains(&c) && p / 10_000_000 >= 201)
        );
        // Skewed: area index 0 ((a · b) mod N = 0 whenever a or b is 0) is well above 1/305.
        let first = calls.iter().filter(|c| c.0 / 10_000_000 == 907).count();
        assert!(first > 2 * 100_000 / 305, "{first}");
    }
}
