/**
 * What one run or service of a component is granted, in the one shape the engine takes
 * (docs/host-protocol.md): everything else is denied, and every grant is enforced by the engine
 * (crates/engine), in one place.
 */

/** A host folder the guest sees at `guest`, read-only or read-write. */
export interface Mount {
  guest: string;
  /** Absolute host path. */
  host: string;
  mode: 'ro' | 'rw';
}

/** Bounds on one run, or on each request and instance of a service (`[limits]`). */
export interface Limits {
  /** Bytes of linear memory one instance may hold, all its memories together. */
  memory?: number;
  /** Milliseconds a run may take. */
  timeoutMs?: number;
  /** Milliseconds one request may take. */
  requestTimeoutMs?: number;
  /** Requests handled at once (one instance each). */
  concurrency?: number;
}

export interface Grants {
  args: string[];
  env: Array<[string, string]>;
  /** Folders preopened for the guest; none means no filesystem at all. */
  mounts?: Mount[];
  /** `[capabilities.network] connect` rules outgoing HTTP may reach; none means no network. */
  connect?: string[];
  limits?: Limits;
}

/** How a run ended. */
export interface RunOutcome {
  status: number;
  /** Why the engine stopped the component, when it trapped (the CLI reports it). */
  trap?: string;
  /** The limit the run reached, when one stopped it. */
  limit?: 'memory' | 'timeout';
  /** What the program wrote to stdout, when it was captured (a build's syntax check). */
  stdout?: Uint8Array;
  /** The engine's own phases, in ms (scripts/profile-run.mjs shows them). */
  phases?: Record<string, number>;
}
