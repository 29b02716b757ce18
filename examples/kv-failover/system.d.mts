// Type declarations for system.mjs (plain JavaScript, no build step).
import type { ChildProcess } from "node:child_process";

export interface SystemOptions {
  /** Asynchronous replication lag of the primary, ms (default 50). */
  lagMs?: number;
  /** Router health-check interval, ms (default 20). */
  checkMs?: number;
  /** Consecutive failed primary health checks before failover (default 2). */
  failAfter?: number;
  /** Router health-check timeout, ms (default 50). */
  checkTimeoutMs?: number;
  /** Interface to bind every process to (default "127.0.0.1"). */
  host?: string;
  /** If given, children's stderr is piped and delivered line by line; otherwise it is inherited. */
  onStderr?: (line: string, name: string) => void;
}

export interface RunningSystem {
  routerUrl: string;
  primaryUrl: string;
  standbyUrl: string;
  pids: { router: number; primary: number; standby: number };
  /** SIGTERM all children (SIGKILL after 1 s); resolves when all exited. Idempotent. */
  stop(): Promise<void>;
}

export function startSystem(options?: SystemOptions): Promise<RunningSystem>;

export interface OutageFixture {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function startOutageFixture(options?: {
  host?: string;
  onStderr?: (line: string, name: string) => void;
}): Promise<OutageFixture>;

export interface ServiceHandle {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves with the port from the child's `LISTENING <port>` line. */
  readonly ready: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  killNow(): void;
}

export function spawnService(
  scriptPath: string,
  args?: string[],
  options?: { name?: string; onStderr?: (line: string, name: string) => void; readyTimeoutMs?: number },
): ServiceHandle;
