//! `streamhouse get`: keys from arguments, `--key` and input files; table, CSV and JSON
//! output; absent and deleted keys; time travel; `--stats`; errors that name the key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

struct Wh {
    dir: tempfile::TempDir,
}

impl Wh {
    fn new() -> Self {
        Wh {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).expect("write input file");
        p
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(BIN)
            .arg("--warehouse")
            .arg(self.path().join("wh"))
            .args(args)
            .env_remove("STREAMHOUSE_WAREHOUSE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run streamhouse");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.unwrap_or_default().as_bytes().to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait for streamhouse");
        let _ = feeder.join();
        out
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    }

    /// Runs a command that must fail; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8(out.stderr).expect("utf8")
    }
}

/// `shop.orders` (id key, 2 buckets): ids 1..=3 written, 2 deleted in a second commit.
fn orders() -> Wh {
    let wh = Wh::new();
    wh.ok(
        &[
            "create",
            "shop.orders",
            "--schema",
            "id BIGINT NOT NULL, item STRING, price DECIMAL(10, 2)",
            "--primary-key",
            "id",
            "--option",
            "bucket=2",
        ],
        None,
    );
    let csv = wh.file(
        "orders.csv",
        "id,item,price\n1,apple,1.50\n2,pear,2.25\n3,\"fig, dried\",3.00\n",
    );
    wh.ok(
        &["write", "shop.orders", "--input", csv.to_str().unwrap()],
        None,
    );
    wh.ok(
        &["write", "shop.orders", "--format", "json"],
        Some("{\"id\": 2, \"rowkind\": \"-D\"}\n"),
    );
    wh
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn single_keys_in_every_output_format() {
    let wh = orders();
    let table = wh.ok(&["get", "shop.orders", "1", "2", "3", "7"], None);
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

    let json = json_lines(&wh.ok(&["get", "shop.orders", "1", "2", "--output", "json"], None));
    assert_eq!(
        json[0],
        serde_json::json!({"key": {"id": 1}, "found": true,
                           "row": {"id": 1, "item": "apple", "price": "1.50"}})
    );
    assert_eq!(
        json[1],
        serde_json::json!({"key": {"id": 2}, "found": false})
    );

    let csv = wh.ok(&["get", "shop.orders", "3", "9", "--output", "csv"], None);
    assert_eq!(
        csv,
        "found,id,item,price\ntrue,3,\"fig, dried\",3.00\nfalse,9,,\n"
    );
}

#[test]
fn composite_keys_with_partitions() {
    let wh = Wh::new();
    wh.ok(
        &[
            "create",
            "shop.sales",
            "--schema",
            "dt DATE, id INT, name STRING, qty INT",
            "--primary-key",
            "dt,id",
            "--partition-by",
            "dt",
            "--option",
            "bucket=3",
        ],
        None,
    );
    let csv = wh.file(
        "sales.csv",
        "dt,id,name,qty\n2024-01-31,1,\"Smith, J\",5\n2024-02-01,1,Lee,7\n2024-01-31,2,Kim,1\n",
    );
    wh.ok(
        &["write", "shop.sales", "--input", csv.to_str().unwrap()],
        None,
    );
    let out = json_lines(&wh.ok(
        &[
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
        ],
        None,
    ));
    assert_eq!(out[0]["row"]["name"], "Smith, J");
    assert_eq!(out[1]["row"]["qty"], 7);
    assert_eq!(
        out[2],
        serde_json::json!({"key": {"dt": "2024-02-01", "id": 2}, "found": false})
    );

    // Many keys from files: CSV with a header, JSON lines, a JSON array; and from stdin.
    let keys_csv = wh.file("keys.csv", "id,dt,other\n2,2024-01-31,x\n1,2024-02-01,y\n");
    let got = wh.ok(
        &[
            "get",
            "shop.sales",
            "--input",
            keys_csv.to_str().unwrap(),
            "--output",
            "csv",
        ],
        None,
    );
    assert_eq!(
        got,
        "found,dt,id,name,qty\ntrue,2024-01-31,2,Kim,1\ntrue,2024-02-01,1,Lee,7\n"
    );
    let keys_json = wh.file(
        "keys.json",
        "[{\"dt\": \"2024-01-31\", \"id\": 1}, {\"dt\": \"2024-01-30\", \"id\": 1}]",
    );
    let got = json_lines(&wh.ok(
        &[
            "get",
            "shop.sales",
            "--input",
            keys_json.to_str().unwrap(),
            "-o",
            "json",
        ],
        None,
    ));
    assert_eq!(got[0]["found"], true);
    assert_eq!(got[1]["found"], false);
    let got = json_lines(&wh.ok(
        &["get", "shop.sales", "--input", "-", "-o", "json"],
        Some("{\"dt\": \"2024-01-31\", \"id\": 2}\n\n{\"id\": 1, \"dt\": \"2024-02-01\"}\n"),
    ));
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r["found"] == true));

    // Positional keys need a one-column key.
    let e = wh.fails(&["get", "shop.sales", "1"]);
    assert!(e.contains("composite primary key (dt, id)"), "{e}");
    assert!(e.contains("--key 'dt=…,id=…'"), "{e}");
}

#[test]
fn bad_keys_name_the_key_and_the_column() {
    let wh = orders();
    let e = wh.fails(&["get", "shop.orders", "1", "x1"]);
    assert!(
        e.contains("key argument 2 (\"x1\"): key column id (BIGINT)"),
        "{e}"
    );
    let e = wh.fails(&["get", "shop.orders", "--key", "id=1,item=a"]);
    assert!(
        e.contains("item is not a primary-key column (the key is id)"),
        "{e}"
    );
    let e = wh.fails(&["get", "shop.orders", "--key", "item=a"]);
    assert!(e.contains("item is not a primary-key column"), "{e}");
    let e = wh.fails(&["get", "shop.orders", "--key", "id=\"1"]);
    assert!(e.contains("not closed"), "{e}");
    let bad = wh.file("k.csv", "id\n1\n\n2.5\n");
    let e = wh.fails(&["get", "shop.orders", "--input", bad.to_str().unwrap()]);
    assert!(
        e.contains("line 4 of") && e.contains("key column id"),
        "{e}"
    );
    let none = wh.file("n.csv", "other\n1\n");
    let e = wh.fails(&["get", "shop.orders", "--input", none.to_str().unwrap()]);
    assert!(e.contains("has no key column id"), "{e}");
    let e = wh.fails(&["get", "shop.orders"]);
    assert!(e.contains("no keys given"), "{e}");
    let e = wh.fails(&["get", "shop.nope", "1"]);
    assert!(e.contains("does not exist"), "{e}");
    let e = wh.fails(&["get", "shop.orders", "1", "--snapshot", "9"]);
    assert!(
        e.contains("snapshot 9 of table shop.orders does not exist"),
        "{e}"
    );
    wh.ok(&["create", "logs.events", "--schema", "msg STRING"], None);
    let e = wh.fails(&["get", "logs.events", "1"]);
    assert!(e.contains("no primary key"), "{e}");
}

#[test]
fn time_travel_and_stats() {
    let wh = orders();
    // Snapshot 1 still has id 2.
    let old = json_lines(&wh.ok(
        &["get", "shop.orders", "2", "--snapshot", "1", "-o", "json"],
        None,
    ));
    assert_eq!(old[0]["row"]["item"], "pear");
    let out = wh.run(&["--stats", "get", "shop.orders", "1", "2", "3"], None);
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
