//! How result tables are printed, in the three `--output-format`s.
//!
//! * `fixed` (the default, for people): a header, a rule of dashes, left-aligned columns two
//!   spaces apart with trailing spaces trimmed, then `(N rows)`; NULL prints as `NULL`. A
//!   value with line breaks takes several lines within its column. Status lines (`CREATE
//!   TABLE`, `(3 rows affected)`) are printed too.
//! * `csv` and `tab` (for programs): a header line, then one line per row; no status lines
//!   and no row counts, so the output is only the tables. NULL is an empty field. CSV quotes
//!   a field with a comma, quote, line break or edge space (RFC 4180); tab-separated values
//!   escape tab, line breaks and backslash as `\t`, `\n`, `\r`, `\\`.

use std::io::{self, Write};

use voltrs_client::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Fixed,
    Csv,
    Tab,
}

/// Prints one result table.
pub fn table(out: &mut impl Write, format: Format, t: &Table) -> io::Result<()> {
    let header: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    let cells = t.rows.iter().map(|r| r.iter().map(voltrs_storage::text::render));
    match format {
        Format::Fixed => {
            let rows: Vec<Vec<String>> = cells
                .map(|r| r.map(|v| v.unwrap_or_else(|| "NULL".into())).collect())
                .collect();
            fixed(out, &header, &rows)?;
            let n = rows.len();
            writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })
        }
        Format::Csv | Format::Tab => {
            let field = |v: Option<String>| match (format, v) {
                (_, None) => String::new(),
                (Format::Csv, Some(s)) => csv_field(&s),
                (_, Some(s)) => tab_field(&s),
            };
            let sep = if format == Format::Csv { "," } else { "\t" };
            let header: Vec<String> = header.into_iter().map(|h| field(Some(h))).collect();
            writeln!(out, "{}", header.join(sep))?;
            for row in cells {
                writeln!(out, "{}", row.map(field).collect::<Vec<_>>().join(sep))?;
            }
            Ok(())
        }
    }
}

/// A status line (`CREATE TABLE`, `(1 row affected)`): printed in the fixed format only.
pub fn status(out: &mut impl Write, format: Format, line: &str) -> io::Result<()> {
    if format == Format::Fixed {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `(N rows affected)`.
pub fn affected(n: i64) -> String {
    format!("({n} row{} affected)", if n == 1 { "" } else { "s" })
}

fn fixed(out: &mut impl Write, header: &[String], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.lines().map(|l| l.chars().count()).max().unwrap_or(0));
        }
    }
    let print = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        // A cell with line breaks spans several output lines.
        let height = cells.iter().map(|c| c.lines().count().max(1)).max().unwrap_or(1);
        for i in 0..height {
            let line = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{:<w$}", c.lines().nth(i).unwrap_or("")))
                .collect::<Vec<_>>()
                .join("  ");
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    };
    print(out, header)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    writeln!(out, "{}", rule.join("  "))?;
    for row in rows {
        print(out, row)?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    let needs_quotes = s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn tab_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltrs_client::{Column, Value, VoltType};

    fn sample() -> Table {
        Table {
            columns: vec![
                Column {
                    name: "ID".into(),
                    ty: VoltType::Integer,
                },
                Column {
                    name: "NAME".into(),
                    ty: VoltType::String,
                },
            ],
            rows: vec![
                vec![Value::Integer(1), Value::str("a, \"b\"")],
                vec![Value::Null, Value::str("two\nlines\tx")],
            ],
        }
    }

    fn print(format: Format) -> String {
        let mut out = Vec::new();
        table(&mut out, format, &sample()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fixed_aligns_columns_and_spreads_line_breaks() {
        assert_eq!(
            print(Format::Fixed),
            "ID    NAME\n----  -------\n1     a, \"b\"\nNULL  two\n      lines\tx\n(2 rows)\n"
        );
    }

    #[test]
    fn csv_and_tab_quote_or_escape_and_leave_null_empty() {
        assert_eq!(print(Format::Csv), "ID,NAME\n1,\"a, \"\"b\"\"\"\n,\"two\nlines\tx\"\n");
        assert_eq!(print(Format::Tab), "ID\tNAME\n1\ta, \"b\"\n\ttwo\\nlines\\tx\n");
    }
}
