//! `voltrs bench kv`: VoltDB's key-value client (`examples/voltkv` in VoltDB/voltdb:
//! `AsyncBenchmark.java`, `PayloadProcessor.java`) over the binary protocol.
//!
//! 1. [`setup`]: connect `--connections` clients; create what is missing of
//!    `examples/kv/ddl.sql` (table `store` partitioned on `key`, procedures `Get` and `Put`).
//! 2. The pool: `--keys` keys, `K` and the number zero-padded to `--key-size` characters
//!    ([`Pool`]). [`survey`] the store; unless it already holds every key of the pool with a
//!    `--value-size`-byte value, [`preload`] puts them all, `--max-outstanding` calls in
//!    flight.
//! 3. The driver's loop ([`super::driver`]): each call ([`Kv`]) is, with odds `--get-ratio`,
//!    `Get` of a uniformly random key of the pool, else `Put` of one with fresh random bytes.
//!    Every `Get` must find its key with a value of `--value-size` bytes.
//! 4. The report: calls, throughput, latency percentiles; gets, misses, puts, failed calls;
//!    and the check: a second survey finds every key of the pool with a value of the right
//!    size, and no `Get` of the run (warmup included) missed or read a wrong value. With
//!    `--json` the report goes to standard error and standard output ends with one JSON line.
//!
//! The check assumes nobody else removes the pool's keys or writes other sizes meanwhile.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, bail};
use voltrs_client::{Client, ClientError, Response, Value, status};

use super::driver::{self, Rng, RunArgs, Summary, Workload, drive};
use super::schema::{call, create_missing};

/// The kv example's schema and procedures.
const DDL: &str = include_str!("../../../../examples/kv/ddl.sql");

/// VoltDB's largest VARBINARY, the size of `store.value`.
const MAX_VALUE_SIZE: usize = 1_048_576;

/// The size of `store.key`.
const MAX_KEY_SIZE: usize = 250;

#[derive(clap::Args)]
pub struct KvArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Keys in the pool (preloaded, then read and written at random).
    #[arg(long, default_value_t = 100_000)]
    keys: usize,
    /// Share of the calls that are gets (the rest are puts), from 0 to 1.
    #[arg(long, default_value_t = 0.90)]
    get_ratio: f64,
    /// Bytes of each value.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Characters of each key (`K` and the zero-padded number).
    #[arg(long, default_value_t = 32)]
    key_size: usize,
}

pub fn run(args: KvArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.get_ratio) {
        bail!("--get-ratio must be between 0 and 1");
    }
    if !(1..=MAX_VALUE_SIZE).contains(&args.value_size) {
        bail!("--value-size must be between 1 and {MAX_VALUE_SIZE}");
    }
    if args.keys == 0 {
        bail!("--keys must be positive");
    }
    let digits = (args.keys - 1).to_string().len();
    if !(digits + 1..=MAX_KEY_SIZE).contains(&args.key_size) {
        bail!(
            "--key-size must be between {} (K and the digits of {} keys) and {MAX_KEY_SIZE}",
            digits + 1,
            args.keys
        );
    }
    args.run.validate()?;
    driver::block_on(bench(args))
}

async fn bench(args: KvArgs) -> anyhow::Result<()> {
    let run = &args.run;
    let clients = run.connect().await?;
    let pool = Arc::new(Pool::new(&args));
    setup(&clients, &pool, run).await?;
    run.say(&run.header(
        "kv",
        &format!(
            "{} keys of {} characters, {}-byte values, {} % gets",
            args.keys,
            args.key_size,
            args.value_size,
            args.get_ratio * 100.0
        ),
    ));

    let counts = Arc::new(Counts::default());
    let summary = drive(run, &clients, |n| Kv {
        pool: pool.clone(),
        rng: Rng::for_task(n as u64 + 1),
        counts: counts.clone(),
        reading: None,
    })
    .await?;

    let after = survey(&clients[0], &pool).await?;
    let report = Report::new(summary, &counts, after, &pool);
    report.print(run.json);
    if run.json {
        println!("{}", report.json());
    }
    if !report.consistent() {
        bail!("check failed: {}", report.check());
    }
    Ok(())
}

/// The keys the run reads and writes, and what their values must be.
struct Pool {
    keys: Vec<Arc<str>>,
    value_size: usize,
    get_ratio: f64,
}

impl Pool {
    fn new(args: &KvArgs) -> Pool {
        let width = args.key_size - 1;
        Pool {
            keys: (0..args.keys).map(|n| Arc::from(format!("K{n:0width$}"))).collect(),
            value_size: args.value_size,
            get_ratio: args.get_ratio,
        }
    }
}

/// The calls by kind. `gets`, `misses` and `puts` are of the measured calls; the rest span
/// the whole run.
#[derive(Default)]
struct Counts {
    /// Gets answered (found or not).
    gets: AtomicU64,
    /// Gets that found no row.
    misses: AtomicU64,
    puts: AtomicU64,
    /// Gets that found no row or a wrong one, warmup included.
    bad_reads: AtomicU64,
    first_bad_read: Mutex<Option<String>>,
}

impl Counts {
    fn bad_read(&self, what: String) {
        self.bad_reads.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_bad_read.lock() {
            first.get_or_insert(what);
        }
    }
}

/// One chain of calls' `Get` and `Put` calls.
struct Kv {
    pool: Arc<Pool>,
    rng: Rng,
    counts: Arc<Counts>,
    /// The key of the `Get` in flight; `None` while a `Put` is.
    reading: Option<Arc<str>>,
}

impl Workload for Kv {
    fn next_call(&mut self) -> (&'static str, Vec<Value>) {
        let key = self.pool.keys[self.rng.below(self.pool.keys.len() as u64) as usize].clone();
        if self.rng.unit() < self.pool.get_ratio {
            self.reading = Some(key.clone());
            ("Get", vec![Value::Varchar(key)])
        } else {
            self.reading = None;
            let value = Value::Varbinary(Arc::from(self.rng.bytes(self.pool.value_size)));
            ("Put", vec![Value::Varchar(key), value])
        }
    }

    fn answer(&mut self, result: Result<Response, ClientError>, measured: bool) -> Result<(), String> {
        let procedure = if self.reading.is_some() { "Get" } else { "Put" };
        let r = result.map_err(|e| format!("{procedure}: {e}"))?;
        if r.status != status::SUCCESS {
            return Err(format!(
                "{procedure} failed (status {}): {}",
                r.status,
                r.status_string.as_deref().unwrap_or("")
            ));
        }
        let rows = r.tables.first().map(|t| t.rows.as_slice()).unwrap_or_default();
        let Some(key) = self.reading.take() else {
            return match rows {
                [row] if matches!(row.as_slice(), [Value::Integer(1)]) => {
                    if measured {
                        self.counts.puts.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                }
                other => Err(format!("Put returned {other:?}, not 1 row changed")),
            };
        };
        if measured {
            self.counts.gets.fetch_add(1, Ordering::Relaxed);
        }
        match rows {
            [] => {
                if measured {
                    self.counts.misses.fetch_add(1, Ordering::Relaxed);
                }
                self.counts.bad_read(format!("Get {key}: no row"));
            }
            [row] => match row.as_slice() {
                [Value::Varchar(k), Value::Varbinary(v)] if *k == key && v.len() == self.pool.value_size => {}
                [k, Value::Varbinary(v)] => self
                    .counts
                    .bad_read(format!("Get {key}: key {k:?} with a value of {} bytes", v.len())),
                other => self.counts.bad_read(format!("Get {key}: row {other:?}")),
            },
            more => self.counts.bad_read(format!("Get {key}: {} rows", more.len())),
        }
        Ok(())
    }
}

/// What the store holds of the pool: the keys, and the smallest and largest value.
struct Survey {
    rows: u64,
    min_size: Option<i64>,
    max_size: Option<i64>,
}

impl Survey {
    /// Whether every key of the pool is there with a value of the pool's size.
    fn complete(&self, pool: &Pool) -> bool {
        let size = Some(pool.value_size as i64);
        self.rows == pool.keys.len() as u64 && self.min_size == size && self.max_size == size
    }

    fn describe(&self, pool: &Pool) -> String {
        let keys = pool.keys.len();
        if self.complete(pool) {
            return format!(
                "the store holds the {keys} keys, each with a {}-byte value",
                pool.value_size
            );
        }
        let sizes = match (self.min_size, self.max_size) {
            (Some(min), Some(max)) if min == max => format!(", with values of {min} bytes, not {}", pool.value_size),
            (Some(min), Some(max)) => format!(", with values of {min} to {max} bytes, not {}", pool.value_size),
            _ => String::new(),
        };
        format!("the store holds {} of the {keys} keys{sizes}", self.rows)
    }
}

/// Counts the pool's keys in the store and the sizes of their values (one multi-partition
/// query over the pool's key range; the keys of the pool's form all have its length).
async fn survey(client: &Client, pool: &Pool) -> anyhow::Result<Survey> {
    let (Some(first), Some(last)) = (pool.keys.first(), pool.keys.last()) else {
        bail!("the pool has no keys");
    };
    let sql = "SELECT COUNT(*), MIN(OCTET_LENGTH(value)), MAX(OCTET_LENGTH(value)) FROM store \
               WHERE key >= ? AND key <= ? AND CHAR_LENGTH(key) = ?";
    let params = vec![
        Value::str(sql),
        Value::Varchar(first.clone()),
        Value::Varchar(last.clone()),
        Value::Integer(first.chars().count() as i64),
    ];
    let r = call(client, "@AdHoc", params).await?;
    let row = r
        .tables
        .first()
        .and_then(|t| t.rows.first())
        .context("counting the store's keys returned no row")?;
    let int = |i: usize| match row.get(i) {
        Some(Value::Integer(n)) => Some(*n),
        _ => None,
    };
    Ok(Survey {
        rows: int(0).and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
        min_size: int(1),
        max_size: int(2),
    })
}

/// Creates what is missing of the kv schema and procedures, and preloads the pool unless
/// the store already holds it.
async fn setup(clients: &[Client], pool: &Arc<Pool>, run: &RunArgs) -> anyhow::Result<()> {
    let client = clients.first().context("no client")?;
    create_missing(client, "kv", DDL).await?;
    let before = survey(client, pool).await?;
    if before.complete(pool) {
        run.say(&format!("{}: no preload", before.describe(pool)));
        return Ok(());
    }
    let keys = pool.keys.len();
    run.say(&format!("preloading {keys} keys ({})", before.describe(pool)));
    let started = Instant::now();
    preload(clients, pool, run.max_outstanding).await?;
    let seconds = started.elapsed().as_secs_f64();
    run.say(&format!(
        "preloaded {keys} keys in {seconds:.1} s ({:.0} puts/s)",
        keys as f64 / seconds
    ));
    Ok(())
}

/// Puts every key of the pool with a random value, `lanes` calls in flight; the first
/// failure is an error.
async fn preload(clients: &[Client], pool: &Arc<Pool>, lanes: usize) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(lanes);
    for lane in 0..lanes {
        let client = clients[lane % clients.len()].clone();
        let (pool, next) = (pool.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::for_task(lane as u64);
            loop {
                let Some(key) = pool.keys.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    return anyhow::Ok(());
                };
                let value = Value::Varbinary(Arc::from(rng.bytes(pool.value_size)));
                call(&client, "Put", vec![Value::Varchar(key.clone()), value])
                    .await
                    .with_context(|| format!("preloading key {key}"))?;
            }
        }));
    }
    for t in tasks {
        t.await.context("a preloading task failed")??;
    }
    Ok(())
}

/// The figures of a finished run.
struct Report {
    summary: Summary,
    gets: u64,
    misses: u64,
    puts: u64,
    bad_reads: u64,
    first_bad_read: Option<String>,
    after: Survey,
    keys: usize,
    /// The survey's verdict and description, taken against the pool.
    complete: bool,
    stored: String,
    value_size: usize,
}

impl Report {
    fn new(summary: Summary, counts: &Counts, after: Survey, pool: &Pool) -> Report {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Report {
            summary,
            gets: load(&counts.gets),
            misses: load(&counts.misses),
            puts: load(&counts.puts),
            bad_reads: load(&counts.bad_reads),
            first_bad_read: counts.first_bad_read.lock().ok().and_then(|f| f.clone()),
            complete: after.complete(pool),
            stored: after.describe(pool),
            after,
            keys: pool.keys.len(),
            value_size: pool.value_size,
        }
    }

    /// Whether the store holds the whole pool and every read found its key's value.
    fn consistent(&self) -> bool {
        self.complete && self.bad_reads == 0
    }

    fn check(&self) -> String {
        let verdict = if self.consistent() { "ok" } else { "FAILED" };
        let reads = match &self.first_bad_read {
            None => format!("every Get found its key with a {}-byte value", self.value_size),
            Some(first) => format!("{} Gets found no row or a wrong one (first: {first})", self.bad_reads),
        };
        format!("{verdict}: {}; {reads}", self.stored)
    }

    fn print(&self, json: bool) {
        let counts = [
            format!("gets             {} ({} misses)", self.gets, self.misses),
            format!("puts             {}", self.puts),
        ];
        self.summary
            .print(json, counts, format!("check            {}", self.check()));
    }

    fn json(&self) -> String {
        self.summary.json(serde_json::json!({
            "gets": self.gets,
            "get_misses": self.misses,
            "puts": self.puts,
            "keys": self.keys,
            "rows": self.after.rows,
            "bad_reads": self.bad_reads,
            "consistent": self.consistent(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::created_objects;
    use super::*;

    fn args(keys: usize, key_size: usize) -> KvArgs {
        KvArgs {
            run: RunArgs {
                server: crate::server_args::ServerArgs {
                    servers: vec!["localhost".into()],
                    port: voltrs_client::DEFAULT_PORT,
                    user: String::new(),
                    password: String::new(),
                },
                duration: 1.0,
                warmup: 0.0,
                connections: 1,
                max_outstanding: 1,
                ratelimit: None,
                json: false,
            },
            keys,
            get_ratio: 0.9,
            value_size: 100,
            key_size,
        }
    }

    #[test]
    fn the_ddl_creates_the_store_and_its_procedures() {
        let expected = ["STORE", "STORE", "GET", "PUT"];
        assert_eq!(created_objects(DDL), expected.map(|n| Some(n.to_string())));
    }

    #[test]
    fn keys_are_k_and_the_zero_padded_number_and_sort_like_it() {
        let pool = Pool::new(&args(1000, 32));
        assert_eq!(&*pool.keys[7], "K0000000000000000000000000000007");
        assert!(pool.keys.iter().all(|k| k.len() == 32));
        assert!(
            pool.keys.windows(2).all(|w| w[0] < w[1]),
            "the survey's key range needs it"
        );
        assert_eq!(&*Pool::new(&args(10, 2)).keys[9], "K9");
    }

    fn answer_with(rows: Vec<Vec<Value>>) -> Response {
        Response {
            handle: 0,
            status: status::SUCCESS,
            status_string: None,
            app_status: status::APP_STATUS_UNSET,
            app_status_string: None,
            round_trip_ms: 0,
            tables: vec![voltrs_client::Table {
                columns: Vec::new(),
                rows,
            }],
        }
    }

    #[test]
    fn a_get_must_find_its_key_with_a_value_of_the_size() {
        let pool = Arc::new(Pool::new(&args(10, 4)));
        let counts = Arc::new(Counts::default());
        let mut kv = Kv {
            pool,
            rng: Rng::seeded(1),
            counts: counts.clone(),
            reading: None,
        };
        let mut get = |rows: Vec<Vec<Value>>, measured: bool| {
            kv.reading = Some(Arc::from("K007"));
            kv.answer(Ok(answer_with(rows)), measured)
        };
        let key = || Value::str("K007");
        assert_eq!(get(vec![vec![key(), Value::bytes(&[0; 100])]], true), Ok(()));
        assert_eq!(get(vec![], true), Ok(()));
        assert_eq!(get(vec![vec![key(), Value::bytes(&[0; 99])]], false), Ok(()));
        assert_eq!(
            get(vec![vec![Value::str("K008"), Value::bytes(&[0; 100])]], true),
            Ok(())
        );
        assert_eq!(
            counts.gets.load(Ordering::Relaxed),
            3,
            "the warmup's get is not measured"
        );
        assert_eq!(counts.misses.load(Ordering::Relaxed), 1);
        assert_eq!(counts.bad_reads.load(Ordering::Relaxed), 3, "warmup included");
        let first = counts.first_bad_read.lock().expect("lock").clone();
        assert_eq!(first.as_deref(), Some("Get K007: no row"));

        // A Put answers one changed row; a failure status is a failed call.
        kv.reading = None;
        assert_eq!(kv.answer(Ok(answer_with(vec![vec![Value::Integer(1)]])), true), Ok(()));
        assert_eq!(counts.puts.load(Ordering::Relaxed), 1);
        kv.reading = None;
        let mut refused = answer_with(vec![]);
        (refused.status, refused.status_string) = (status::GRACEFUL_FAILURE, Some("no".into()));
        let verdict = kv.answer(Ok(refused), true);
        assert!(verdict.is_err_and(|e| e.starts_with("Put failed")));
    }

    #[test]
    fn calls_follow_the_get_ratio_and_the_value_size() {
        let pool = Arc::new(Pool::new(&args(100, 32)));
        let mut kv = Kv {
            pool,
            rng: Rng::seeded(3),
            counts: Arc::new(Counts::default()),
            reading: None,
        };
        let calls: Vec<(&str, Vec<Value>)> = (0..10_000).map(|_| kv.next_call()).collect();
        let gets = calls.iter().filter(|(p, _)| *p == "Get").count();
        assert!((8_800..9_200).contains(&gets), "{gets}");
        for (procedure, params) in &calls {
            match (*procedure, params.as_slice()) {
                ("Get", [Value::Varchar(k)]) => assert_eq!(k.len(), 32),
                ("Put", [Value::Varchar(k), Value::Varbinary(v)]) => assert_eq!((k.len(), v.len()), (32, 100)),
                other => panic!("{other:?}"),
            }
        }
    }
}
