//! psql's backslash commands end to end with the real `psql` 15: `\d`, `\dt`, `\dv`,
//! `\d NAME` and their `+` forms list the relations and columns of the connection's
//! database, with PostgreSQL's type names; other catalog queries are refused clearly.

mod common;

use common::Server;

/// psql without a password.
fn psql(server: &Server, args: &[&str], script: &str) -> (bool, String) {
    common::psql(server, args, None, script)
}

/// A partitioned table of every column type, a replicated table with a UNIQUE constraint,
/// and a view.
const SCHEMA: &str = "\
CREATE TABLE orders (id INTEGER NOT NULL PRIMARY KEY, customer VARCHAR(40) DEFAULT 'nobody' NOT NULL, \
qty TINYINT DEFAULT 1, small SMALLINT, big BIGINT, price FLOAT, total DECIMAL, photo VARBINARY(100), \
placed TIMESTAMP DEFAULT NOW);
PARTITION TABLE orders ON COLUMN id;
CREATE INDEX orders_by_customer ON orders (customer);
CREATE TABLE regions (code VARCHAR(8) NOT NULL, name VARCHAR(64), UNIQUE (code));
CREATE VIEW by_customer (customer, n, spent) AS SELECT customer, COUNT(*), SUM(total) FROM orders GROUP BY customer;
";

fn server_with_schema() -> Server {
    let server = Server::start(&[]);
    let (ok, out) = psql(&server, &["-v", "ON_ERROR_STOP=1"], SCHEMA);
    assert!(ok, "{out}");
    server
}

/// Lines joined with newlines (psql pads header cells: trailing spaces matter).
fn lines(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn backslash_d_lists_relations_and_describes_tables_and_views() {
    let server = server_with_schema();
    let (ok, out) = psql(
        &server,
        &[],
        "\\d\n\\dt\n\\dv\n\\d orders\n\\d regions\n\\d by_customer\n\\d nosuchtable\n",
    );
    assert!(ok, "{out}");
    let expected = lines(&[
        "           List of relations",
        " Schema |    Name     | Type  | Owner  ",
        "--------+-------------+-------+--------",
        " public | by_customer | view  | voltrs",
        " public | orders      | table | voltrs",
        " public | regions     | table | voltrs",
        "(3 rows)",
        "",
        "         List of relations",
        " Schema |  Name   | Type  | Owner  ",
        "--------+---------+-------+--------",
        " public | orders  | table | voltrs",
        " public | regions | table | voltrs",
        "(2 rows)",
        "",
        "          List of relations",
        " Schema |    Name     | Type | Owner  ",
        "--------+-------------+------+--------",
        " public | by_customer | view | voltrs",
        "(1 row)",
        "",
        "                                    Table \"public.orders\"",
        "  Column  |            Type             | Collation | Nullable |           Default           ",
        "----------+-----------------------------+-----------+----------+-----------------------------",
        " id       | integer                     |           | not null | ",
        " customer | character varying(40)       |           | not null | 'nobody'::character varying",
        " qty      | smallint                    |           |          | 1",
        " small    | smallint                    |           |          | ",
        " big      | bigint                      |           |          | ",
        " price    | double precision            |           |          | ",
        " total    | numeric(38,12)              |           |          | ",
        " photo    | bytea                       |           |          | ",
        " placed   | timestamp without time zone |           |          | CURRENT_TIMESTAMP",
        "Indexes:",
        "    \"voltdb_autogen_pk_orders_id\" PRIMARY KEY, btree (id)",
        "    \"orders_by_customer\" btree (customer)",
        "",
        "                     Table \"public.regions\"",
        " Column |         Type          | Collation | Nullable | Default ",
        "--------+-----------------------+-----------+----------+---------",
        " code   | character varying(8)  |           | not null | ",
        " name   | character varying(64) |           |          | ",
        "Indexes:",
        "    \"voltdb_autogen_unique_regions_code\" UNIQUE CONSTRAINT, btree (code)",
        "",
        "                     View \"public.by_customer\"",
        "  Column  |         Type          | Collation | Nullable | Default ",
        "----------+-----------------------+-----------+----------+---------",
        " customer | character varying(40) |           | not null | ",
        " n        | bigint                |           | not null | ",
        " spent    | numeric(38,12)        |           |          | ",
        "",
        "Did not find any relation named \"nosuchtable\".",
    ]);
    assert_eq!(out, expected);
}

#[test]
fn backslash_d_plus_shows_placement_storage_and_the_view_query() {
    let server = server_with_schema();
    let (ok, out) = psql(&server, &[], "\\d+\n\\d+ orders\n\\d+ by_customer\n\\dt re*\n");
    assert!(ok, "{out}");
    let list = lines(&[
        " Schema |    Name     | Type  | Owner  | Persistence | Access method | Size |    Description    ",
        "--------+-------------+-------+--------+-------------+---------------+------+-------------------",
        " public | by_customer | view  | voltrs | permanent   |               |      | partitioned",
        " public | orders      | table | voltrs | permanent   |               |      | partitioned on id",
        " public | regions     | table | voltrs | permanent   |               |      | replicated",
    ]);
    assert!(out.contains(&list), "{out}");
    // Storage, compression, stats target, and the partition column described.
    assert!(
        out.contains(
            " id       | integer                     |           | not null |                             | plain    |             |              | partition column\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            " photo    | bytea                       |           |          |                             | extended |"
        ),
        "{out}"
    );
    assert!(
        out.contains("View definition:\n SELECT customer, COUNT(*), SUM(total) FROM orders GROUP BY customer;\n"),
        "{out}"
    );
    // A pattern: psql's regular expression on the name.
    assert!(
        out.ends_with(&lines(&[
            "         List of relations",
            " Schema |  Name   | Type  | Owner  ",
            "--------+---------+-------+--------",
            " public | regions | table | voltrs",
            "(1 row)",
            "",
        ])),
        "{out}"
    );
}

#[test]
fn each_database_lists_only_its_own_relations() {
    let server = server_with_schema();
    let (ok, out) = psql(
        &server,
        &["-v", "ON_ERROR_STOP=1"],
        "CREATE DATABASE shop;\nUSE shop;\nCREATE TABLE items (sku BIGINT NOT NULL, label VARCHAR(10));\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = psql(&server, &["-d", "shop"], "\\dt\n\\d items\n\\d orders\n");
    assert!(ok, "{out}");
    let expected = lines(&[
        "        List of relations",
        " Schema | Name  | Type  | Owner  ",
        "--------+-------+-------+--------",
        " public | items | table | voltrs",
        "(1 row)",
        "",
        "                      Table \"public.items\"",
        " Column |         Type          | Collation | Nullable | Default ",
        "--------+-----------------------+-----------+----------+---------",
        " sku    | bigint                |           | not null | ",
        " label  | character varying(10) |           |          | ",
        "",
        "Did not find any relation named \"orders\".",
    ]);
    assert_eq!(out, expected);
    // The default database does not see the other one's table.
    let (ok, out) = psql(&server, &[], "\\dt items\n");
    assert!(ok, "{out}");
    assert_eq!(out, "Did not find any relation named \"items\".\n");
    // A database with no relations.
    psql(&server, &[], "CREATE DATABASE empty;\n");
    let (ok, out) = psql(&server, &["-d", "empty"], "\\d\n");
    assert!(ok, "{out}");
    assert_eq!(out, "Did not find any relations.\n");
}

#[test]
fn other_catalog_queries_are_refused_saying_what_works() {
    let server = server_with_schema();
    let (ok, out) = psql(
        &server,
        &[],
        "\\set VERBOSITY verbose\n\\dn\n\\di\nSELECT * FROM pg_catalog.pg_tables;\n\
         INSERT INTO regions VALUES ('eu', 'pg_catalog.pg_class');\nSELECT COUNT(*) AS n FROM regions;\n",
    );
    assert!(ok, "{out}");
    let refusal = "ERROR:  0A000: voltrs does not have pg_catalog (PostgreSQL's system catalogs); \
         it answers only the catalog queries of psql's \\d, \\dt, \\dv and \\d NAME (and their + forms)";
    assert_eq!(out.matches(refusal).count(), 3, "{out}");
    // pg_catalog inside a string literal is not a catalog query.
    assert!(out.contains("INSERT 0 1\n n \n---\n 1\n(1 row)"), "{out}");
}
