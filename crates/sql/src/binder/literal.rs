//! Literals and type names written in SQL.

use sqlparser::ast;
use voltrs_storage::{DataType, Value};

use super::Binder;
use crate::error::{Error, Result, invalid, unsupported};
use crate::expr::{Expr, ExprKind};

/// A numeric literal: INTEGER if it fits, else BIGINT, else DECIMAL; with a point DECIMAL;
/// with an exponent FLOAT.
pub(crate) fn number_literal(text: &str) -> Result<Expr> {
    if text.contains(['e', 'E']) {
        let f: f64 = text
            .parse()
            .map_err(|_| Error::Type(format!("invalid number {text}")))?;
        if !f.is_finite() {
            return Err(Error::Range(format!(
                "numeric literal {text} is out of the FLOAT range"
            )));
        }
        return Ok(Expr::literal(Value::Float(f), DataType::Float));
    }
    if !text.contains('.')
        && let Ok(i) = text.parse::<i64>()
    {
        if i == i64::MIN {
            return Err(Error::Range(format!("numeric literal {text} is out of range")));
        }
        let ty = if i32::try_from(i).is_ok() {
            DataType::Integer
        } else {
            DataType::BigInt
        };
        return Ok(Expr::literal(Value::Integer(i), ty));
    }
    let d = voltrs_storage::Decimal::parse(text)?;
    Ok(Expr::literal(Value::Decimal(d), DataType::Decimal))
}

pub(crate) fn literal(v: &ast::Value, b: &mut Binder) -> Result<Expr> {
    use ast::Value as V;
    Ok(match v {
        V::Number(n, _) => return number_literal(n),
        V::SingleQuotedString(s)
        | V::DoubleQuotedString(s)
        | V::EscapedStringLiteral(s)
        | V::NationalStringLiteral(s) => {
            let len = s.chars().count().max(1) as u32;
            Expr::literal(Value::str(s), DataType::Varchar { len, bytes: false })
        }
        V::HexStringLiteral(h) => {
            let bytes = voltrs_storage::text::parse_hex(h)
                .ok_or_else(|| Error::Type(format!("invalid hexadecimal literal X'{h}'")))?;
            let len = bytes.len().max(1) as u32;
            Expr::literal(Value::bytes(&bytes), DataType::Varbinary { len })
        }
        V::Boolean(x) => Expr::boolean(*x),
        V::Null => Expr::literal(Value::Null, DataType::Null),
        V::Placeholder(p) => {
            let index = if p == "?" {
                b.params.len()
            } else {
                match p.trim_start_matches('$').parse::<usize>() {
                    Ok(n) if n >= 1 => n - 1,
                    _ => return invalid(format!("invalid parameter marker {p}")),
                }
            };
            if index >= crate::parser::MAX_PARAMS {
                return invalid(format!("parameter marker {p} is out of range"));
            }
            if b.params.len() <= index {
                b.params.resize(index + 1, DataType::Null);
            }
            let ty = b.params.get(index).copied().unwrap_or(DataType::Null);
            Expr::new(ExprKind::Param(index), ty)
        }
        other => return unsupported(format!("literal {other}")),
    })
}

/// Converts a type written in an expression (CAST) to ours, through the DDL type parser.
pub(crate) fn convert_type(t: &ast::DataType) -> Result<DataType> {
    let text = t.to_string();
    let dialect = sqlparser::dialect::GenericDialect {};
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, &text)
        .tokenize_with_location()
        .map_err(|e| Error::Type(format!("unknown type {text}: {}", e.message)))?;
    let mut p = crate::parser::parser(tokens);
    let ty = crate::ddl_parser::data_type(&mut p).map_err(|_| Error::Type(format!("unknown type {text}")))?;
    // In CAST a string type without a length is unbounded (VoltDB: CAST(x AS VARCHAR)).
    Ok(match ty {
        DataType::Varchar { .. } if !text.contains('(') => DataType::VARCHAR_MAX,
        DataType::Varbinary { .. } if !text.contains('(') => DataType::VARBINARY_MAX,
        other => other,
    })
}
