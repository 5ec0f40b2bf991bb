//! A loopback TCP relay in front of the OpenBao server that keeps every request the store
//! sends, parsed (method, path, headers, body): the wire shape as Vault received it.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one connection sent.
type Log = Arc<Mutex<Vec<u8>>>;

/// One request as sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The relay: point a store at `addr`.
pub struct Recorder {
    pub addr: String,
    streams: Arc<Mutex<Vec<Log>>>,
}

pub async fn recorder(upstream: &str) -> Recorder {
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let streams: Arc<Mutex<Vec<Log>>> = Arc::default();
    let all = streams.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(&upstream).await;
            let Ok(server) = server else {
                continue;
            };
            let log: Log = Arc::default();
            all.lock().unwrap().push(log.clone());
            tokio::spawn(relay(client, server, log));
        }
    });
    Recorder { addr, streams }
}

async fn relay(client: TcpStream, server: TcpStream, log: Log) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                    if to_server.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_server.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to_client.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_client.shutdown().await;
    };
    tokio::join!(up, down);
}

impl Recorder {
    /// Every complete request so far, connection by connection.
    pub fn sent(&self) -> Vec<Sent> {
        let streams = self.streams.lock().unwrap().clone();
        let mut out = Vec::new();
        for stream in streams {
            let bytes = stream.lock().unwrap().clone();
            parse(&bytes, &mut out);
        }
        out
    }
}

fn parse(mut bytes: &[u8], out: &mut Vec<Sent>) {
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let target = first.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let start = end + 4;
        if bytes.len() < start + len {
            return;
        }
        let body = String::from_utf8_lossy(&bytes[start..start + len]).into_owned();
        out.push(Sent {
            method,
            target,
            headers,
            body,
        });
        bytes = &bytes[start + len..];
    }
}
