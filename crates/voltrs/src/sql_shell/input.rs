//! Turns typed or scripted lines into shell commands.
//!
//! 1. A line that starts a command with a directive word (`exec`, `execute`, `file`, `show`,
//!    `describe`, `explainproc`, `help`, `exit`, `quit`) is that whole directive; a `;` at
//!    its end is optional, as in sqlcmd.
//! 2. Any other text is SQL: lines accumulate until they end a statement
//!    ([`voltrs_sql::parser::ends_statement`]: a `;` outside strings, comments and a
//!    procedure's `BEGIN ... END`), so statements may span lines.
//! 3. A completed chunk is split into single statements at every `;` that ends one; a
//!    statement that itself starts with a directive word (`SELECT 1; exec p 1;`) becomes
//!    that directive.
//!
//! Parsing a directive's arguments ([`parse_directive`], [`exec_args`]) happens here too,
//! so bad input is reported before anything is sent.

use std::sync::Arc;

use voltrs_storage::{Decimal, Value};

/// One thing for the shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// One SQL statement, sent to `@AdHoc` (or `@Explain` when it starts with EXPLAIN).
    Sql(String),
    /// `exec PROC args`: the procedure and its arguments.
    Exec {
        procedure: String,
        args: Vec<Value>,
    },
    /// `file PATH`: run a script.
    File(String),
    ShowTables,
    ShowProcedures,
    /// `describe TABLE`.
    Describe(String),
    /// `explainproc PROC`.
    ExplainProc(String),
    Help,
    Exit,
}

/// A directive that could not be understood; the message says why.
pub type Parsed = Result<Command, String>;

const DIRECTIVES: &[&str] = &[
    "exec",
    "execute",
    "file",
    "show",
    "describe",
    "desc",
    "explainproc",
    "help",
    "exit",
    "quit",
    "\\q",
];

/// Collects lines into commands.
#[derive(Default)]
pub struct Reader {
    buf: String,
}

impl Reader {
    /// Whether a statement has been started but not finished.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Drops an unfinished statement (Ctrl-C at the prompt).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Takes one line; returns the commands it completes, in order.
    pub fn feed(&mut self, line: &str) -> Vec<Parsed> {
        if self.buf.is_empty() {
            if is_blank(line) {
                return Vec::new();
            }
            if is_directive(line) {
                return vec![parse_directive(line)];
            }
        }
        self.buf.push_str(line);
        self.buf.push('\n');
        if voltrs_sql::parser::ends_statement(&self.buf) {
            let chunk = std::mem::take(&mut self.buf);
            return split(&chunk).into_iter().map(classify).collect();
        }
        Vec::new()
    }

    /// At the end of the input: what is left, even without its closing `;`.
    pub fn finish(&mut self) -> Vec<Parsed> {
        let rest = std::mem::take(&mut self.buf);
        if is_blank(&rest) {
            return Vec::new();
        }
        let mut out: Vec<Parsed> = split(&rest).into_iter().map(classify).collect();
        if out.is_empty() {
            out.push(classify(rest.trim().to_string()));
        }
        out
    }
}

/// Reads a whole script into commands.
pub fn commands(script: &str) -> Vec<Parsed> {
    let mut reader = Reader::default();
    let mut out = Vec::new();
    for line in script.lines() {
        out.extend(reader.feed(line));
    }
    out.extend(reader.finish());
    out
}

/// Splits a chunk of SQL at each `;` that ends a statement (the text up to it must end a
/// statement on its own), keeping each statement's `;`. Trailing text without one is the
/// last statement. Comment-only pieces are dropped.
fn split(chunk: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for (at, _) in chunk.match_indices(';') {
        let piece = &chunk[start..=at];
        if voltrs_sql::parser::ends_statement(piece) {
            if !is_blank(piece) {
                out.push(piece.trim().to_string());
            }
            start = at + 1;
        }
    }
    let rest = &chunk[start..];
    if !is_blank(rest) {
        out.push(rest.trim().to_string());
    }
    out
}

/// A statement that starts with a directive word is that directive.
fn classify(statement: String) -> Parsed {
    if is_directive(&statement) {
        parse_directive(&strip_comments(&statement))
    } else {
        Ok(Command::Sql(statement))
    }
}

/// Text with its `--` comment lines removed (a directive's arguments never hold `--`).
fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Nothing but whitespace, `--` comments and `;`.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with("--") || l.chars().all(|c| c == ';' || c.is_whitespace())
    })
}

/// The first word of the text after leading comment lines.
pub fn first_word(text: &str) -> &str {
    let body = text
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("");
    body.split(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .next()
        .unwrap_or("")
}

/// The text after [`first_word`] (the statement of an `EXPLAIN`).
pub fn after_first_word(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if !t.is_empty() && !t.starts_with("--") {
            break;
        }
        offset += line.len();
    }
    let body = text[offset..].trim_start();
    let word = body
        .find(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .unwrap_or(body.len());
    body[word..].trim()
}

fn is_directive(text: &str) -> bool {
    let word = first_word(text);
    DIRECTIVES.iter().any(|d| d.eq_ignore_ascii_case(word))
}

/// Parses one directive line (an optional `;` at its end).
pub fn parse_directive(line: &str) -> Parsed {
    let line = line.trim().trim_end_matches(';').trim_end();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let one_name = |what: &str, usage: &str| -> Result<String, String> {
        match rest.split_whitespace().collect::<Vec<_>>()[..] {
            [name] => Ok(name.to_string()),
            _ => Err(format!("{what} takes one name: {usage}")),
        }
    };
    match word.to_ascii_lowercase().as_str() {
        "exec" | "execute" => {
            let (procedure, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if procedure.is_empty() {
                return Err("exec needs a procedure name: exec PROCEDURE [arguments]".into());
            }
            Ok(Command::Exec {
                procedure: procedure.to_string(),
                args: exec_args(args)?,
            })
        }
        "file" => {
            let path = rest.trim_matches(|c| c == '\'' || c == '"');
            if path.is_empty() {
                return Err("file needs a path: file script.sql".into());
            }
            Ok(Command::File(path.to_string()))
        }
        "show" => match rest.to_ascii_lowercase().as_str() {
            "tables" => Ok(Command::ShowTables),
            "procedures" | "procs" => Ok(Command::ShowProcedures),
            other => Err(format!("show {other}: expected show tables or show procedures")),
        },
        "describe" | "desc" => one_name("describe", "describe TABLE").map(Command::Describe),
        "explainproc" => one_name("explainproc", "explainproc PROCEDURE").map(Command::ExplainProc),
        "help" => Ok(Command::Help),
        _ => Ok(Command::Exit),
    }
}

/// The arguments of `exec`: separated by commas or spaces. `'text'` (with `''` for a
/// quote) is a string, `x'0A1B'` bytes, `NULL` null, numbers integers, decimals or (with
/// an exponent) floats; any other bare word is a string. The server converts each to its
/// parameter's type.
pub fn exec_args(text: &str) -> Result<Vec<Value>, String> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let Some(&c) = chars.peek() else {
            return Ok(args);
        };
        if c == '\'' || c == '"' {
            chars.next();
            args.push(Value::Varchar(Arc::from(quoted(&mut chars, c)?)));
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == ',' {
                break;
            }
            if c == '\'' && word.eq_ignore_ascii_case("x") {
                chars.next();
                let hex = quoted(&mut chars, '\'')?;
                args.push(Value::Varbinary(Arc::from(unhex(&hex)?)));
                word.clear();
                break;
            }
            word.push(c);
            chars.next();
        }
        if !word.is_empty() {
            args.push(bare_value(&word));
        }
    }
}

/// The rest of a quoted string after its opening quote; a doubled quote is one quote.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char) -> Result<String, String> {
    let mut s = String::new();
    loop {
        match chars.next() {
            None => return Err(format!("unterminated string {quote}{s}")),
            Some(c) if c == quote => {
                if chars.peek() == Some(&quote) {
                    chars.next();
                    s.push(quote);
                } else {
                    return Ok(s);
                }
            }
            Some(c) => s.push(c),
        }
    }
}

fn unhex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("x'{hex}' is not an even number of hex digits"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

/// A bare (unquoted) argument.
fn bare_value(word: &str) -> Value {
    if word.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if let Ok(i) = word.parse::<i64>() {
        return Value::Integer(i);
    }
    let numeric =
        word.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) && word.bytes().any(|b| b.is_ascii_digit());
    if numeric {
        if word.contains(['e', 'E']) {
            if let Ok(f) = word.parse::<f64>() {
                return Value::Float(f);
            }
        } else if let Ok(d) = Decimal::parse(word) {
            return Value::Decimal(d);
        }
    }
    Value::Varchar(Arc::from(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> Parsed {
        Ok(Command::Sql(s.to_string()))
    }

    #[test]
    fn statements_span_lines_and_split_at_their_semicolons() {
        let got = commands("SELECT 1\n  + 1;\nSELECT ';'; SELECT 2; -- done\n-- a comment;\nSELECT 3");
        assert_eq!(
            got,
            [
                sql("SELECT 1\n  + 1;"),
                sql("SELECT ';';"),
                sql("SELECT 2;"),
                sql("SELECT 3")
            ]
        );
    }

    #[test]
    fn a_procedure_body_keeps_its_inner_semicolons() {
        let body = "CREATE PROCEDURE p AS BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;";
        assert_eq!(commands(&format!("{body}\nSELECT 3;")), [sql(body), sql("SELECT 3;")]);
    }

    #[test]
    fn directives_take_their_line_with_or_without_a_semicolon() {
        let got = commands("show tables\nDESCRIBE votes;\nexec vote 1, 'a b' NULL x'0aFF' 2.5 -1e2 NY\nexit");
        assert_eq!(
            got,
            [
                Ok(Command::ShowTables),
                Ok(Command::Describe("votes".into())),
                Ok(Command::Exec {
                    procedure: "vote".into(),
                    args: vec![
                        Value::Integer(1),
                        Value::str("a b"),
                        Value::Null,
                        Value::bytes(&[0x0a, 0xff]),
                        Value::Decimal(Decimal::parse("2.5").unwrap()),
                        Value::Float(-100.0),
                        Value::str("NY"),
                    ],
                }),
                Ok(Command::Exit),
            ]
        );
    }

    #[test]
    fn a_directive_after_a_statement_on_one_line_is_still_a_directive() {
        assert_eq!(
            commands("SELECT 1; exec p 'it''s';"),
            [
                sql("SELECT 1;"),
                Ok(Command::Exec {
                    procedure: "p".into(),
                    args: vec![Value::str("it's")],
                })
            ]
        );
    }

    #[test]
    fn explain_keeps_the_statement_after_its_first_word() {
        assert_eq!(first_word("-- plan\n  EXPLAIN SELECT 1;"), "EXPLAIN");
        assert_eq!(
            after_first_word("-- plan\n  EXPLAIN SELECT 1\n FROM t;"),
            "SELECT 1\n FROM t;"
        );
    }

    #[test]
    fn bad_directives_say_why() {
        assert!(parse_directive("show indexes").unwrap_err().contains("show tables"));
        assert!(parse_directive("exec p 'open").unwrap_err().contains("unterminated"));
        assert!(parse_directive("exec").unwrap_err().contains("procedure name"));
        assert!(parse_directive("describe").unwrap_err().contains("one name"));
        assert!(parse_directive("exec p x'abc'").unwrap_err().contains("hex"));
    }
}
