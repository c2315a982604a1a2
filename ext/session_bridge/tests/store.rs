//! The core's store against a real redis-server started on a free loopback port.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use session_bridge::core::connection::{Settings, Timeouts};
use session_bridge::core::store::{Layout, Policy, Store};
use session_bridge::core::{token, Error};

struct Server {
    port: u16,
    child: Option<Child>,
    dir: std::path::PathBuf,
}

impl Server {
    fn start() -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("session_bridge-cargo-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Server { port, child: None, dir };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new(std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into()))
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn store(&self) -> Store {
        let settings =
            Settings::from_url(&format!("redis://127.0.0.1:{}/0", self.port), Timeouts::default(), None)
                .unwrap();
        Store::new(settings, Layout::hash("mySessionStore").unwrap(), Policy::default(), 2)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn publishes_fetches_and_revokes_in_the_hash_layout() {
    let server = Server::start();
    let store = server.store();
    let token = token::mint(b"session").unwrap();

    let mut lease = store.checkout().unwrap();
    lease.publish(&token, br#"{"user_id":1}"#, Some("1")).unwrap();
    let stored = lease.fetch(&token).unwrap().unwrap();
    assert_eq!(stored, br#"{"user_id":1}"#);
    assert!(lease.revoke(&token).unwrap());
    assert!(!lease.revoke(&token).unwrap());
    assert_eq!(lease.fetch(&token).unwrap(), None);
    store.checkin(lease);
}

#[test]
fn a_pooled_connection_is_replaced_after_redis_restarts() {
    let mut server = Server::start();
    let store = server.store();
    let token = token::mint(b"s").unwrap();
    let mut lease = store.checkout().unwrap();
    lease.publish(&token, b"{}", None).unwrap();
    store.checkin(lease);

    server.stop();
    server.spawn();

    let mut lease = store.checkout().unwrap();
    assert_eq!(lease.fetch(&token).unwrap(), None, "a fresh server has no entry");
    lease.publish(&token, b"{}", None).unwrap();
    assert!(lease.fetch(&token).unwrap().is_some());
    store.checkin(lease);
}

#[test]
fn a_stopped_server_is_a_cannot_connect_error() {
    let mut server = Server::start();
    let store = server.store();
    server.stop();

    let mut lease = store.checkout().unwrap();
    assert!(matches!(lease.fetch(&token::mint(b"").unwrap()), Err(Error::CannotConnect(_))));
}

#[test]
fn an_error_reply_is_a_command_error_and_keeps_the_connection_usable() {
    let server = Server::start();
    let store = server.store();
    // Make the store key a string, so every hash command on it fails with WRONGTYPE.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    std::io::Write::write_all(&mut raw, b"SET mySessionStore x\r\n").unwrap();
    let mut reply = [0u8; 5];
    std::io::Read::read_exact(&mut raw, &mut reply).unwrap();

    let mut lease = store.checkout().unwrap();
    let token = token::mint(b"").unwrap();
    let wrong_type =
        |result: Result<_, Error>| matches!(result, Err(Error::Command { code, .. }) if code == "WRONGTYPE");
    assert!(wrong_type(lease.publish(&token, b"{}", None).map(|_| ())));
    assert!(wrong_type(lease.fetch(&token).map(|_| ())), "the same connection answers the next command");
}
