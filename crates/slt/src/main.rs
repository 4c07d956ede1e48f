//! `voltrs-slt`: runs sqllogictest files against a fresh voltrs database each.
//!
//! ```text
//! voltrs-slt [--partitions N] [--partition-first-column] [--no-plan-cache] [--timeout SECS]
//!            [--verbose] [--parse-only] FILE...
//! ```
//!
//! Prints, per file, its failures (the first 20, or all with `--verbose`) and
//! `FILE: P passed, F failed, S skipped (T.Ts)`; then `N passed, M failed`. Exits 0 only when
//! nothing failed and at least one file ran. `--parse-only` runs nothing: it prints each
//! file's record counts (all statements and queries, and how many apply to us).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use voltrs_slt::parser::parse;
use voltrs_slt::runner::{self, Options};

const USAGE: &str = "usage: voltrs-slt [--partitions N] [--partition-first-column] [--no-plan-cache] \
[--timeout SECS] [--verbose] [--parse-only] FILE...

  --partitions N            partitions of each file's database (default: number of cores)
  --partition-first-column  partition every created table on its first column
  --no-plan-cache           bind every statement afresh (default: through the plan cache)
  --timeout SECS            time limit per statement or query (default 30)
  --verbose                 print every failure (default: the first 20 per file)
  --parse-only              only parse: print each file's statement and query counts";

struct Cli {
    options: Options,
    parse_only: bool,
    files: Vec<String>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Cli>, String> {
    let mut options = Options::default();
    let mut parse_only = false;
    let mut files = Vec::new();
    let mut args = args.into_iter();
    let mut only_files = false;
    while let Some(arg) = args.next() {
        if only_files || !arg.starts_with("--") {
            files.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        match name.as_str() {
            "--" => only_files = true,
            "--help" => return Ok(None),
            "--partitions" => {
                let v = value("a number")?;
                options.partitions = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--partitions: not a positive number: {v}")),
                };
            }
            "--timeout" => {
                let v = value("a number of seconds")?;
                options.timeout = match v.parse::<f64>() {
                    Ok(s) if s > 0.0 && s.is_finite() => Duration::from_secs_f64(s),
                    _ => return Err(format!("--timeout: not a positive number of seconds: {v}")),
                };
            }
            "--partition-first-column" if inline.is_none() => options.partition_first_column = true,
            "--no-plan-cache" if inline.is_none() => options.plan_cache = false,
            "--no-plan-cache" if inline.is_none() => options.plan_cache = false,
            "--verbose" if inline.is_none() => options.verbose = true,
            "--parse-only" if inline.is_none() => parse_only = true,
            _ => return Err(format!("unknown option: {arg}")),
        }
    }
    Ok(Some(Cli {
        options,
        parse_only,
        files,
    }))
}

/// `--parse-only`: counts per file; fails only on unreadable files.
fn parse_only(files: &[String], out: &mut dyn Write) -> bool {
    let (mut statements, mut queries, mut ok) = (0, 0, true);
    for path in files {
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                let _ = writeln!(out, "{path}: cannot read: {e}");
                ok = false;
                continue;
            }
        };
        let script = parse(&text);
        let (s, q) = (script.statement_count(), script.query_count());
        statements += s;
        queries += q;
        let plan = runner::plan(script);
        let halt = plan
            .halted_at
            .map(|l| format!(", halt at line {l}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{path}: {s} statements, {q} queries; {} to run, {} skipped, {} unknown{halt}",
            plan.test_count(),
            plan.skipped,
            plan.unknown.len()
        );
    }
    let _ = writeln!(out, "{statements} statements, {queries} queries");
    ok
}

fn main() -> ExitCode {
    let cli = match parse_args(std::env::args().skip(1)) {
        Ok(Some(cli)) => cli,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("voltrs-slt: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cli.files.is_empty() {
        eprintln!("voltrs-slt: no input files\n{USAGE}");
        return ExitCode::from(2);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if cli.parse_only {
        return if parse_only(&cli.files, &mut out) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    runner::install_panic_hook();
    let (mut passed, mut failed) = (0, 0);
    for path in &cli.files {
        let summary = runner::run_file(path, &cli.options, &mut out);
        passed += summary.passed;
        failed += summary.failed;
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    let _ = out.flush();
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn options() {
        let cli = parse_args(args(&[
            "--partitions",
            "3",
            "--timeout=2.5",
            "--verbose",
            "a.test",
            "b.test",
        ]))
        .expect("valid")
        .expect("not help");
        assert_eq!(cli.options.partitions, 3);
        assert_eq!(cli.options.timeout, Duration::from_millis(2500));
        assert!(cli.options.verbose);
        assert!(!cli.options.partition_first_column);
        assert_eq!(cli.files, args(&["a.test", "b.test"]));
        let cli = parse_args(args(&["--partition-first-column", "--", "--odd.test"]))
            .expect("valid")
            .expect("x");
        assert!(cli.options.partition_first_column);
        assert_eq!(cli.options.timeout, Duration::from_secs(30));
        assert_eq!(cli.files, args(&["--odd.test"]));
        assert!(cli.options.plan_cache, "the plan cache is on by default");
        let cli = parse_args(args(&["--no-plan-cache", "a.test"]))
            .expect("valid")
            .expect("not help");
        assert!(!cli.options.plan_cache);
        assert!(parse_args(args(&["--help"])).expect("valid").is_none());
        assert!(parse_args(args(&["--partitions", "0"])).is_err());
        assert!(parse_args(args(&["--timeout"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
        assert!(parse_args(args(&["--verbose=1"])).is_err());
    }
}
