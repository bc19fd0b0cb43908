//! What fabricks asks the engine to do: one job, the first JSON line on the channel
//! (docs/host-protocol.md). Every grant arrives here, already resolved by fabricks from the
//! artifact and the run's flags; the engine enforces exactly these and nothing else.

use serde::Deserialize;

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `wasi:cli/run`, with the program's stdio.
    Run,
    /// `wasi:http/incoming-handler` on `listen`, until the channel closes.
    Serve,
    /// Compile `main` and `source` for this machine into the cache, and run nothing: a pull or
    /// `fabricks prepare` does it, so that no client's spawn waits for it.
    Compile,
    /// Make the pre-initialized form of `main` (a runtime layer) for the app `source` answers,
    /// kept in the cache under `prepared` (prepare.rs), or record why it cannot be made.
    Prepare,
}

/// A component file and the hex of its digest (the key of its compiled form).
#[derive(Deserialize, Debug, Clone)]
pub struct ComponentFile {
    pub path: String,
    pub hex: String,
    /// Report compiling it (a runtime takes seconds; a module layer, milliseconds).
    #[serde(default)]
    pub announce: bool,
    /// Only its compiled form in the cache will do (a prepared form, which `path` cannot remake).
    #[serde(default)]
    pub cached_only: bool,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Mount {
    pub guest: String,
    pub host: String,
    /// "ro" or "rw"
    pub mode: String,
}

/// One `[capabilities.network] connect` rule, parsed by fabricks (src/config/connect-rules.ts).
#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConnectRule {
    /// A host name as written, or any subdomain of it; no port means 80 and 443.
    Host { host: String, wildcard: bool, port: Option<u16> },
    /// An address block (a single address is a /32 or /128); no port means any port.
    Cidr { address: String, prefix: u8, port: Option<u16> },
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct Limits {
    /// Bytes of linear memory one instance may hold, all its memories together.
    pub memory: Option<u64>,
    /// Milliseconds a run may take.
    pub timeout_ms: Option<u64>,
    /// Milliseconds one request may take, from its arrival to the end of its response.
    pub request_timeout_ms: Option<u64>,
    /// Requests handled at once (one instance each).
    pub concurrency: Option<usize>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Listen {
    pub host: String,
    pub port: u16,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Job {
    pub mode: Mode,
    /// The folder compiled components are kept in, one sub-folder per digest.
    pub cache: String,
    /// The component to run: a fabricks runtime layer, or a whole component.
    pub main: ComponentFile,
    /// The app's module layer, answering the runtime's `fabricks:app/source`.
    pub source: Option<ComponentFile>,
    /// `fabricks:app/source` answered from files sent with the job (a build's syntax check):
    /// `{ "entrypoint": path, "files": { path: base64 } }`.
    pub files: Option<serde_json::Value>,
    /// Keep the program's stdout and return it with the outcome instead of writing it out.
    #[serde(default)]
    pub capture_stdout: bool,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    #[serde(default)]
    pub connect: Vec<ConnectRule>,
    /// PEM files of certificate roots trusted besides the built-in ones (NODE_EXTRA_CA_CERTS).
    #[serde(default)]
    pub extra_roots: Vec<String>,
    #[serde(default)]
    pub limits: Limits,
    pub listen: Option<Listen>,
    /// Serving: keep an instance from request to request (fabricks' own runtimes) or make a
    /// fresh one for each (a component fabricks did not build).
    #[serde(default)]
    pub reuse_instances: bool,
    /// Serving: offer the first instance the accept loop (accept.rs); it takes it or declines.
    #[serde(default)]
    pub accept_loop: bool,
    /// Preparing: the cache key (hex) of the pre-initialized form to make.
    #[serde(default)]
    pub prepared: Option<String>,
}
