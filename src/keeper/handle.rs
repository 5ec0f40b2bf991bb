//! The keeper as a background task: [`TokenKeeper::spawn`] and its [`KeeperHandle`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{KeeperReport, TokenKeeper};
use crate::store::TokenStore;

impl<S: TokenStore + 'static> TokenKeeper<S> {
    /// Runs [`TokenKeeper::run_once`] now and then every `interval` (give or take a tenth, at
    /// random, so that many keepers do not call at once), on the current tokio runtime, until
    /// [`KeeperHandle::stop`].
    pub fn spawn(self, interval: Duration) -> KeeperHandle {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let last = Arc::new(Mutex::new(None));
        let keep_last = Arc::clone(&last);
        let task = tokio::spawn(async move {
            loop {
                let report = self.run_once().await;
                tracing::info!(summary = %report.summary(), "token keeper pass");
                if let Ok(mut slot) = keep_last.lock() {
                    *slot = Some(report);
                }
                let jitter = interval.mul_f64(0.9 + 0.2 * fastrand::f64());
                // Asked to stop (or the handle dropped) during the pass or the wait: stop.
                if *stopped.borrow() {
                    break;
                }
                if let Ok(_changed) = tokio::time::timeout(jitter, stopped.changed()).await {
                    break;
                }
            }
        });
        KeeperHandle { stop, task, last }
    }
}

/// A keeper running in the background; see [`TokenKeeper::spawn`].
#[derive(Debug)]
pub struct KeeperHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    last: Arc<Mutex<Option<KeeperReport>>>,
}

impl KeeperHandle {
    /// The report of the last finished pass.
    pub fn last_report(&self) -> Option<KeeperReport> {
        self.last.lock().ok().and_then(|r| r.clone())
    }

    /// Stops after the pass in progress, if any, and waits for it; returns the last report.
    pub async fn stop(self) -> Option<KeeperReport> {
        let KeeperHandle { stop, task, last } = self;
        let _ = stop.send(true);
        let _ = task.await;
        last.lock().ok().and_then(|r| r.clone())
    }
}
