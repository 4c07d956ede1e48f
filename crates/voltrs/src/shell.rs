//! The embedded SQL shell: reads statements ending in `;`, prints results as tables.

use std::io::{IsTerminal, Read};

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use voltrs_engine::{Database, Outcome, ResultTable};

pub fn run(db: Database) -> anyhow::Result<()> {
    let mut session = db.session();
    if !std::io::stdin().is_terminal() {
        let mut script = String::new();
        std::io::stdin().read_to_string(&mut script)?;
        let mut failed = false;
        for stmt in split_complete(&script) {
            failed |= !run_one(&mut session, &stmt);
        }
        if failed {
            std::process::exit(1);
        }
        return Ok(());
    }
    println!(
        "voltrs {} — embedded SQL shell ({} partitions; data in memory only). End statements with ';', exit with \\q.",
        env!("CARGO_PKG_VERSION"),
        db.config().partitions
    );
    let mut rl = DefaultEditor::new()?;
    let mut buf = String::new();
    loop {
        let prompt = if buf.is_empty() {
            format!("{}> ", session.database().to_lowercase())
        } else {
            "   -> ".into()
        };
        match rl.readline(&prompt) {
            Ok(line) => {
                let t = line.trim();
                if buf.is_empty() && (t == "\\q" || t.eq_ignore_ascii_case("exit") || t.eq_ignore_ascii_case("quit")) {
                    break;
                }
                buf.push_str(&line);
                buf.push('\n');
                if t.ends_with(';') && voltrs_sql::parser::ends_statement(&buf) {
                    let _ = rl.add_history_entry(buf.trim());
                    run_one(&mut session, &buf);
                    buf.clear();
                }
            }
            Err(ReadlineError::Interrupted) => buf.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Splits a script into chunks at `;` line ends that end a statement (not a `;` inside a
/// procedure's body), so each statement's output follows it.
fn split_complete(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in script.lines() {
        cur.push_str(line);
        cur.push('\n');
        if line.trim_end().ends_with(';') && voltrs_sql::parser::ends_statement(&cur) {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// Runs one chunk and prints its results; returns false on error.
fn run_one(session: &mut voltrs_engine::Session, sql: &str) -> bool {
    let (outcomes, error) = session.execute_script(sql);
    for o in outcomes {
        match o {
            Outcome::Rows(t) => print_table(&t),
            Outcome::Modified(n) => println!("({n} row{} affected)", if n == 1 { "" } else { "s" }),
            Outcome::Done(tag) => println!("{tag}"),
        }
    }
    match error {
        Some(e) => {
            // Keep stdout and stderr in order when both go to one terminal or file.
            let _ = std::io::Write::flush(&mut std::io::stdout());
            eprintln!("ERROR: {e}");
            false
        }
        None => true,
    }
}

fn print_table(t: &ResultTable) {
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| voltrs_storage::text::render(v).unwrap_or_else(|| "NULL".into()))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = t.columns.iter().map(|c| c.name.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |vals: Vec<&str>| {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    println!("{}", line(t.columns.iter().map(|c| c.name.as_str()).collect()));
    println!(
        "{}",
        widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ")
    );
    for row in &cells {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
    println!("({} row{})", t.rows.len(), if t.rows.len() == 1 { "" } else { "s" });
}
