//! `voltrs bench voter`: VoltDB's voter client (`client/voter/AsyncBenchmark.java` and
//! `PhoneCallGenerator.java` in VoltDB/voltdb) over the binary protocol.
//!
//! 1. [`setup`]: connect `--connections` clients; create what is missing of
//!    `examples/voter/ddl.sql` (embedded: statements whose table, view or procedure exists
//!    are skipped) and call `Initialize`, which loads contestants and area codes once.
//! 2. Read the vote total of `Results`: the baseline of the consistency check.
//! 3. `--max-outstanding` chains of calls, spread over the clients, call `Vote(phone,
//!    contestant, maxvotes)` one at a time each, so that many calls are in flight;
//!    `--ratelimit` paces them. Calls made during `--warmup` are not measured (but their
//!    accepted votes are counted for the consistency check). The loop, the pacing and the
//!    progress lines are [`super::driver`]'s; [`Voter`] makes the calls and judges them.
//! 4. A progress line every second; after `--duration` measured seconds no call starts, the
//!    calls in flight are awaited.
//! 5. The report: calls, throughput, latency percentiles (HdrHistogram), the votes by
//!    answer, and the check that `Results` grew by exactly the votes accepted. With
//!    `--json` the report goes to standard error and standard output ends with one JSON line.
//!
//! The check assumes nobody else votes during the run. A call whose connection was lost
//! may or may not have run, so each widens the accepted range by one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use voltrs_client::{Client, ClientError, Response, Value, status};

use super::driver::{self, Rng, RunArgs, Summary, Workload, drive};
use super::schema::{call, create_missing};

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
    run: RunArgs,
    /// Contestants voted for (1 to 12).
    #[arg(long, default_value_t = 6)]
    contestants: i64,
    /// Votes a phone may cast.
    #[arg(long, default_value_t = 2)]
    maxvotes: i64,
}

pub fn run(args: VoterArgs) -> anyhow::Result<()> {
    let names = NAMES.split(',').count() as i64;
    if !(1..=names).contains(&args.contestants) {
        bail!("--contestants must be between 1 and {names}");
    }
    args.run.validate()?;
    driver::block_on(bench(args))
}

async fn bench(args: VoterArgs) -> anyhow::Result<()> {
    let run = &args.run;
    let clients = run.connect().await?;
    setup(&clients[0], &args).await?;
    let before = total_votes(&clients[0]).await?;
    run.say(&run.header(
        "voter",
        &format!("{} contestants, {} votes per phone", args.contestants, args.maxvotes),
    ));

    let counts = Arc::new(Counts::default());
    let map = Arc::new(VotingMap::new(args.contestants));
    let summary = drive(run, &clients, |n| Voter {
        generator: Generator::new(map.clone(), n as u64 + 1),
        counts: counts.clone(),
        maxvotes: args.maxvotes,
    })
    .await?;

    let after = total_votes(&clients[0]).await?;
    let report = Report::new(summary, &counts, after - before);
    report.print(run.json);
    print_results(&clients[0], run.json).await?;
    if run.json {
        println!("{}", report.json());
    }
    if !report.consistent() {
        bail!("consistency check failed: {}", report.consistency());
    }
    Ok(())
}

/// The votes by answer. `accepted`, `invalid` and `over_limit` are of the measured calls;
/// the rest span the whole run.
#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    invalid: AtomicU64,
    over_limit: AtomicU64,
    /// Accepted votes of the warmup.
    warmup_accepted: AtomicU64,
    /// Calls whose connection was lost: they may or may not have voted.
    uncertain: AtomicU64,
}

/// One chain of calls' `Vote` calls.
struct Voter {
    generator: Generator,
    counts: Arc<Counts>,
    maxvotes: i64,
}

impl Workload for Voter {
    fn next_call(&mut self) -> (&'static str, Vec<Value>) {
        let (phone, contestant) = self.generator.next();
        let params = vec![
            Value::Integer(phone),
            Value::Integer(contestant),
            Value::Integer(self.maxvotes),
        ];
        ("Vote", params)
    }

    fn answer(&mut self, result: Result<Response, ClientError>, measured: bool) -> Result<(), String> {
        let outcome = match result {
            Ok(r) => outcome(&r),
            Err(e) => {
                if matches!(e, ClientError::ConnectionLost { .. }) {
                    self.counts.uncertain.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Failed(e.to_string())
            }
        };
        let counter = match outcome {
            Outcome::Failed(message) => return Err(message),
            Outcome::Accepted if !measured => &self.counts.warmup_accepted,
            _ if !measured => return Ok(()),
            Outcome::Accepted => &self.counts.accepted,
            Outcome::Invalid => &self.counts.invalid,
            Outcome::OverLimit => &self.counts.over_limit,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// What one `Vote` call came to.
enum Outcome {
    Accepted,
    Invalid,
    OverLimit,
    Failed(String),
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

/// The figures of a finished run.
struct Report {
    summary: Summary,
    accepted: u64,
    invalid: u64,
    over_limit: u64,
    /// Votes accepted over the whole run, warmup included.
    accepted_all: u64,
    uncertain: u64,
    /// How much the total of `Results` grew.
    growth: i64,
}

impl Report {
    fn new(summary: Summary, counts: &Counts, growth: i64) -> Report {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let accepted = load(&counts.accepted);
        Report {
            summary,
            accepted,
            invalid: load(&counts.invalid),
            over_limit: load(&counts.over_limit),
            accepted_all: accepted + load(&counts.warmup_accepted),
            uncertain: load(&counts.uncertain),
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
        let counts = [
            format!("accepted         {}", self.accepted),
            format!("invalid          {} (contestant does not exist)", self.invalid),
            format!("over limit       {} (phone has voted enough)", self.over_limit),
        ];
        self.summary
            .print(json, counts, format!("consistency      {}", self.consistency()));
    }

    fn json(&self) -> String {
        self.summary.json(serde_json::json!({
            "accepted": self.accepted,
            "invalid": self.invalid,
            "over_limit": self.over_limit,
            "consistent": self.consistent(),
            "results_growth": self.growth,
            "accepted_with_warmup": self.accepted_all,
        }))
    }
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
    let say = |line: &str| driver::say(json, line);
    say("");
    say(&format!("{:<20} {:>14}", "Contestant Name", "Votes Received"));
    for row in &table.rows {
        if let (Some(Value::Varchar(name)), Some(Value::Integer(votes))) = (row.first(), row.get(2)) {
            say(&format!("{name:<20} {votes:>14}"));
        }
    }
    if let Some(Value::Varchar(winner)) = table.rows.first().and_then(|row| row.first()) {
        say(&format!("The winner is {winner}"));
    }
    Ok(())
}

/// Creates what is missing of the voter schema and procedures, then calls `Initialize`.
async fn setup(client: &Client, args: &VoterArgs) -> anyhow::Result<()> {
    create_missing(client, "voter", DDL).await?;
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
        args.run.say(&format!(
            "note: the database already has {n} contestants; votes for others count as invalid"
        ));
    }
    Ok(())
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
            rng: Rng::for_task(seed),
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

#[cfg(test)]
mod tests {
    use super::super::schema::created_objects;
    use super::*;

    #[test]
    fn the_ddl_holds_voltdbs_305_area_codes() {
        let codes = area_codes();
        assert_eq!(codes.len(), 305);
        assert_eq!((codes[0], codes[304]), (907, 307));
    }

    #[test]
    fn the_ddl_splits_into_statements_that_name_what_they_create() {
        let names = created_objects(DDL);
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
