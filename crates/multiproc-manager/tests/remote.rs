//! Remote managers over TCP loopback, between programs that share no parent: the test
//! starts two copies of this test binary, one that serves a manager and one that connects
//! to it, and connects itself as a third client.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use multiproc_manager::{DictProxy, Manager, ManagerError, RemoteError};
use multiproc_test_support::watchdog;

const KEY: &[u8] = b"remote-manager-test-key";
const ROLE: &str = "MULTIPROC_MANAGER_TEST_ROLE";
const ADDRESS: &str = "MULTIPROC_MANAGER_TEST_ADDRESS";

/// Kills and reaps a helper however the test ends.
struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn helper(name: &str, role: &str, address: Option<&str>) -> Helper {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if let Some(address) = address {
        command.env(ADDRESS, address);
    }
    Helper(command.spawn().unwrap())
}

fn add_one(n: Option<u64>) -> u64 {
    n.unwrap_or(0) + 1
}

#[test]
#[ignore = "a helper process of `a_manager_served_by_one_program_is_used_by_another`"]
fn helper_serve() {
    if std::env::var(ROLE).as_deref() != Ok("serve") {
        println!("skipped: run only as a helper of the remote test");
        return;
    }
    let manager = Manager::serve("127.0.0.1:0", KEY).unwrap();
    let board = manager.dict::<String, u64>().unwrap();
    board
        .insert("server".into(), u64::from(std::process::id()))
        .unwrap();
    manager.publish("board", &board).unwrap();
    println!("\nADDRESS={}", manager.address());
    std::io::stdout().flush().unwrap();
    // Serve until the test closes our stdin (or dies).
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    manager.shutdown().unwrap();
}

#[test]
#[ignore = "a helper process of `a_manager_served_by_one_program_is_used_by_another`"]
fn helper_client() {
    if std::env::var(ROLE).as_deref() != Ok("client") {
        println!("skipped: run only as a helper of the remote test");
        return;
    }
    let address = std::env::var(ADDRESS).unwrap();
    let wrong = Manager::connect(&address, b"not the key");
    assert!(matches!(wrong, Err(ManagerError::Connect(_))), "{wrong:?}");
    let manager = Manager::connect(&address, KEY).unwrap();
    let board: DictProxy<String, u64> = manager.lookup("board").unwrap();
    assert!(board.get(&"server".into()).unwrap().is_some());
    board
        .insert("client".into(), u64::from(std::process::id()))
        .unwrap();
    board
        .update([("batch-a".to_owned(), 1), ("batch-b".to_owned(), 2)])
        .unwrap();
    // A function identity from another program tree does not verify in the server.
    let err = board.update_with("counter".into(), add_one).unwrap_err();
    assert!(
        matches!(err, ManagerError::Remote(RemoteError::BadRequest(_))),
        "{err:?}"
    );
    let list = manager.list::<String>().unwrap();
    list.push("made by the client".into()).unwrap();
    manager.publish("list", &list).unwrap();
    println!("CLIENT-DONE");
}

#[test]
fn a_manager_served_by_one_program_is_used_by_another() {
    watchdog(Duration::from_secs(180), "remote manager", || {
        let mut server = helper("helper_serve", "serve", None);
        let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            // libtest prints "test helper_serve ... " on the same line.
            .find_map(|line| {
                line.split_once("ADDRESS=")
                    .map(|(_, a)| a.trim().to_owned())
            })
            .expect("the serving helper printed its address");

        let mut client = helper("helper_client", "client", Some(&address));
        let mut output = String::new();
        client
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut output)
            .unwrap();
        let status = client.0.wait().unwrap();
        assert!(status.success(), "client helper failed: {status}\n{output}");
        assert!(output.contains("CLIENT-DONE"), "{output}");

        // A third program (this test) sees both writers' data.
        let manager = Manager::connect(&address, KEY).unwrap();
        let board: DictProxy<String, u64> = manager.lookup("board").unwrap();
        let keys = board.keys().unwrap();
        assert_eq!(keys, ["server", "client", "batch-a", "batch-b"]);
        let list: multiproc_manager::ListProxy<String> = manager.lookup("list").unwrap();
        assert_eq!(list.get(0).unwrap(), "made by the client");

        // Closing the server's stdin makes it shut the manager down; calls then fail.
        drop(server.0.stdin.take());
        let status = server.0.wait().unwrap();
        assert!(status.success(), "serving helper failed: {status}");
        assert!(matches!(board.len(), Err(ManagerError::ManagerGone)));
    });
}
