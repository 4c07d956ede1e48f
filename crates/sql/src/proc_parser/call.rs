//! `EXEC` / `EXECUTE` / `CALL`: a procedure name and literal arguments.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::{describe, error_at, is_word, proc_name, with_eof};
use crate::ddl_parser::{expect_end, expect_token, unexpected};
use crate::error::Result;
use crate::parser::{self, Statement};

/// A literal argument of `EXEC` / `CALL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecArg {
    Null,
    /// An integer literal in `i64` range, sign included.
    Integer(i64),
    /// Any other number as written, sign included: `-1.5`, `1e3`, `99999999999999999999`.
    Number(String),
    /// A `'string'`, `''` already unescaped.
    String(String),
    /// `x'0A0B'`.
    Binary(Vec<u8>),
}

/// `EXEC | EXECUTE name [arg, ...]` or `CALL name[(arg, ...)]`, arguments literals only.
pub(crate) fn exec(tokens: Vec<TokenWithSpan>) -> Result<Statement> {
    let mut parser = parser::parser(with_eof(tokens));
    let p = &mut parser;
    let head = p.next_token();
    let verb = match &head.token {
        Token::Word(w) => w.value.to_ascii_uppercase(),
        other => {
            return Err(error_at(
                &head,
                format!("expected EXEC or CALL, found {}", describe(other)),
            ));
        }
    };
    let call = verb == "CALL";
    let name = proc_name(p, true)?;
    let parens = call && p.consume_token(&Token::LParen);
    let close = if parens { Token::RParen } else { Token::EOF };
    let mut args = Vec::new();
    if call && !parens {
        // `CALL p` takes no arguments; `CALL p(a, b)` does.
        if p.peek_token_ref().token != Token::EOF {
            return Err(unexpected(p, "'(' or end of statement"));
        }
    } else if p.peek_token_ref().token != close {
        loop {
            args.push(exec_arg(p, &verb)?);
            let next = p.peek_token();
            if next.token == close {
                break;
            }
            if next.token != Token::Comma {
                let message = if next.token == Token::EOF {
                    format!("expected ',' or ')', found {}", describe(&next.token))
                } else if starts_literal(&next.token) {
                    format!("expected ',' between {verb} arguments, found {}", describe(&next.token))
                } else {
                    literal_error(&verb, &next.token)
                };
                return Err(error_at(&next, message));
            }
            p.next_token();
        }
    }
    if parens {
        expect_token(p, Token::RParen)?;
    }
    expect_end(p)?;
    Ok(Statement::Exec { name, args })
}

fn literal_error(verb: &str, found: &Token) -> String {
    format!(
        "{verb} arguments must be literals (numbers, 'strings', x'hex' or NULL), found {}",
        describe(found)
    )
}

/// A token that can only start a literal (not a sign, which may be an operator).
fn starts_literal(t: &Token) -> bool {
    matches!(
        t,
        Token::Number(..) | Token::SingleQuotedString(_) | Token::NationalStringLiteral(_) | Token::HexStringLiteral(_)
    ) || is_word(t, "NULL")
}

fn exec_arg(p: &mut Parser, verb: &str) -> Result<ExecArg> {
    let t = p.next_token();
    let sign = match t.token {
        Token::Minus => "-",
        Token::Plus => "+",
        _ => "",
    };
    let t = if sign.is_empty() { t } else { p.next_token() };
    match &t.token {
        Token::Number(n, false) => number(sign, n).ok_or_else(|| error_at(&t, literal_error(verb, &t.token))),
        _ if !sign.is_empty() => Err(error_at(
            &t,
            format!("expected a number after '{sign}', found {}", describe(&t.token)),
        )),
        Token::SingleQuotedString(s) | Token::NationalStringLiteral(s) => Ok(ExecArg::String(s.clone())),
        Token::HexStringLiteral(h) => hex(h).map(ExecArg::Binary).map_err(|m| error_at(&t, m)),
        tok if is_word(tok, "NULL") => Ok(ExecArg::Null),
        other => Err(error_at(&t, literal_error(verb, other))),
    }
}

/// An integer (in `i64` range) or a decimal / float literal; `None` if `text` is neither.
fn number(sign: &str, text: &str) -> Option<ExecArg> {
    let sign = if sign == "-" { "-" } else { "" };
    let signed = format!("{sign}{text}");
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(signed.parse().map(ExecArg::Integer).unwrap_or(ExecArg::Number(signed)));
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (mantissa_ok && exponent_ok).then_some(ExecArg::Number(signed))
}

fn hex(digits: &str) -> std::result::Result<Vec<u8>, String> {
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "binary literal x'{digits}' has an odd number of hex digits ({})",
            digits.len()
        ));
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                let nibble = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                Ok(nibble(*hi) << 4 | nibble(*lo))
            }
            _ => Err(format!(
                "binary literal x'{digits}' holds a character that is not a hex digit"
            )),
        })
        .collect()
}
