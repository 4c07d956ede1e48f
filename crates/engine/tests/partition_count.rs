//! Results never depend on the partition count: the same data and queries on 1, 3 and 8
//! partitions give the same rows (sorted where the query leaves order open). Exact types
//! only: a FLOAT sum adds in row order, which follows the placement of rows, so its last
//! bits may differ (as in VoltDB).

mod common;

use voltrs_engine::{Config, Database, Outcome};

const SCHEMA: &str = "
CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, customer INTEGER NOT NULL, amount DECIMAL, region VARCHAR(4));
PARTITION TABLE orders ON COLUMN id;
CREATE TABLE customers (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(10) NOT NULL);
";

const QUERIES: &[&str] = &[
    "SELECT COUNT(*), SUM(amount), MIN(amount), MAX(amount), AVG(amount) FROM orders",
    "SELECT customer, COUNT(*), SUM(amount), MAX(region) FROM orders GROUP BY customer",
    "SELECT region, COUNT(DISTINCT customer) FROM orders GROUP BY region",
    "SELECT DISTINCT region FROM orders",
    "SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 7 OFFSET 3",
    "SELECT c.name, SUM(o.amount) FROM orders o JOIN customers c ON o.customer = c.id GROUP BY c.name",
    "SELECT customer, RANK() OVER (PARTITION BY region ORDER BY amount) FROM orders WHERE amount > 50",
    "SELECT COUNT(*) FROM orders WHERE customer IN (SELECT id FROM customers WHERE name LIKE 'c1%')",
    "SELECT region, COUNT(*) FROM orders GROUP BY region HAVING COUNT(*) > 20",
];

fn run(partitions: usize) -> Vec<Vec<String>> {
    let db = Database::open(Config::with_partitions(partitions)).expect("open");
    let mut s = db.session();
    s.execute_sql(SCHEMA).expect("schema");
    for c in 0..12 {
        s.execute_sql(&format!("INSERT INTO customers VALUES ({c}, 'c{c}')"))
            .expect("customer");
    }
    // Deterministic pseudo-random data.
    let mut x: u64 = 42;
    for id in 0..400 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let customer = (x >> 33) % 12;
        let amount = (x >> 20) % 10_000;
        let region = ["N", "S", "E", "W"][((x >> 50) % 4) as usize];
        let amount = if id % 17 == 0 {
            "NULL".to_string()
        } else {
            format!("{}.{:02}", amount / 100, amount % 100)
        };
        s.execute_sql(&format!(
            "INSERT INTO orders VALUES ({id}, {customer}, {amount}, '{region}')"
        ))
        .expect("order");
    }
    QUERIES
        .iter()
        .map(|q| {
            let out = s.execute_sql(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            let Some(Outcome::Rows(t)) = out.into_iter().last() else {
                panic!("{q}: no rows")
            };
            let mut rows: Vec<String> = t.rows.iter().map(|r| common::row_text(r)).collect();
            if !q.contains("ORDER BY amount DESC") {
                rows.sort();
            }
            rows
        })
        .collect()
}

#[test]
fn results_do_not_depend_on_partition_count() {
    let one = run(1);
    for n in [3, 8] {
        let many = run(n);
        for (i, q) in QUERIES.iter().enumerate() {
            assert_eq!(one[i], many[i], "{q} differs between 1 and {n} partitions");
        }
    }
    assert_eq!(one[0].len(), 1);
    assert!(one[1].len() == 12, "one row per customer: {:?}", one[1]);
}
