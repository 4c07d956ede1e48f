//! What the client knows about where data lives, and the routing decision made from it.
//!
//! Filled from the server's own answers (wire protocol reference §9):
//! 1. `@Statistics("TOPO")`: the leader host of every partition (`Leader` = `"host:site"`)
//!    and the hash ring (`HASHTYPE` `ELASTIC`, `HASHCONFIG` bytes → [`Hashinator`]);
//! 2. `@SystemCatalog("PROCEDURES")`: each procedure's REMARKS JSON, saying whether it is
//!    single-partition and which parameter (of which type) picks the partition.
//!
//! [`Topology::partition_for`] hashes a call's partition parameter the way the server
//! does, and [`Topology::leader_host`] names the host that should receive the call. An
//! empty topology (discovery failed, or an unknown procedure) routes nothing: the caller
//! then sends round-robin, which is still correct because servers run misrouted calls.

use std::collections::HashMap;

use voltrs_storage::Value;
use voltrs_wire::Hashinator;
use voltrs_wire::codec::{Table, VoltType};

/// The multi-partition initiator's row in `@Statistics TOPO` (VoltDB's `MP_INIT_PID`).
pub const MP_PARTITION: i32 = 16383;

/// How a procedure is routed, from its `@SystemCatalog PROCEDURES` REMARKS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcedureRoute {
    /// Single-partition on parameter `parameter` (0-based), a value of type `ty`.
    Single { parameter: usize, ty: VoltType },
    /// Runs across partitions (sent to the multi-partition initiator's host).
    Multi,
}

#[derive(Debug, Clone, Default)]
pub struct Topology {
    hashinator: Option<Hashinator>,
    /// Partition id (including [`MP_PARTITION`]) → leader host id.
    leaders: HashMap<i32, i32>,
    /// Lower-case procedure name → route (procedure names are case-insensitive).
    procedures: HashMap<String, ProcedureRoute>,
}

impl Topology {
    /// Takes the two tables of `@Statistics("TOPO")`. A ring type other than `ELASTIC`
    /// turns client hashing off, as in VoltDB's clients.
    pub fn set_topo(&mut self, tables: &[Table]) -> Result<(), String> {
        let [sites, ring, ..] = tables else {
            return Err(format!("@Statistics TOPO returned {} tables, expected 2", tables.len()));
        };
        let partition = column(sites, "Partition")?;
        let leader = column(sites, "Leader")?;
        let mut leaders = HashMap::new();
        for row in &sites.rows {
            let (Some(Value::Integer(p)), Some(Value::Varchar(l))) = (row.get(partition), row.get(leader)) else {
                continue;
            };
            // "hostId:siteId": only the host matters to a client.
            let host = l.split(':').next().and_then(|h| h.trim().parse::<i32>().ok());
            if let (Ok(p), Some(host)) = (i32::try_from(*p), host) {
                leaders.insert(p, host);
            }
        }
        let kind = column(ring, "HASHTYPE")?;
        let config = column(ring, "HASHCONFIG")?;
        let hashinator = match ring.rows.first().map(|r| (r.get(kind), r.get(config))) {
            Some((Some(Value::Varchar(k)), Some(Value::Varbinary(bytes)))) if k.eq_ignore_ascii_case("ELASTIC") => {
                Some(Hashinator::from_config_bytes(bytes).map_err(|e| format!("bad HASHCONFIG: {e:?}"))?)
            }
            _ => None,
        };
        self.leaders = leaders;
        self.hashinator = hashinator;
        Ok(())
    }

    /// Takes the table of `@SystemCatalog("PROCEDURES")` (also what a procedures push
    /// carries). Procedures whose REMARKS cannot be read are left unrouted.
    pub fn set_procedures(&mut self, table: &Table) -> Result<(), String> {
        let name = column(table, "PROCEDURE_NAME")?;
        let remarks = column(table, "REMARKS")?;
        self.procedures = table
            .rows
            .iter()
            .filter_map(|row| match (row.get(name), row.get(remarks)) {
                (Some(Value::Varchar(n)), Some(Value::Varchar(r))) => {
                    Some((n.to_ascii_lowercase(), procedure_route(r)?))
                }
                _ => None,
            })
            .collect();
        Ok(())
    }

    /// The ring, once `@Statistics TOPO` has been read.
    pub fn hashinator(&self) -> Option<&Hashinator> {
        self.hashinator.as_ref()
    }

    /// How `procedure` is routed, if the server described it.
    pub fn procedure(&self, procedure: &str) -> Option<ProcedureRoute> {
        self.procedures.get(&procedure.to_ascii_lowercase()).copied()
    }

    /// The partition a call of a single-partition `procedure` with `params` runs on;
    /// `None` for other procedures or when the value cannot be hashed as its type.
    pub fn partition_for(&self, procedure: &str, params: &[Value]) -> Option<u32> {
        match self.procedure(procedure)? {
            ProcedureRoute::Single { parameter, ty } => self.partition_of(ty, params.get(parameter)?),
            ProcedureRoute::Multi => None,
        }
    }

    /// The partition of a partitioning value of type `ty`, hashed as VoltDB does: any
    /// integer type as 8 bytes little-endian, strings as UTF-8, VARBINARY as its bytes;
    /// NULL is partition 0. A string holding an integer counts as that integer (the server
    /// converts it the same way).
    pub fn partition_of(&self, ty: VoltType, value: &Value) -> Option<u32> {
        let ring = self.hashinator.as_ref()?;
        if value.is_null() {
            return Some(0);
        }
        match (ty, value) {
            (VoltType::TinyInt | VoltType::SmallInt | VoltType::Integer | VoltType::BigInt, v) => {
                let i = match v {
                    Value::Integer(i) => *i,
                    Value::Varchar(s) => s.trim().parse().ok()?,
                    Value::Decimal(d) => d.to_i64_exact()?,
                    _ => return None,
                };
                Some(ring.partition_for_integer(i))
            }
            (VoltType::String, Value::Varchar(s)) => Some(ring.partition_for_str(s)),
            (VoltType::Varbinary, Value::Varbinary(b)) => Some(ring.partition_for_bytes(b)),
            _ => None,
        }
    }

    /// The host that leads `partition` ([`MP_PARTITION`] for multi-partition work).
    pub fn leader_host(&self, partition: i32) -> Option<i32> {
        self.leaders.get(&partition).copied()
    }

    /// The host a call should go to: the leader of its partition for a single-partition
    /// procedure, the multi-partition initiator's host for other known procedures, `None`
    /// (any host) for unknown ones, `@AdHoc` and the system procedures.
    pub fn host_for(&self, procedure: &str, params: &[Value]) -> Option<i32> {
        match self.procedure(procedure)? {
            ProcedureRoute::Single { .. } => {
                let p = self.partition_for(procedure, params)?;
                self.leader_host(i32::try_from(p).ok()?)
            }
            ProcedureRoute::Multi => self.leader_host(MP_PARTITION),
        }
    }
}

/// The index of the column named `name` (any case).
fn column(table: &Table, name: &str) -> Result<usize, String> {
    table
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("the result has no column {name}"))
}

/// Reads REMARKS such as
/// `{"compound":false,"partitionParameter":0,"partitionParameterType":6,"readOnly":false,"singlePartition":true}`.
fn procedure_route(remarks: &str) -> Option<ProcedureRoute> {
    let json: serde_json::Value = serde_json::from_str(remarks).ok()?;
    if !json.get("singlePartition")?.as_bool()? {
        return Some(ProcedureRoute::Multi);
    }
    let parameter = usize::try_from(json.get("partitionParameter")?.as_i64()?).ok()?;
    let code = i8::try_from(json.get("partitionParameterType")?.as_i64()?).ok()?;
    Some(ProcedureRoute::Single {
        parameter,
        ty: VoltType::from_code(code)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltrs_wire::codec::Column;

    fn table(columns: &[(&str, VoltType)], rows: Vec<Vec<Value>>) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(n, t)| Column {
                    name: n.to_string(),
                    ty: *t,
                })
                .collect(),
            rows,
        }
    }

    /// The reference's 4-entry ring: tokens -2^31, -2^30, 0, 2^30 → partitions 0..3.
    fn four_partitions() -> Topology {
        let ring = [
            0x00, 0, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x40, 0, 0, 0,
            0, 0, 0, 3,
        ];
        let sites = table(
            &[
                ("Partition", VoltType::Integer),
                ("Sites", VoltType::String),
                ("Leader", VoltType::String),
            ],
            [(0, "0:0"), (1, "1:0"), (2, "0:1"), (3, "1:1"), (MP_PARTITION, "1:2")]
                .iter()
                .map(|(p, l)| vec![Value::Integer(i64::from(*p)), Value::str(l), Value::str(l)])
                .collect(),
        );
        let hash = table(
            &[("HASHTYPE", VoltType::String), ("HASHCONFIG", VoltType::Varbinary)],
            vec![vec![Value::str("ELASTIC"), Value::bytes(&ring)]],
        );
        let procs = table(
            &[("PROCEDURE_NAME", VoltType::String), ("REMARKS", VoltType::String)],
            vec![
                vec![
                    Value::str("Vote"),
                    Value::str(
                        r#"{"compound":false,"partitionParameter":0,"partitionParameterType":6,"readOnly":false,"singlePartition":true}"#,
                    ),
                ],
                vec![
                    Value::str("ByName"),
                    Value::str(
                        r#"{"partitionParameter":1,"partitionParameterType":9,"readOnly":true,"singlePartition":true}"#,
                    ),
                ],
                vec![
                    Value::str("Report"),
                    Value::str(r#"{"compound":false,"readOnly":true,"singlePartition":false}"#),
                ],
            ],
        );
        let mut t = Topology::default();
        t.set_topo(&[sites, hash]).unwrap();
        t.set_procedures(&procs).unwrap();
        t
    }

    #[test]
    fn single_partition_calls_hash_their_partition_parameter() {
        let t = four_partitions();
        // The reference's worked examples on this ring.
        assert_eq!(t.partition_for("vote", &[Value::Integer(5_551_234_567)]), Some(0));
        assert_eq!(t.partition_for("VOTE", &[Value::Integer(1)]), Some(2));
        assert_eq!(t.partition_for("Vote", &[Value::str("1")]), Some(2), "a numeric string");
        assert_eq!(
            t.partition_for("ByName", &[Value::Integer(9), Value::str("hello")]),
            Some(1)
        );
        assert_eq!(t.partition_for("Vote", &[Value::Null]), Some(0));
        assert_eq!(t.partition_for("Vote", &[]), None, "parameter missing");
        assert_eq!(t.partition_for("Report", &[]), None);
        assert_eq!(t.partition_for("@AdHoc", &[Value::str("SELECT 1")]), None);
    }

    #[test]
    fn calls_go_to_the_leader_of_their_partition() {
        let t = four_partitions();
        assert_eq!(
            t.host_for("Vote", &[Value::Integer(1)]),
            Some(0),
            "partition 2 is led by 0:1"
        );
        assert_eq!(t.host_for("ByName", &[Value::Null, Value::str("hello")]), Some(1));
        assert_eq!(t.host_for("Report", &[]), Some(1), "the MP initiator's host");
        assert_eq!(t.host_for("unknown", &[]), None);
    }

    #[test]
    fn a_topology_without_an_elastic_ring_routes_nothing() {
        let mut t = four_partitions();
        let sites = table(
            &[("Partition", VoltType::Integer), ("Leader", VoltType::String)],
            vec![],
        );
        let hash = table(
            &[("HASHTYPE", VoltType::String), ("HASHCONFIG", VoltType::Varbinary)],
            vec![vec![Value::str("LEGACY"), Value::bytes(&[])]],
        );
        t.set_topo(&[sites, hash]).unwrap();
        assert_eq!(t.partition_for("Vote", &[Value::Integer(1)]), None);
        assert!(t.set_topo(&[]).is_err());
    }
}
