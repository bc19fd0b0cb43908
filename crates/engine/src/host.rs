//! What one instance's store holds: its WASI context (exactly the granted arguments, variables
//! and folders, no sockets), the outbound policy, the app's source, and its limits.

use crate::job::Job;
use crate::outgoing::{Denials, Outgoing};
use crate::policy::Policy;
use crate::prepare::Watch;
use crate::stdio::FdOutput;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// A limit the instance ran into (reported with the outcome, so the error can name it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitHit {
    Memory,
    Timeout,
}

/// Linear memory of all the instance's memories together, bounded by `[limits] memory`.
#[derive(Default)]
pub struct MemoryLimit {
    pub max: Option<usize>,
    pub total: usize,
    pub hit: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        let grow = desired.saturating_sub(current);
        if let Some(max) = self.max {
            if self.total.saturating_add(grow) > max {
                // refused, not trapped: the guest sees an allocation fail (MemoryError in Python)
                self.hit = true;
                return Ok(false);
            }
        }
        self.total += grow;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(desired <= 10_000_000)
    }
}

pub struct Host {
    pub table: ResourceTable,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub outgoing: Outgoing,
    /// The granted variables; `get-environment` adds this instance's denials after them.
    pub env: Vec<(String, String)>,
    pub denials: Denials,
    pub memory: MemoryLimit,
    /// When the run or request must have ended (checked on every epoch tick).
    pub deadline: Option<Instant>,
    pub hit: Option<LimitHit>,
    /// Preparing: what the guest asked of the host once the app's code was reached.
    pub watch: Option<Arc<Watch>>,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.outgoing }
    }
}

/// What every instance of a job shares.
pub struct Shared {
    pub policy: Arc<Policy>,
    pub tls: Arc<rustls::ClientConfig>,
}

/// How an instance's stdio is connected.
pub enum Stdio {
    /// The program's own stdin, stdout and stderr (a run).
    Inherit,
    /// The program's stdin and stderr; stdout kept in memory (a syntax check's report).
    Capture(MemoryOutputPipe),
    /// No stdin; stdout and stderr are the engine's (a serving instance).
    Service,
    /// No stdin; stdout and stderr kept (preparing: anything written there is a side effect
    /// that a snapshot would lose, so it refuses the snapshot).
    Prepare(MemoryOutputPipe, MemoryOutputPipe),
}

impl Host {
    pub fn new(job: &Job, shared: &Shared, stdio: Stdio) -> Result<Host> {
        let mut b = WasiCtxBuilder::new();
        b.args(&job.args);
        match stdio {
            Stdio::Inherit => {
                b.inherit_stdin();
                b.stdout(FdOutput(1));
                b.stderr(FdOutput(2));
            }
            Stdio::Capture(pipe) => {
                b.inherit_stdin();
                b.stdout(pipe);
                b.stderr(FdOutput(2));
            }
            Stdio::Service => {
                b.stdout(FdOutput(1));
                b.stderr(FdOutput(2));
            }
            Stdio::Prepare(out, err) => {
                b.stdout(out);
                b.stderr(err);
            }
        }
        // no sockets and no name lookups: outbound HTTP is the only way out, behind the policy
        b.allow_tcp(false);
        b.allow_udp(false);
        b.allow_ip_name_lookup(false);
        for m in &job.mounts {
            let perms = if m.mode == "rw" { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            b.preopened_dir(&m.host, &m.guest, perms)?;
        }
        let denials: Denials = Default::default();
        Ok(Host {
            table: ResourceTable::new(),
            wasi: b.build(),
            http: WasiHttpCtx::new(),
            outgoing: Outgoing { policy: shared.policy.clone(), tls: shared.tls.clone(), denials: denials.clone(), bridge: None },
            env: job.env.clone(),
            denials,
            memory: MemoryLimit { max: job.limits.memory.map(|m| m as usize), ..Default::default() },
            deadline: None,
            hit: None,
            watch: None,
        })
    }

    /// The limit this instance ran into, if any.
    pub fn limit_hit(&self) -> Option<LimitHit> {
        self.hit.or(if self.memory.hit { Some(LimitHit::Memory) } else { None })
    }
}
