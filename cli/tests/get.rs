//! `streamhouse get`: keys from arguments, `--key` and input files; table, CSV and JSON
//! output; absent and deleted keys; time travel; `--stats`; errors that name the key.

use crate::harness::{json_lines, Wh};

/// `shop.orders` (id key, 2 buckets): ids 1..=3 written, 2 deleted in a second commit.
fn orders() -> Wh {
    let wh = Wh::with_table(
        "shop.orders",
        "id BIGINT NOT NULL, item STRING, price DECIMAL(10, 2)",
        "--primary-key id --option bucket=2",
    );
    wh.write_file(
        "shop.orders",
        "orders.csv",
        "id,item,price\n1,apple,1.50\n2,pear,2.25\n3,\"fig, dried\",3.00\n",
    );
    wh.write("shop.orders", "json", "{\"id\": 2, \"rowkind\": \"-D\"}\n");
    wh
}

#[test]
fn single_keys_in_every_output_format() {
    let wh = orders();
    let table = wh.ok(&["get", "shop.orders", "1", "2", "3", "7"]);
    assert!(
        table.contains("| true  |  1 | apple      |  1.50 |"),
        "{table}"
    );
    assert!(
        table.contains("| false |  2 |            |       |"),
        "{table}"
    );
    assert!(
        table.contains("| true  |  3 | fig, dried |  3.00 |"),
        "{table}"
    );
    assert!(table.contains("| false |  7 |"), "{table}");

    let json = json_lines(&wh.ok(&["get", "shop.orders", "1", "2", "--output", "json"]));
    assert_eq!(
        json[0],
        serde_json::json!({"key": {"id": 1}, "found": true,
                           "row": {"id": 1, "item": "apple", "price": "1.50"}})
    );
    assert_eq!(
        json[1],
        serde_json::json!({"key": {"id": 2}, "found": false})
    );

    let csv = wh.ok(&["get", "shop.orders", "3", "9", "--output", "csv"]);
    assert_eq!(
        csv,
        "found,id,item,price\ntrue,3,\"fig, dried\",3.00\nfalse,9,,\n"
    );
}

#[test]
fn composite_keys_with_partitions() {
    let wh = Wh::with_table(
        "shop.sales",
        "dt DATE, id INT, name STRING, qty INT",
        "--primary-key dt,id --partition-by dt --option bucket=3",
    );
    wh.write_file(
        "shop.sales",
        "sales.csv",
        "dt,id,name,qty\n2024-01-31,1,\"Smith, J\",5\n2024-02-01,1,Lee,7\n2024-01-31,2,Kim,1\n",
    );
    let out = json_lines(&wh.ok(&[
        "get",
        "shop.sales",
        "--key",
        "dt=2024-01-31,id=1",
        "--key",
        "id=1, dt=2024-02-01",
        "--key",
        "dt=2024-02-01,id=2",
        "--output",
        "json",
    ]));
    assert_eq!(out[0]["row"]["name"], "Smith, J");
    assert_eq!(out[1]["row"]["qty"], 7);
    assert_eq!(
        out[2],
        serde_json::json!({"key": {"dt": "2024-02-01", "id": 2}, "found": false})
    );

    // Many keys from files: CSV with a header, JSON lines, a JSON array; and from stdin.
    let keys_csv = wh.file("keys.csv", "id,dt,other\n2,2024-01-31,x\n1,2024-02-01,y\n");
    let got = wh.ok(&["get", "shop.sales", "--input", &keys_csv, "--output", "csv"]);
    assert_eq!(
        got,
        "found,dt,id,name,qty\ntrue,2024-01-31,2,Kim,1\ntrue,2024-02-01,1,Lee,7\n"
    );
    let keys_json = wh.file(
        "keys.json",
        "[{\"dt\": \"2024-01-31\", \"id\": 1}, {\"dt\": \"2024-01-30\", \"id\": 1}]",
    );
    let got = json_lines(&wh.ok(&["get", "shop.sales", "--input", &keys_json, "-o", "json"]));
    assert_eq!(got[0]["found"], true);
    assert_eq!(got[1]["found"], false);
    let got = json_lines(&wh.ok_stdin(
        &["get", "shop.sales", "--input", "-", "-o", "json"],
        "{\"dt\": \"2024-01-31\", \"id\": 2}\n\n{\"id\": 1, \"dt\": \"2024-02-01\"}\n",
    ));
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r["found"] == true));

    // Positional keys need a one-column key.
    let e = wh.fails(2, &["get", "shop.sales", "1"]);
    assert!(e.contains("composite primary key (dt, id)"), "{e}");
    assert!(e.contains("--key 'dt=…,id=…'"), "{e}");
}

#[test]
fn bad_keys_name_the_key_and_the_column() {
    let wh = orders();
    let bad = wh.file("k.csv", "id\n1\n\n2.5\n");
    let no_key = wh.file("n.csv", "other\n1\n");
    wh.create("logs.events", "msg STRING", "");
    // (the arguments of `get`, its exit code: 2 for bad keys, what its error says)
    let cases: &[(&[&str], i32, &[&str])] = &[
        (
            &["shop.orders", "1", "x1"],
            2,
            &["key argument 2 (\"x1\"): key column id (BIGINT)"],
        ),
        (
            &["shop.orders", "--key", "id=1,item=a"],
            2,
            &["item is not a primary-key column (the key is id)"],
        ),
        (
            &["shop.orders", "--key", "item=a"],
            2,
            &["item is not a primary-key column"],
        ),
        (&["shop.orders", "--key", "id=\"1"], 2, &["not closed"]),
        (
            &["shop.orders", "--input", &bad],
            2,
            &["line 4 of", "key column id"],
        ),
        (
            &["shop.orders", "--input", &no_key],
            2,
            &["has no key column id"],
        ),
        (&["shop.orders"], 2, &["no keys given"]),
        (&["shop.nope", "1"], 1, &["does not exist"]),
        (
            &["shop.orders", "1", "--snapshot", "9"],
            1,
            &["snapshot 9 of table shop.orders does not exist"],
        ),
        (&["logs.events", "1"], 1, &["no primary key"]),
    ];
    for (args, code, needles) in cases {
        let mut command = vec!["get"];
        command.extend_from_slice(args);
        let e = wh.fails(*code, &command);
        for n in *needles {
            assert!(e.contains(n), "get {args:?}: {n:?} not in {e}");
        }
    }
}

#[test]
fn time_travel_and_stats() {
    let wh = orders();
    // Snapshot 1 still has id 2.
    let old = json_lines(&wh.ok(&["get", "shop.orders", "2", "--snapshot", "1", "-o", "json"]));
    assert_eq!(old[0]["row"]["item"], "pear");
    let out = wh.run(&["--stats", "get", "shop.orders", "1", "2", "3"], b"");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("get stats: loading snapshot 2"), "{err}");
    assert!(err.contains("key id=1: found"), "{err}");
    assert!(err.contains("key id=2: absent"), "{err}");
    assert!(err.contains("ranged GET"), "{err}");
    assert!(err.contains("lookups: 3 keys, 2 found"), "{err}");
    // The global summary of the whole command follows.
    assert!(err.contains("stats: "), "{err}");
}
