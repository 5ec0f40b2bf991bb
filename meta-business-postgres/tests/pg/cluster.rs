//! A throwaway PostgreSQL cluster, started once per test binary on a free loopback port and
//! stopped when the binary exits (a watchdog process waits for it) or when dropped.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use meta_business_postgres::Connector;
use meta_business_postgres::tokio_postgres::Config;

/// The environment variable a child process finds the cluster's port in.
pub const PORT_VAR: &str = "MB_PG_TEST_PORT";

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static CREATE_DB: Mutex<()> = Mutex::new(());
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// The binary's cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(Cluster::start)
}

/// Where `initdb` and `pg_ctl` are: `$PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn find_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL's initdb and pg_ctl were not found under /usr/lib/postgresql/*/bin. \
             Install them (Debian/Ubuntu: `apt-get update && apt-get install -y postgresql`) \
             or set PG_BIN to the directory that holds them."
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

impl Cluster {
    fn start() -> Cluster {
        let bin = find_bin();
        // initdb refuses to run as root: root runs it as the `postgres` user.
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            == 0;
        let dir = std::env::temp_dir().join(format!(
            "meta-business-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("creating the cluster's directory");
        if as_postgres {
            run(Command::new("chown").arg("-R").arg("postgres:").arg(&dir));
        }
        let cluster = Cluster {
            data: dir.join("data"),
            port: free_port(),
            bin,
            dir,
            as_postgres,
        };
        cluster.spawn_watchdog();
        run(cluster.tool("initdb").arg("-D").arg(&cluster.data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]));
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
            cluster.port,
            cluster.dir.display()
        );
        run(cluster
            .tool("pg_ctl")
            .arg("-D")
            .arg(&cluster.data)
            .args(["-w", "-l"])
            .arg(cluster.dir.join("pg.log"))
            .args(["-o", &options, "start"]));
        cluster
    }

    /// A PostgreSQL tool, run as `postgres` when we are root.
    pub fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// The path of one of the cluster's binaries (`psql`).
    pub fn binary(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// Stops the cluster and removes its files once this process is gone, however it ends.
    fn spawn_watchdog(&self) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = self.stop_command(),
            dir = self.dir.display()
        );
        // Outlives this process by design: never waited for.
        #[allow(clippy::zombie_processes)]
        let _watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning the cluster's watchdog");
    }

    fn stop_command(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let runuser = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{runuser}'{}' -D '{}' stop -m immediate >/dev/null 2>&1",
            pg_ctl.display(),
            self.data.display()
        )
    }

    /// A connector to a fresh, empty database of this cluster.
    pub fn database(&self) -> Connector {
        connector(self.port, &self.new_database())
    }

    /// The name of a fresh, empty database of this cluster.
    pub fn new_database(&self) -> String {
        let name = format!("t{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
        {
            // CREATE DATABASE copies template1, which must have no other session meanwhile.
            let _one = CREATE_DB.lock().unwrap_or_else(|e| e.into_inner());
            run(self.tool("createdb").args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-p",
                &self.port.to_string(),
                &name,
            ]));
        }
        name
    }
}

/// A connector to database `name` of the cluster on `port`.
pub fn connector(port: u16, name: &str) -> Connector {
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname(name);
    Connector::no_tls(config)
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args(["-c", &self.stop_command()])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
