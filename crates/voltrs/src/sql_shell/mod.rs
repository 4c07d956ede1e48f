//! `voltrs sql`: a sqlcmd-like shell over VoltDB's binary protocol, using `voltrs-client`.
//!
//! 1. Input comes from `--query`, from standard input when it is not a terminal (a
//!    script), or from the line editor (rustyline, history in `~/.voltrs_history`).
//! 2. [`input`] turns lines into [`Command`]s: SQL statements (ending with `;`, possibly
//!    over several lines, `BEGIN ... END` bodies kept whole) and directives (`exec`,
//!    `file`, `show tables|procedures`, `describe`, `explainproc`, `help`, `exit`).
//! 3. Each SQL statement is sent alone to `@AdHoc` (`EXPLAIN ...` to `@Explain`); `exec`
//!    calls the procedure with its arguments (the server converts them to the parameter
//!    types); the catalog directives read `@SystemCatalog` ([`catalog`]).
//! 4. [`output`] prints every result table (`--output-format fixed|csv|tab`). In the
//!    fixed format DDL prints its tag (`CREATE TABLE`) and DML `(N rows affected)`.
//!    Errors go to standard error as `ERROR: <the server's message>`.
//!
//! A script stops at its first error and the shell exits with status 1, unless
//! `--continue-on-error` (then every command runs and the status is 0). Timing lines go to
//! standard error, only at a terminal or with `--timing`, so scripted standard output is
//! the same from run to run.

mod catalog;
pub(crate) mod input;
mod output;

use std::io::{self, IsTerminal, Read, Write};
use std::time::Instant;

use anyhow::Context;
use input::{Command, Parsed};
use output::Format;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use voltrs_client::{Client, Response, Value, status};
use voltrs_sql::parser::Statement;

/// How deep `file` directives may nest (a script that runs itself stops here).
const MAX_FILE_DEPTH: usize = 16;

#[derive(clap::Args)]
pub struct SqlArgs {
    #[command(flatten)]
    server: crate::server_args::ServerArgs,
    /// Run these statements and directives, then exit.
    #[arg(long)]
    query: Option<String>,
    #[arg(long, value_enum, default_value = "fixed")]
    output_format: Format,
    /// Keep running a script after a failed command (the exit status is then 0).
    #[arg(long)]
    continue_on_error: bool,
    /// Print how long each command took (on standard error); on by default at a terminal.
    #[arg(long)]
    timing: bool,
}

/// Runs the shell; the process exit status.
pub fn run(args: SqlArgs) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let servers = args.server.addresses();
    let client = runtime.block_on(Client::connect(args.server.client_config()))?;
    let interactive = args.query.is_none() && io::stdin().is_terminal();
    let mut shell = Shell {
        runtime,
        client,
        format: args.output_format,
        timing: args.timing || interactive,
        stop_on_error: !args.continue_on_error && !interactive,
        database: "voltrs".into(),
        depth: 0,
    };
    let script = match args.query {
        Some(q) => q,
        None if interactive => return shell.interactive(&servers),
        None => {
            let mut s = String::new();
            io::stdin().read_to_string(&mut s).context("reading standard input")?;
            s
        }
    };
    let failed = shell.script(&script)?.failed;
    Ok(i32::from(failed && shell.stop_on_error))
}

struct Shell {
    runtime: tokio::runtime::Runtime,
    client: Client,
    format: Format,
    timing: bool,
    stop_on_error: bool,
    /// The database `USE` last switched to (for the prompt).
    database: String,
    /// Nesting of `file` directives.
    depth: usize,
}

/// How a run of commands ended.
#[derive(Default)]
struct Ran {
    failed: bool,
    exit: bool,
}

/// Why a command did not complete: reported and skipped, or output that cannot be written
/// (the shell stops).
enum Failure {
    Reported(String),
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

impl From<voltrs_client::ClientError> for Failure {
    fn from(e: voltrs_client::ClientError) -> Self {
        Failure::Reported(e.to_string())
    }
}

impl Shell {
    fn interactive(&mut self, servers: &[String]) -> anyhow::Result<i32> {
        println!(
            "voltrs {} SQL shell, connected to {}. End statements with ';'; 'help' lists the directives, 'exit' quits.",
            env!("CARGO_PKG_VERSION"),
            servers.join(", ")
        );
        let history = std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".voltrs_history"));
        let mut editor = DefaultEditor::new()?;
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        let mut reader = input::Reader::default();
        loop {
            let prompt = if reader.pending() {
                "   -> ".to_string()
            } else {
                format!("{}> ", self.database)
            };
            match editor.readline(&prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    if self.run_all(reader.feed(&line))?.exit {
                        break;
                    }
                }
                Err(ReadlineError::Interrupted) => reader.clear(),
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(h) = &history {
            let _ = editor.save_history(h);
        }
        Ok(0)
    }

    /// Runs a whole script (standard input, `--query`, a `file`).
    fn script(&mut self, text: &str) -> io::Result<Ran> {
        self.run_all(input::commands(text))
    }

    /// Runs commands in order, reporting errors; stops early at `exit`, or at an error
    /// when stopping on errors.
    fn run_all(&mut self, commands: Vec<Parsed>) -> io::Result<Ran> {
        let mut ran = Ran::default();
        for parsed in commands {
            let started = Instant::now();
            let result = match parsed {
                Ok(command) => self.execute(command),
                Err(message) => Err(Failure::Reported(message)),
            };
            match result {
                Ok(Ran { failed, exit }) => {
                    ran.failed |= failed;
                    if exit || (failed && self.stop_on_error) {
                        ran.exit |= exit;
                        return Ok(ran);
                    }
                }
                Err(Failure::Output(e)) => return Err(e),
                Err(Failure::Reported(message)) => {
                    ran.failed = true;
                    io::stdout().flush()?;
                    eprintln!("ERROR: {message}");
                    if self.stop_on_error {
                        return Ok(ran);
                    }
                }
            }
            if self.timing {
                io::stdout().flush()?;
                eprintln!("({:.3} ms)", started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        Ok(ran)
    }

    /// Runs one command. A `file` reports its own errors and says whether any happened.
    fn execute(&mut self, command: Command) -> Result<Ran, Failure> {
        let mut out = io::stdout().lock();
        match command {
            Command::Sql(sql) => self.sql(&mut out, &sql)?,
            Command::Exec { procedure, args } => {
                let r = self.call(&procedure, args)?;
                for t in &r.tables {
                    output::table(&mut out, self.format, t)?;
                }
            }
            Command::File(path) => {
                drop(out);
                return self.file(&path);
            }
            Command::ShowTables => {
                let r = self.call("@SystemCatalog", vec![Value::str("TABLES")])?;
                let t = catalog::tables(first_table(&r)?).map_err(Failure::Reported)?;
                output::table(&mut out, self.format, &t)?;
            }
            Command::ShowProcedures => {
                let procs = self.call("@SystemCatalog", vec![Value::str("PROCEDURES")])?;
                let params = self.call("@SystemCatalog", vec![Value::str("PROCEDURECOLUMNS")])?;
                let t = catalog::procedures(first_table(&procs)?, first_table(&params)?).map_err(Failure::Reported)?;
                output::table(&mut out, self.format, &t)?;
            }
            Command::Describe(name) => {
                let r = self.call("@SystemCatalog", vec![Value::str("COLUMNS")])?;
                let t = catalog::describe(first_table(&r)?, &name).map_err(Failure::Reported)?;
                output::table(&mut out, self.format, &t)?;
            }
            Command::ExplainProc(name) => {
                let r = self.call("@ExplainProc", vec![Value::str(&name)])?;
                for t in &r.tables {
                    output::table(&mut out, self.format, t)?;
                }
            }
            Command::Help => write!(out, "{HELP}")?,
            Command::Exit => {
                return Ok(Ran {
                    failed: false,
                    exit: true,
                });
            }
        }
        Ok(Ran::default())
    }

    /// One SQL statement: `EXPLAIN` through `@Explain`, the rest through `@AdHoc`.
    fn sql(&mut self, out: &mut impl Write, sql: &str) -> Result<(), Failure> {
        if input::first_word(sql).eq_ignore_ascii_case("explain") {
            let r = self.call("@Explain", vec![Value::str(input::after_first_word(sql))])?;
            for t in &r.tables {
                output::table(out, self.format, t)?;
            }
            return Ok(());
        }
        let statement = voltrs_sql::parser::parse_script(sql)
            .ok()
            .and_then(|s| s.into_iter().next())
            .map(|p| p.statement);
        let r = self.call("@AdHoc", vec![Value::str(sql)])?;
        if let Some(Statement::Use { name }) = &statement {
            self.database = name.to_lowercase();
        }
        let tag = statement.as_ref().and_then(tag);
        let writes = matches!(
            statement,
            Some(Statement::Insert { .. } | Statement::Update(_) | Statement::Delete(_) | Statement::Truncate { .. })
        );
        if r.tables.is_empty()
            && let Some(tag) = tag
        {
            output::status(out, self.format, tag)?;
        }
        for t in &r.tables {
            match (&t.columns[..], &t.rows[..]) {
                ([], _) => {
                    if let Some(tag) = tag {
                        output::status(out, self.format, tag)?;
                    }
                }
                ([c], [row]) if writes && c.name.eq_ignore_ascii_case("modified_tuples") => {
                    let n = match row.first() {
                        Some(Value::Integer(n)) => *n,
                        _ => 0,
                    };
                    output::status(out, self.format, &output::affected(n))?;
                }
                _ => output::table(out, self.format, t)?,
            }
        }
        Ok(())
    }

    fn file(&mut self, path: &str) -> Result<Ran, Failure> {
        if self.depth >= MAX_FILE_DEPTH {
            return Err(Failure::Reported(format!(
                "file {path}: files nested more than {MAX_FILE_DEPTH} deep"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Failure::Reported(format!("file {path}: {e}")))?;
        self.depth += 1;
        let ran = self.script(&text);
        self.depth -= 1;
        Ok(ran?)
    }

    /// Calls a procedure; a failure status is a reported error with the server's message.
    fn call(&self, procedure: &str, params: Vec<Value>) -> Result<Response, Failure> {
        let r = self.runtime.block_on(self.client.call(procedure, params))?;
        if r.status != status::SUCCESS {
            let message = r
                .status_string
                .clone()
                .unwrap_or_else(|| format!("{procedure} failed with status {}", r.status));
            return Err(Failure::Reported(message));
        }
        Ok(r)
    }
}

fn first_table(r: &Response) -> Result<&voltrs_client::Table, Failure> {
    r.tables
        .first()
        .ok_or_else(|| Failure::Reported("the server returned no table".into()))
}

/// What a DDL or session statement prints on success.
fn tag(s: &Statement) -> Option<&'static str> {
    use voltrs_sql::parser::DropKind;
    Some(match s {
        Statement::CreateTable(_) => "CREATE TABLE",
        Statement::PartitionTable { .. } => "PARTITION TABLE",
        Statement::CreateIndex(_) => "CREATE INDEX",
        Statement::CreateView(_) => "CREATE VIEW",
        Statement::Drop { kind, .. } => match kind {
            DropKind::Table => "DROP TABLE",
            DropKind::Index => "DROP INDEX",
            DropKind::View => "DROP VIEW",
        },
        Statement::AlterTable(_) => "ALTER TABLE",
        Statement::CreateDatabase { .. } => "CREATE DATABASE",
        Statement::DropDatabase { .. } => "DROP DATABASE",
        Statement::Use { .. } => "USE",
        Statement::CreateProcedure(_) => "CREATE PROCEDURE",
        Statement::DropProcedure { .. } => "DROP PROCEDURE",
        Statement::PartitionProcedure { .. } => "PARTITION PROCEDURE",
        _ => return None,
    })
}

const HELP: &str = "\
Statements end with ';' and may span lines; each runs as its own transaction (@AdHoc).
Directives (one line, ';' optional):
  exec PROC [args]          call a procedure; args separated by commas or spaces:
                            numbers, 'strings', x'hex', NULL (also: execute)
  explain STATEMENT;        the statement's plan (@Explain)
  explainproc PROC          the plans of a procedure's statements
  show tables               tables and views, with their partition columns
  show procedures           procedures, their parameter types and partitioning
  describe TABLE            columns, types, nullability, defaults
  file PATH                 run a script
  help                      this text
  exit, quit                leave the shell
";
