//! Progress of the long workflows (plan, apply, offboard, the keeper, bulk): a typed event for
//! each step started, done or failed, with counts, given to a sink the caller supplies; and an
//! `info`-level `tracing` event for each, so that `RUST_LOG=meta_business=info` shows a long
//! run as it goes.
//!
//! An event never carries a secret: it names what a step does (a change, a token's key, an
//! operation's label) and why it failed as the crate's errors say it, which are scrubbed.

use std::fmt;
use std::sync::Arc;

/// Which workflow an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Workflow {
    /// [`provision::plan`](crate::provision::plan): one step per system user of the desired
    /// state.
    Plan,
    /// [`Plan::apply`](crate::provision::Plan::apply): one step per change.
    Apply,
    /// [`provision::offboard`](crate::provision::offboard): one step per write.
    Offboard,
    /// A [`TokenKeeper`](crate::keeper::TokenKeeper) pass or rotation: one step per token.
    Keeper,
    /// [`BulkRequest::send`](crate::bulk::BulkRequest::send): one step per operation.
    Bulk,
    /// [`provision::audit`](crate::provision::audit): one step per part it reads (system
    /// users, owned assets, what each user holds, partners, tokens).
    Audit,
}

impl Workflow {
    /// Its name, as events and log lines show it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Workflow::Plan => "plan",
            Workflow::Apply => "apply",
            Workflow::Offboard => "offboard",
            Workflow::Keeper => "keeper",
            Workflow::Bulk => "bulk",
            Workflow::Audit => "audit",
        }
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of a workflow's progress. Steps are numbered from 1; `total` is the number of
/// steps when it is known before they run.
///
/// ```
/// use meta_business::progress::{Progress, Workflow};
/// let event = Progress::Done { workflow: Workflow::Apply, index: 2, total: Some(5), what: "+ install app 2000000000001 for \"ads\"".into() };
/// assert_eq!(event.to_string(), "apply [2/5] done: + install app 2000000000001 for \"ads\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The workflow starts.
    Started {
        /// Which.
        workflow: Workflow,
        /// How many steps it will take, when known.
        total: Option<usize>,
    },
    /// A step starts.
    Step {
        /// Which workflow.
        workflow: Workflow,
        /// Its number, from 1.
        index: usize,
        /// How many steps in all, when known.
        total: Option<usize>,
        /// What it does.
        what: String,
    },
    /// A step is done.
    Done {
        /// Which workflow.
        workflow: Workflow,
        /// Its number, from 1.
        index: usize,
        /// How many steps in all, when known.
        total: Option<usize>,
        /// What it did.
        what: String,
    },
    /// A step failed.
    Failed {
        /// Which workflow.
        workflow: Workflow,
        /// Its number, from 1.
        index: usize,
        /// How many steps in all, when known.
        total: Option<usize>,
        /// What it was doing.
        what: String,
        /// Why it failed (the error's text, which holds no secret).
        why: String,
    },
    /// The workflow is over.
    Finished {
        /// Which.
        workflow: Workflow,
        /// Steps done.
        done: usize,
        /// Steps failed.
        failed: usize,
    },
}

/// `[3/7]`, or `[3]` when the total is not known.
struct Count(usize, Option<usize>);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(total) => write!(f, "[{}/{total}]", self.0),
            None => write!(f, "[{}]", self.0),
        }
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Started {
                workflow,
                total: Some(total),
            } => write!(f, "{workflow} started: {total} step(s)"),
            Progress::Started { workflow, .. } => write!(f, "{workflow} started"),
            Progress::Step {
                workflow,
                index,
                total,
                what,
            } => write!(f, "{workflow} {} {what}", Count(*index, *total)),
            Progress::Done {
                workflow,
                index,
                total,
                what,
            } => write!(f, "{workflow} {} done: {what}", Count(*index, *total)),
            Progress::Failed {
                workflow,
                index,
                total,
                what,
                why,
            } => write!(
                f,
                "{workflow} {} FAILED: {what}: {why}",
                Count(*index, *total)
            ),
            Progress::Finished {
                workflow,
                done,
                failed,
            } => write!(f, "{workflow} finished: {done} done, {failed} failed"),
        }
    }
}

/// Where a workflow's [`Progress`] events go: a function called with each, in order, on the
/// task running the workflow.
///
/// A plain function rather than a channel: it costs nothing when absent, needs no runtime,
/// cannot fill up or lose an event, and forwards to whatever the caller uses (a progress bar,
/// a log, a `tokio::sync::mpsc` sender: `move |p| { let _ = tx.send(p.clone()); }`). It is
/// called between the workflow's requests, so it should return quickly.
///
/// ```
/// use meta_business::progress::ProgressSink;
/// let sink = ProgressSink::new(|event| eprintln!("{event}"));
/// # let _ = sink;
/// ```
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Fn(&Progress) + Send + Sync>);

impl ProgressSink {
    /// A sink calling `f` with each event.
    pub fn new(f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        ProgressSink(Arc::new(f))
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink(..)")
    }
}

/// A workflow's counts, and its events given to the sink (if any) and to `tracing`.
pub(crate) struct Reporter<'a> {
    sink: Option<&'a ProgressSink>,
    workflow: Workflow,
    total: Option<usize>,
    index: usize,
    done: usize,
    failed: usize,
    /// The step started and not yet done or failed.
    open: Option<String>,
}

impl<'a> Reporter<'a> {
    /// The workflow starts.
    pub(crate) fn start(
        sink: Option<&'a ProgressSink>,
        workflow: Workflow,
        total: Option<usize>,
    ) -> Self {
        let reporter = Reporter {
            sink,
            workflow,
            total,
            index: 0,
            done: 0,
            failed: 0,
            open: None,
        };
        tracing::info!(workflow = workflow.as_str(), total, "started");
        reporter.emit(Progress::Started { workflow, total });
        reporter
    }

    fn emit(&self, event: Progress) {
        if let Some(sink) = self.sink {
            (sink.0)(&event);
        }
    }

    /// The next step starts.
    pub(crate) fn step(&mut self, what: impl Into<String>) {
        self.index += 1;
        let what = what.into();
        self.open = Some(what.clone());
        self.emit(Progress::Step {
            workflow: self.workflow,
            index: self.index,
            total: self.total,
            what,
        });
    }

    /// The step started (if any) is done, and the next starts.
    pub(crate) fn next(&mut self, what: impl Into<String>) {
        self.done();
        self.step(what);
    }

    /// The step started is done.
    pub(crate) fn done(&mut self) {
        self.done_as(None);
    }

    /// A keeper's token step: done (said as its report's line) unless a step of it failed.
    pub(crate) fn settle(&mut self, report: &crate::keeper::TokenReport) {
        match &report.failed {
            Some((step, why)) => self.failed(format_args!("{step:?}: {why}")),
            None => self.done_as(Some(report.to_string())),
        }
    }

    /// The step started is done; `said` replaces what it was started as.
    fn done_as(&mut self, said: Option<String>) {
        let Some(started) = self.open.take() else {
            return;
        };
        let what = said.unwrap_or(started);
        self.done += 1;
        tracing::info!(
            workflow = self.workflow.as_str(),
            step = self.index,
            total = self.total,
            what = %what,
            "done"
        );
        self.emit(Progress::Done {
            workflow: self.workflow,
            index: self.index,
            total: self.total,
            what,
        });
    }

    /// The step started failed.
    pub(crate) fn failed(&mut self, why: impl fmt::Display) {
        let Some(what) = self.open.take() else { return };
        self.failed += 1;
        let why = why.to_string();
        tracing::warn!(
            workflow = self.workflow.as_str(),
            step = self.index,
            total = self.total,
            what = %what,
            why = %why,
            "failed"
        );
        self.emit(Progress::Failed {
            workflow: self.workflow,
            index: self.index,
            total: self.total,
            what,
            why,
        });
    }

    /// The workflow is over; a step still open failed with `why`.
    pub(crate) fn finish(mut self, why: Option<&dyn fmt::Display>) {
        if let Some(why) = why {
            if self.open.is_none() {
                self.step(format!("{}", self.workflow));
            }
            self.failed(why);
        }
        tracing::info!(
            workflow = self.workflow.as_str(),
            done = self.done,
            failed = self.failed,
            "finished"
        );
        self.emit(Progress::Finished {
            workflow: self.workflow,
            done: self.done,
            failed: self.failed,
        });
    }
}
