//! Voter benchmark, in process: VoltDB's voter workload against the embedded engine,
//! measuring transactions per second and per site-CPU-second.
//!
//! ```text
//! cargo run --release -p voltrs-engine --example voter_bench -- \
//!     [--partitions 2] [--threads 2] [--inflight 1000] [--duration 10] [--warmup 2] \
//!     [--runs 1] [--variant sql|lua|native|mp|mp-read|mp-write|all|profile|<profile variant>]
//! ```
//!
//! For each variant and run:
//! 1. A fresh [`Database`] with `--partitions` sites gets voter's schema, 6 contestants and
//!    305 area codes ([`schema::load`]) and the variant's procedure ([`schema::Variant`]).
//! 2. `--threads` caller threads (`voter-caller-N`) each keep `--inflight` calls in flight
//!    with `Session::call_async`: a caller takes a permit from a bounded channel before each
//!    call and the response callback (on the site thread) gives it back.
//! 3. After `--warmup` seconds the committed-call counters, each thread's CPU time
//!    (`/proc/self/task/*/stat`) and the process's are read; again `--duration` seconds
//!    later. The callers then stop and drain.
//! 4. Reported: committed transactions per second in total and per site (counted by the
//!    site thread that ran the callback), committed transactions per site-CPU-second (the
//!    sum of utime + stime of the `voltrs-site-*` threads over the interval; for
//!    multi-partition variants the coordinator's CPU is added), and the CPU the callers,
//!    the coordinator and the whole process used. With `--runs N` each figure's median and
//!    range over the runs follows.
//!
//! Variants: `sql` (VoltDB's Vote work as a SQL-only procedure: three point reads and an
//! insert that maintains both views; no branching), `lua` and `native` (Vote with its
//! branches: 0 accepted, 1 bad contestant, 2 over the vote limit), `mp-read`
//! (`SELECT COUNT(*) FROM votes` over 1000 rows, multi-partition) and `mp-write` (an
//! insert into a replicated table). `profile` runs the variants that isolate one cost:
//! `native-empty`, `lua-empty`, `sql-read1`, `sql-read3`, `sql-insert-noview`,
//! `sql-insert`, then `sql`, `native`, `lua`.

mod cpu;
mod schema;
mod workload;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use voltrs_engine::{Config, Database, Response, Status};
use voltrs_storage::Value;

use schema::{Answer, Variant};

struct Flags {
    partitions: usize,
    threads: usize,
    inflight: usize,
    duration: Duration,
    warmup: Duration,
    runs: usize,
    variants: Vec<Variant>,
}

const USAGE: &str = "usage: voter_bench [--partitions N] [--threads N] [--inflight N] [--duration SECONDS] \
[--warmup SECONDS] [--runs N] [--variant sql|lua|native|mp|mp-read|mp-write|all|profile|native-empty|lua-empty|\
sql-read1|sql-read3|sql-insert|sql-insert-noview[,...]]";

fn parse_flags() -> Result<Flags, String> {
    let mut f = Flags {
        partitions: 2,
        threads: 2,
        inflight: 1000,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        runs: 1,
        variants: Variant::ALL.to_vec(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: {value} is not a whole number"))
        };
        let seconds = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|s| *s >= 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{flag}: {value} is not a number of seconds"))
        };
        match flag.as_str() {
            "--partitions" => f.partitions = number()?,
            "--threads" => f.threads = number()?,
            "--inflight" => f.inflight = number()?,
            "--runs" => f.runs = number()?,
            "--duration" => f.duration = seconds()?,
            "--warmup" => f.warmup = seconds()?,
            "--variant" => {
                let mut vs = Vec::new();
                for name in value.split(',') {
                    vs.extend(Variant::parse(name).ok_or_else(|| format!("unknown variant {name}\n{USAGE}"))?);
                }
                f.variants = vs;
            }
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if f.partitions == 0 || f.threads == 0 || f.inflight == 0 || f.runs == 0 {
        return Err("--partitions, --threads, --inflight and --runs must be at least 1".into());
    }
    Ok(f)
}

/// Counters one thread writes: padded so two sites never share a cache line.
#[repr(align(128))]
#[derive(Default)]
struct Slot {
    committed: AtomicU64,
    /// Vote's answers: accepted, bad contestant, over the limit.
    codes: [AtomicU64; 3],
    failed: AtomicU64,
}

/// Response counters by the thread that ran the callback: one slot per site, then the MP
/// coordinator, then any other thread (a call refused before it was queued).
struct Counters {
    slots: Vec<Slot>,
    first_failure: Mutex<Option<String>>,
}

thread_local! {
    static SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

impl Counters {
    fn new(partitions: usize) -> Counters {
        Counters {
            slots: (0..partitions + 2).map(|_| Slot::default()).collect(),
            first_failure: Mutex::new(None),
        }
    }

    /// This thread's slot, found once from its name.
    fn slot(&self) -> &Slot {
        let sites = self.slots.len() - 2;
        let i = SLOT.with(|s| match s.get() {
            Some(i) => i,
            None => {
                let name = std::thread::current().name().unwrap_or("").to_string();
                let i = match name.strip_prefix("voltrs-site-").and_then(|n| n.parse::<usize>().ok()) {
                    Some(p) if p < sites => p,
                    _ if name == "voltrs-mp-coordinator" => sites,
                    _ => sites + 1,
                };
                s.set(Some(i));
                i
            }
        });
        &self.slots[i]
    }

    fn record(&self, answer: Answer, r: &Response) {
        let slot = self.slot();
        if r.status != Status::Success {
            slot.failed.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_failure.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_none() {
                *first = Some(format!("{:?}: {}", r.status, r.status_string.as_deref().unwrap_or("")));
            }
            return;
        }
        slot.committed.fetch_add(1, Ordering::Relaxed);
        if answer == Answer::VoteCode
            && let Some(Value::Integer(code)) = r
                .tables
                .first()
                .and_then(|t| t.rows.first())
                .and_then(|row| row.first())
            && let Some(c) = slot.codes.get(*code as usize)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (committed per slot, [accepted, bad, over, failed]) so far.
    fn snapshot(&self) -> (Vec<u64>, [u64; 4]) {
        let committed = self.slots.iter().map(|s| s.committed.load(Ordering::Relaxed)).collect();
        let mut outcomes = [0u64; 4];
        for s in &self.slots {
            for (o, c) in outcomes.iter_mut().zip(&s.codes) {
                *o += c.load(Ordering::Relaxed);
            }
            outcomes[3] += s.failed.load(Ordering::Relaxed);
        }
        (committed, outcomes)
    }
}

/// One run's figures over the measured interval.
struct Metrics {
    seconds: f64,
    /// Committed transactions per site (last: the MP coordinator).
    committed: Vec<u64>,
    outcomes: [u64; 4],
    site_cpu: Vec<f64>,
    coordinator_cpu: f64,
    caller_cpu: f64,
    process_cpu: f64,
}

impl Metrics {
    fn total(&self) -> u64 {
        self.committed.iter().sum()
    }

    fn tps(&self) -> f64 {
        self.total() as f64 / self.seconds
    }

    /// Committed transactions per CPU-second of the threads that ran them.
    fn per_cpu_second(&self, multi: bool) -> f64 {
        let mut cpu: f64 = self.site_cpu.iter().sum();
        if multi {
            cpu += self.coordinator_cpu;
        }
        if cpu > 0.0 { self.total() as f64 / cpu } else { 0.0 }
    }
}

/// Runs the callers against a fresh database and measures one interval.
fn run_once(flags: &Flags, variant: Variant) -> Result<Metrics, String> {
    let db = Database::open(Config::with_partitions(flags.partitions)).map_err(|e| format!("open: {e}"))?;
    schema::load(&db)?;
    variant.install(&db)?;
    if variant.multi_partition() {
        schema::preload_votes(&db)?;
    }
    let states: Arc<Vec<Value>> = Arc::new(
        (0..workload::AREA_CODES)
            .map(|i| Value::str(workload::area_code(i).1))
            .collect(),
    );
    let counters = Arc::new(Counters::new(flags.partitions));
    let stop = Arc::new(AtomicBool::new(false));
    let mut callers = Vec::with_capacity(flags.threads);
    for t in 0..flags.threads {
        let (db, states, counters, stop) = (db.clone(), states.clone(), counters.clone(), stop.clone());
        let inflight = flags.inflight;
        let h = std::thread::Builder::new()
            .name(format!("voter-caller-{t}"))
            .spawn(move || caller(&db, variant, t, inflight, &states, &counters, &stop))
            .map_err(|e| format!("cannot start a caller thread: {e}"))?;
        callers.push(h);
    }
    std::thread::sleep(flags.warmup);
    let (c0, o0) = counters.snapshot();
    let (t0, p0, i0) = (cpu::threads(), cpu::process_ticks(), Instant::now());
    std::thread::sleep(flags.duration);
    let (c1, o1) = counters.snapshot();
    let (t1, p1, seconds) = (cpu::threads(), cpu::process_ticks(), i0.elapsed().as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    for h in callers {
        h.join().map_err(|_| "a caller thread panicked".to_string())?;
    }
    if let Some(f) = counters
        .first_failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        eprintln!("  first failed call: {f}");
    }

    let used = cpu::seconds_between(&t0, &t1);
    let sum = |pred: &dyn Fn(&str) -> bool| used.iter().filter(|(n, _)| pred(n)).map(|(_, s)| s).sum::<f64>();
    let site_cpu = (0..flags.partitions)
        .map(|p| {
            let name = format!("voltrs-site-{p}");
            sum(&|n| n == name)
        })
        .collect();
    let sites = flags.partitions;
    Ok(Metrics {
        seconds,
        committed: c1.iter().zip(&c0).take(sites + 1).map(|(a, b)| a - b).collect(),
        outcomes: std::array::from_fn(|i| o1[i] - o0[i]),
        site_cpu,
        coordinator_cpu: sum(&|n| n.starts_with("voltrs-mp-coord")),
        caller_cpu: sum(&|n| n.starts_with("voter-caller-")),
        process_cpu: p1.saturating_sub(p0) as f64 / cpu::TICKS_PER_SECOND,
    })
}

/// One caller thread: keeps `inflight` calls in flight until told to stop, then drains.
fn caller(
    db: &Database,
    variant: Variant,
    index: usize,
    inflight: usize,
    states: &[Value],
    counters: &Arc<Counters>,
    stop: &AtomicBool,
) {
    let mut session = db.session();
    let mut calls = workload::Generator::new(0x5EED_0000 + index as u64, schema::CONTESTANTS);
    let (permit_tx, permit_rx) = crossbeam_channel::bounded::<()>(inflight);
    for _ in 0..inflight {
        let _ = permit_tx.send(());
    }
    let answer = variant.answer();
    let mut serial = (index as i64) << 40;
    while !stop.load(Ordering::Relaxed) {
        if permit_rx.recv().is_err() {
            return;
        }
        serial += 1;
        let params = variant.params(&calls.next_call(), states, serial);
        let (permit, counters) = (permit_tx.clone(), counters.clone());
        session.call_async(variant.procedure(), params, move |r| {
            counters.record(answer, &r);
            let _ = permit.send(());
        });
    }
    for _ in 0..inflight {
        let _ = permit_rx.recv();
    }
}

fn median_and_range(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    };
    (median, xs[0], xs[n - 1])
}

fn report_run(flags: &Flags, variant: Variant, run: usize, m: &Metrics) {
    let multi = variant.multi_partition();
    let per_site: Vec<String> = m.committed[..flags.partitions]
        .iter()
        .map(|c| format!("{:.0}", *c as f64 / m.seconds))
        .collect();
    let site_cpu: Vec<String> = m.site_cpu.iter().map(|s| format!("{:.2}", s / m.seconds)).collect();
    let [accepted, bad, over, failed] = m.outcomes;
    println!(
        "{:<18} p={} run {}/{}: {:>9.0} txn/s (per site {}{}), {:>9.0} txn per {}CPU-s; CPU cores: sites {} \
         coordinator {:.2} callers {:.2} process {:.2}; committed {} failed {failed}{}",
        variant.label(),
        flags.partitions,
        run + 1,
        flags.runs,
        m.tps(),
        per_site.join(" / "),
        if multi {
            format!(", coordinator {:.0}", m.committed[flags.partitions] as f64 / m.seconds)
        } else {
            String::new()
        },
        m.per_cpu_second(multi),
        if multi { "site+coordinator-" } else { "site-" },
        site_cpu.join("+"),
        m.coordinator_cpu / m.seconds,
        m.caller_cpu / m.seconds,
        m.process_cpu / m.seconds,
        m.total(),
        if variant.answer() == Answer::VoteCode {
            format!(" (accepted {accepted}, bad contestant {bad}, over limit {over})")
        } else {
            String::new()
        },
    );
}

fn main() {
    let flags = match parse_flags() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    println!(
        "voter_bench: {} partition(s), {} caller thread(s) x {} in flight, {:?} warm-up, {:?} measured, {} run(s); \
         {} CPU(s) available",
        flags.partitions,
        flags.threads,
        flags.inflight,
        flags.warmup,
        flags.duration,
        flags.runs,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let mut results: Vec<(Variant, Vec<Metrics>)> = Vec::new();
    for &variant in &flags.variants {
        let mut runs = Vec::new();
        for run in 0..flags.runs {
            match run_once(&flags, variant) {
                Ok(m) => {
                    report_run(&flags, variant, run, &m);
                    runs.push(m);
                }
                Err(e) => {
                    eprintln!("{}: {e}", variant.label());
                    std::process::exit(1);
                }
            }
        }
        results.push((variant, runs));
    }
    summary(&flags, &results);
}

/// The Markdown table of medians and ranges over the runs.
fn summary(flags: &Flags, results: &[(Variant, Vec<Metrics>)]) {
    println!();
    println!(
        "| variant | partitions | txn/s | txn/s per site | txn per site-CPU-s | site CPU (cores) | caller CPU (cores) | process CPU (cores) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let cell = |xs: Vec<f64>, digits: usize| {
        let (m, lo, hi) = median_and_range(xs);
        if digits == 0 {
            format!("{m:.0} ({lo:.0}–{hi:.0})")
        } else {
            format!("{m:.2} ({lo:.2}–{hi:.2})")
        }
    };
    for (variant, runs) in results {
        let multi = variant.multi_partition();
        let p = flags.partitions as f64;
        let tps = runs.iter().map(Metrics::tps).collect::<Vec<_>>();
        println!(
            "| {}{} | {} | {} | {} | {} | {} | {} | {} |",
            variant.label(),
            if multi { " (MP)" } else { "" },
            flags.partitions,
            cell(tps, 0),
            cell(runs.iter().map(|m| m.tps() / p).collect(), 0),
            cell(runs.iter().map(|m| m.per_cpu_second(multi)).collect(), 0),
            cell(
                runs.iter()
                    .map(|m| (m.site_cpu.iter().sum::<f64>() + if multi { m.coordinator_cpu } else { 0.0 }) / m.seconds)
                    .collect(),
                2
            ),
            cell(runs.iter().map(|m| m.caller_cpu / m.seconds).collect(), 2),
            cell(runs.iter().map(|m| m.process_cpu / m.seconds).collect(), 2),
        );
    }
}
