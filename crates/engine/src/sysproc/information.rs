//! `@SystemInformation([OVERVIEW | DEPLOYMENT])`: key/value tables describing the node and
//! its configuration.
//!
//! Source: VoltDB `src/frontend/org/voltdb/sysprocs/SystemInformation.java` (2022):
//! `populateOverviewTable` (the keys and their order) and `populateDeploymentProperties`;
//! `MiscUtils.formatUptime` for UPTIME. The Python `VoltClient` reads IPADDRESS (the address
//! it dials), HOSTNAME and CLIENTPORT from OVERVIEW, by key.
//!
//! voltrs is one node without VoltDB's internal mesh, ZooKeeper, DR or topics: their ports
//! read `0` and their interfaces the empty string. Settings voltrs does not have
//! (heartbeat, elastic rebalance, priorities, temp-table limit) report VoltDB's defaults, so
//! tools that read them see what an untuned VoltDB would say. The one key VoltDB does not
//! have is `PGPORT` (last, only when the PostgreSQL listener is on).

use voltrs_storage::{DataType, Value};

use super::{NodeInfo, STRING, columns, int, match_selector, text};
use crate::{Error, ResultTable};

/// The selectors voltrs answers (VoltDB also has LICENSE).
pub const SELECTORS: &[&str] = &["OVERVIEW", "DEPLOYMENT"];

/// Answers `@SystemInformation(selector)`; VoltDB's default selector is OVERVIEW.
pub fn system_information(selector: &str, node: &NodeInfo) -> Result<ResultTable, Error> {
    Ok(match match_selector("@SystemInformation", selector, SELECTORS)? {
        "OVERVIEW" => overview(node),
        _ => deployment(node),
    })
}

/// `MiscUtils.formatUptime`: `D days HH:MM:SS.mmm`.
pub fn format_uptime(uptime: std::time::Duration) -> String {
    let ms = uptime.as_millis();
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (hours, rest) = (rest / 3_600_000, rest % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let (seconds, millis) = (rest / 1000, rest % 1000);
    format!("{days} days {hours:02}:{minutes:02}:{seconds:02}.{millis:03}")
}

/// `OVERVIEW`: `HOST_ID INTEGER, KEY STRING, VALUE STRING`, one row per key in VoltDB's
/// order. CATALOG and DEPLOYMENT (file paths VoltDB was started with) are NULL.
fn overview(node: &NodeInfo) -> ResultTable {
    let port = |p: u16| Some(p.to_string());
    let val = |s: &str| Some(s.to_string());
    let start = node.start_time_ms.to_string();
    let mb = node.memory.physical_bytes / (1024 * 1024);
    let mut pairs: Vec<(&str, Option<String>)> = vec![
        ("IPADDRESS", val(&node.ip_address)),
        ("HOSTNAME", val(&node.hostname)),
        ("CLIENTINTERFACE", val("")),
        ("CLIENTPORT", port(node.client_port)),
        ("ADMININTERFACE", val("")),
        ("ADMINPORT", port(node.admin_port)),
        ("HTTPINTERFACE", val("")),
        ("HTTPPORT", port(node.http_port)),
        ("INTERNALINTERFACE", val("")),
        ("INTERNALPORT", port(0)),
        ("ZKINTERFACE", val("")),
        ("ZKPORT", port(0)),
        ("DRINTERFACE", val("")),
        ("DRPORT", port(0)),
        ("PUBLICINTERFACE", val("")),
        ("DRPUBLICINTERFACE", val("")),
        ("DRPUBLICPORT", port(0)),
        ("BUILDSTRING", val(&node.build)),
        ("VERSION", val(&node.version)),
        ("CATALOG", None),
        ("DEPLOYMENT", None),
        ("CLUSTERSTATE", val(node.cluster_state.name())),
        ("CLUSTERSAFETY", val("FULL")),
        ("INITIALIZED", val("true")),
        ("REPLICATIONROLE", val("NONE")),
        ("CATALOGCRC", val("0")),
        ("IV2ENABLED", val("true")),
        ("STARTTIME", val(&start)),
        ("CREATIONTIME", val(&start)),
        ("HOSTSTARTTIME", val(&start)),
        ("UPTIME", Some(format_uptime(node.uptime))),
        ("LAST_UPDATECORE_DURATION", val("0")),
        ("LOG4JPORT", port(0)),
        ("PLACEMENTGROUP", val("0")),
        ("PARTITIONGROUP", Some(node.host_id.to_string())),
        ("VOLTDBROOT", val(&node.data_dir)),
        ("FULLCLUSTERSIZE", val("1")),
        ("CLUSTERID", val("0")),
        ("TOPICSPUBLICINTERFACE", val("")),
        ("TOPICSPUBLICPORT", port(0)),
        ("TOPICSPORT", port(0)),
        ("CPUCORES", Some(node.cpus.to_string())),
        ("CPUTHREADS", Some(node.cpus.to_string())),
        ("MEMORY", Some(format!("{mb} MB"))),
        ("KUBERNETES", val("false")),
    ];
    if let Some(pg) = node.pg_port {
        pairs.push(("PGPORT", port(pg)));
    }
    ResultTable {
        columns: columns(&[("HOST_ID", DataType::Integer), ("KEY", STRING), ("VALUE", STRING)]),
        rows: pairs
            .into_iter()
            .map(|(key, value)| vec![int(node.host_id), text(key), value.map_or(Value::Null, |v| text(&v))])
            .collect(),
    }
}

/// `DEPLOYMENT`: `PROPERTY STRING, VALUE STRING`, VoltDB's properties in its order
/// (optional ones only when VoltDB would emit them: `httpport` with HTTP on, the command
/// log details with the log on).
fn deployment(node: &NodeInfo) -> ResultTable {
    let root = node.data_dir.trim_end_matches('/');
    let http = node.http_port != 0;
    let logging = node.command_log != "off";
    let mut pairs: Vec<(&str, String)> = vec![
        ("voltdbroot", node.data_dir.clone()),
        ("hostcount", "1".into()),
        ("kfactor", "0".into()),
        ("sitesperhost", node.sites.to_string()),
    ];
    if http {
        pairs.push(("httpport", node.http_port.to_string()));
    }
    pairs.extend([
        ("httpenabled", http.to_string()),
        ("jsonenabled", http.to_string()),
        ("snapshotpath", format!("{root}/snapshots")),
        ("snapshotenabled", "false".into()),
        ("export", "false".into()),
        ("largequeryswappath", format!("{root}/large_query_swap")),
        ("partitiondetection", "false".into()),
        ("heartbeattimeout", "90".into()),
        ("adminport", node.admin_port.to_string()),
    ]);
    if logging {
        pairs.extend([
            ("commandlogmode", node.command_log.clone()),
            ("commandlogpath", format!("{root}/command_log")),
            ("commandlogsnapshotpath", format!("{root}/command_log_snapshot")),
        ]);
    }
    pairs.extend([
        ("commandlogenabled", logging.to_string()),
        ("users", String::new()),
        ("elasticduration", "50".into()),
        ("elasticthroughput", "2".into()),
        ("snapshotpriority", "6".into()),
        ("temptablesmaxsize", "100".into()),
        ("querytimeout", "10000".into()),
        ("prioritiesenabled", "false".into()),
        ("drpriority", "null".into()),
    ]);
    ResultTable {
        columns: columns(&[("PROPERTY", STRING), ("VALUE", STRING)]),
        rows: pairs.into_iter().map(|(k, v)| vec![text(k), text(&v)]).collect(),
    }
}
