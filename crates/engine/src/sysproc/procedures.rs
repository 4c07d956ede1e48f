//! `@SystemCatalog('PROCEDURES')` and `('PROCEDURECOLUMNS')`.
//!
//! Source: VoltDB `JdbcDatabaseMetaDataGenerator.java` (`PROCEDURES_SCHEMA`,
//! `PROCEDURECOLUMNS_SCHEMA`, `getProcedures`, `getProcedureColumns`), 2022 revision. VoltDB
//! merges catalog and default procedures into one set sorted by catalog path, i.e. by name;
//! so do these.
//!
//! PROCEDURES REMARKS is the JSON the Python `VoltClient` and the Java `Client2` read for
//! affinity routing. VoltDB builds it with its `JSONObject`, whose keys are kept in a
//! `TreeMap`, so they come out sorted:
//! `{"compound":false,"partitionParameter":0,"partitionParameterType":6,"readOnly":false,"singlePartition":true}`
//! (multi-partition: `{"compound":false,"readOnly":..,"singlePartition":false}`).
//! `partitionParameterType` is the VoltType code of the partition column; a single-partition
//! procedure without a known parameter reports -1 for both, as VoltDB does.

use voltrs_storage::types::MAX_VALUE_BYTES;
use voltrs_storage::{DataType, Value};

use super::{
    ProcedureInfo, STRING, columns, decimal_digits, fixed_bytes, int, jdbc_type, jdbc_type_name, opt_int,
    precision_radix, text, volt_type_code,
};
use crate::ResultTable;

/// VoltDB's largest VARCHAR / VARBINARY value in bytes (`VoltType.MAX_VALUE_LENGTH`).
const MAX_VALUE_LENGTH: i64 = MAX_VALUE_BYTES as i64;

/// The procedures sorted by name (byte order, as VoltDB's `TreeSet<Procedure>`).
fn sorted(procedures: &[ProcedureInfo]) -> Vec<&ProcedureInfo> {
    let mut all: Vec<&ProcedureInfo> = procedures.iter().collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// REMARKS of one procedure (see the module docs).
pub(crate) fn remarks(p: &ProcedureInfo) -> String {
    let routing = if p.single_partition {
        let (parameter, ty) = match p.partition_parameter {
            Some(i) => (
                i64::try_from(i).unwrap_or(i64::MAX),
                p.partition_parameter_type.map_or(-1, |t| i64::from(volt_type_code(t))),
            ),
            None => (-1, -1),
        };
        format!("\"partitionParameter\":{parameter},\"partitionParameterType\":{ty},")
    } else {
        String::new()
    };
    format!(
        "{{\"compound\":false,{routing}\"readOnly\":{},\"singlePartition\":{}}}",
        p.read_only, p.single_partition
    )
}

/// `PROCEDURES`: one row per procedure; PROCEDURE_TYPE is `procedureResultUnknown` (0).
pub(crate) fn procedures(procedures: &[ProcedureInfo]) -> ResultTable {
    let mut out = ResultTable {
        columns: columns(&[
            ("PROCEDURE_CAT", STRING),
            ("PROCEDURE_SCHEM", STRING),
            ("PROCEDURE_NAME", STRING),
            ("RESERVED1", STRING),
            ("RESERVED2", STRING),
            ("RESERVED3", STRING),
            ("REMARKS", STRING),
            ("PROCEDURE_TYPE", DataType::SmallInt),
            ("SPECIFIC_NAME", STRING),
        ]),
        rows: Vec::new(),
    };
    for p in sorted(procedures) {
        out.rows.push(vec![
            Value::Null,
            Value::Null,
            text(&p.name),
            Value::Null,
            Value::Null,
            Value::Null,
            text(&remarks(p)),
            int(0),
            text(&p.name),
        ]);
    }
    out
}

/// `PROCEDURECOLUMNS`: one row per parameter, all `procedureColumnIn` (1) and
/// `procedureNullableUnknown` (2). Parameters have no declared length, so VARCHAR and
/// VARBINARY report VoltDB's largest value (1 MiB) as PRECISION, LENGTH and
/// CHAR_OCTET_LENGTH. REMARKS is `PARTITION_PARAMETER` on the routing parameter.
pub(crate) fn procedure_columns(procedures: &[ProcedureInfo]) -> ResultTable {
    let mut out = ResultTable {
        columns: columns(&[
            ("PROCEDURE_CAT", STRING),
            ("PROCEDURE_SCHEM", STRING),
            ("PROCEDURE_NAME", STRING),
            ("COLUMN_NAME", STRING),
            ("COLUMN_TYPE", DataType::SmallInt),
            ("DATA_TYPE", DataType::Integer),
            ("TYPE_NAME", STRING),
            ("PRECISION", DataType::Integer),
            ("LENGTH", DataType::Integer),
            ("SCALE", DataType::SmallInt),
            ("RADIX", DataType::SmallInt),
            ("NULLABLE", DataType::SmallInt),
            ("REMARKS", STRING),
            ("COLUMN_DEF", STRING),
            ("SQL_DATA_TYPE", DataType::Integer),
            ("SQL_DATETIME_SUB", DataType::Integer),
            ("CHAR_OCTET_LENGTH", DataType::Integer),
            ("ORDINAL_POSITION", DataType::Integer),
            ("IS_NULLABLE", STRING),
            ("SPECIFIC_NAME", STRING),
        ]),
        rows: Vec::new(),
    };
    for p in sorted(procedures) {
        for (i, (name, ty)) in p.params.iter().enumerate() {
            let (precision, radix) = precision_radix(*ty, MAX_VALUE_LENGTH);
            let variable = matches!(ty, DataType::Varchar { .. } | DataType::Varbinary { .. });
            let length = fixed_bytes(*ty).unwrap_or(MAX_VALUE_LENGTH);
            let routing = p.single_partition && p.partition_parameter == Some(i);
            out.rows.push(vec![
                Value::Null,
                Value::Null,
                text(&p.name),
                text(name),
                int(1),
                int(jdbc_type(*ty)),
                text(jdbc_type_name(*ty)),
                opt_int(precision),
                int(length),
                opt_int(decimal_digits(*ty)),
                opt_int(radix),
                int(2),
                if routing {
                    text("PARTITION_PARAMETER")
                } else {
                    Value::Null
                },
                Value::Null,
                Value::Null,
                Value::Null,
                opt_int(variable.then_some(MAX_VALUE_LENGTH)),
                int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                text(""),
                text(&p.name),
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(name: &str, sp: Option<(usize, DataType)>, read_only: bool) -> ProcedureInfo {
        ProcedureInfo {
            name: name.into(),
            single_partition: sp.is_some(),
            partition_parameter: sp.map(|s| s.0),
            partition_parameter_type: sp.map(|s| s.1),
            read_only,
            params: vec![],
            default: false,
        }
    }

    #[test]
    fn remarks_are_voltdb_json_with_sorted_keys() {
        assert_eq!(
            remarks(&proc("Vote", Some((0, DataType::BigInt)), false)),
            r#"{"compound":false,"partitionParameter":0,"partitionParameterType":6,"readOnly":false,"singlePartition":true}"#
        );
        assert_eq!(
            remarks(&proc("Results", None, true)),
            r#"{"compound":false,"readOnly":true,"singlePartition":false}"#
        );
        let mut unknown = proc("X", None, false);
        unknown.single_partition = true;
        assert_eq!(
            remarks(&unknown),
            r#"{"compound":false,"partitionParameter":-1,"partitionParameterType":-1,"readOnly":false,"singlePartition":true}"#
        );
        // the client's own parse of the key it routes with
        let s = remarks(&proc("P", Some((2, DataType::Varchar { len: 5, bytes: false })), true));
        assert!(
            s.contains(r#""partitionParameter":2,"partitionParameterType":9"#),
            "{s}"
        );
    }
}
