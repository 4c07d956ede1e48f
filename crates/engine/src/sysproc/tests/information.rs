//! `@SystemInformation`: OVERVIEW keys in VoltDB's order with the node's values, and
//! DEPLOYMENT properties.

use super::*;
use crate::sysproc::information::format_uptime;
use crate::sysproc::system_information;

#[test]
fn overview_lists_voltdbs_keys_in_order_with_the_nodes_values() {
    let t = system_information("OVERVIEW", &node()).expect("OVERVIEW");
    assert_shape(&t, &[("HOST_ID", DataType::Integer), ("KEY", S), ("VALUE", S)]);
    let keys: Vec<String> = project(&t, &["KEY"]);
    assert_eq!(
        keys,
        [
            "IPADDRESS",
            "HOSTNAME",
            "CLIENTINTERFACE",
            "CLIENTPORT",
            "ADMININTERFACE",
            "ADMINPORT",
            "HTTPINTERFACE",
            "HTTPPORT",
            "INTERNALINTERFACE",
            "INTERNALPORT",
            "ZKINTERFACE",
            "ZKPORT",
            "DRINTERFACE",
            "DRPORT",
            "PUBLICINTERFACE",
            "DRPUBLICINTERFACE",
            "DRPUBLICPORT",
            "BUILDSTRING",
            "VERSION",
            "CATALOG",
            "DEPLOYMENT",
            "CLUSTERSTATE",
            "CLUSTERSAFETY",
            "INITIALIZED",
            "REPLICATIONROLE",
            "CATALOGCRC",
            "IV2ENABLED",
            "STARTTIME",
            "CREATIONTIME",
            "HOSTSTARTTIME",
            "UPTIME",
            "LAST_UPDATECORE_DURATION",
            "LOG4JPORT",
            "PLACEMENTGROUP",
            "PARTITIONGROUP",
            "VOLTDBROOT",
            "FULLCLUSTERSIZE",
            "CLUSTERID",
            "TOPICSPUBLICINTERFACE",
            "TOPICSPUBLICPORT",
            "TOPICSPORT",
            "CPUCORES",
            "CPUTHREADS",
            "MEMORY",
            "KUBERNETES",
        ]
    );
    assert!(project(&t, &["HOST_ID"]).iter().all(|h| h == "0"));
    let value = |k: &str| render(&lookup(&t, "KEY", k, "VALUE")).unwrap_or_else(|| "NULL".into());
    // What VoltClient's topology discovery reads.
    assert_eq!(value("IPADDRESS"), "10.0.0.5");
    assert_eq!(value("HOSTNAME"), "db1");
    assert_eq!(value("CLIENTPORT"), "21212");
    assert_eq!(value("ADMINPORT"), "21211");
    assert_eq!(value("HTTPPORT"), "8080");
    assert_eq!(value("BUILDSTRING"), "voltrs-0.1.0");
    assert_eq!(value("VERSION"), "14.1.0");
    assert_eq!(value("CLUSTERSTATE"), "RUNNING");
    assert_eq!(value("STARTTIME"), "1700000000123");
    assert_eq!(value("UPTIME"), "2 days 03:04:05.006");
    assert_eq!(value("CATALOG"), "NULL");
    assert_eq!(value("VOLTDBROOT"), "/var/voltrs/");
    assert_eq!(value("CPUCORES"), "8");
    assert_eq!(value("MEMORY"), "16384 MB");
}

#[test]
fn overview_reports_a_paused_node_and_the_pg_port_when_listening() {
    let mut n = node();
    n.cluster_state = ClusterState::Paused;
    n.pg_port = Some(5432);
    n.host_id = 3;
    let t = system_information("overview", &n).expect("overview");
    assert_eq!(
        render(&lookup(&t, "KEY", "CLUSTERSTATE", "VALUE")).as_deref(),
        Some("PAUSED")
    );
    assert_eq!(
        project(&t, &["KEY", "VALUE"]).last().map(String::as_str),
        Some("PGPORT|5432")
    );
    assert!(project(&t, &["HOST_ID"]).iter().all(|h| h == "3"));
}

#[test]
fn deployment_lists_properties_in_voltdbs_order() {
    let t = system_information("DEPLOYMENT", &node()).expect("DEPLOYMENT");
    assert_shape(&t, &[("PROPERTY", S), ("VALUE", S)]);
    assert_eq!(
        project(&t, &["PROPERTY", "VALUE"]),
        [
            "voltdbroot|/var/voltrs/",
            "hostcount|1",
            "kfactor|0",
            "sitesperhost|4",
            "httpport|8080",
            "httpenabled|true",
            "jsonenabled|true",
            "snapshotpath|/var/voltrs/snapshots",
            "snapshotenabled|false",
            "export|false",
            "largequeryswappath|/var/voltrs/large_query_swap",
            "partitiondetection|false",
            "heartbeattimeout|90",
            "adminport|21211",
            "commandlogenabled|false",
            "users|",
            "elasticduration|50",
            "elasticthroughput|2",
            "snapshotpriority|6",
            "temptablesmaxsize|100",
            "querytimeout|10000",
            "prioritiesenabled|false",
            "drpriority|null",
        ]
    );
}

#[test]
fn deployment_without_http_and_with_a_command_log() {
    let mut n = node();
    n.http_port = 0;
    n.command_log = "sync".into();
    let t = system_information("deployment", &n).expect("deployment");
    let props = project(&t, &["PROPERTY", "VALUE"]);
    assert!(!props.iter().any(|p| p.starts_with("httpport|")));
    assert!(props.contains(&"httpenabled|false".to_string()));
    let log: Vec<&String> = props.iter().filter(|p| p.starts_with("commandlog")).collect();
    assert_eq!(
        log,
        [
            "commandlogmode|sync",
            "commandlogpath|/var/voltrs/command_log",
            "commandlogsnapshotpath|/var/voltrs/command_log_snapshot",
            "commandlogenabled|true",
        ]
    );
}

#[test]
fn bad_selector_names_itself_and_the_valid_ones() {
    let err = system_information("LICENSE", &node()).expect_err("LICENSE is not answered");
    assert_eq!(
        err.to_string(),
        "invalid @SystemInformation selector \"LICENSE\": expected one of OVERVIEW, DEPLOYMENT"
    );
}

#[test]
fn uptime_is_formatted_like_voltdb() {
    assert_eq!(format_uptime(Duration::ZERO), "0 days 00:00:00.000");
    assert_eq!(format_uptime(Duration::from_millis(59_999)), "0 days 00:00:59.999");
    assert_eq!(
        format_uptime(Duration::from_secs(400 * 86_400 + 3599)),
        "400 days 00:59:59.000"
    );
}
