/**
 * Runner processes for the durable tests and benchmarks: `faultline runner` spawned against
 * one PostgreSQL, each on its own loopback port and run folder; journals read back.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"

export const root = path.resolve(import.meta.dirname, "../../..")

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

export interface RunnerProc {
  readonly name: string
  readonly out: string
  readonly child: ChildProcess
  log: string
  exited: Promise<number | null>
}

/** Starts `faultline runner` and waits (at most `timeoutMs`) until it says it joined. */
export const startRunner = async (options: {
  readonly db: string
  readonly out: string
  readonly name: string
  readonly env?: Record<string, string>
  readonly schedule?: string
  readonly timeoutMs?: number
}): Promise<RunnerProc> => {
  const port = await freePort()
  fs.mkdirSync(options.out, { recursive: true, mode: 0o700 })
  const args = ["src/cli/main.ts", "runner", "--db", options.db, "--listen", `127.0.0.1:${port}`, "--out", options.out, "--name", options.name]
  if (options.schedule !== undefined) args.push("--schedule", options.schedule)
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] })
  const r: RunnerProc = {
    name: options.name,
    out: options.out,
    child,
    log: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code)))
  }
  const onData = (c: Buffer) => void (r.log += c.toString("utf8"))
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  while (!r.log.includes("joined the cluster")) {
    if (child.exitCode !== null) throw new Error(`runner ${options.name} exited (${child.exitCode}):\n${r.log}`)
    if (Date.now() > deadline) throw new Error(`runner ${options.name} did not join in time:\n${r.log}`)
    await new Promise((res) => setTimeout(res, 50))
  }
  return r
}

/** Stops a runner (SIGTERM), waiting at most `ms`, then SIGKILL. */
export const stopRunner = async (r: RunnerProc, ms = 10_000) => {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return
  r.child.kill("SIGTERM")
  const t = setTimeout(() => r.child.kill("SIGKILL"), ms)
  await r.exited
  clearTimeout(t)
}

export interface Line {
  readonly wall: number
  readonly event: { readonly _tag: string; readonly [k: string]: unknown }
}

/** The journal of a run folder (empty when it has none yet). */
export const journal = (dir: string): ReadonlyArray<Line> => {
  const f = path.join(dir, "journal.jsonl")
  if (!fs.existsSync(f)) return []
  return fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim() !== "").flatMap((l) => {
    try {
      const o = JSON.parse(l)
      return [{ wall: Number(o.wall ?? o.at), event: o.event }]
    } catch {
      return [] // a line being written
    }
  })
}

/** The run folders under the runners' out directories whose name starts with `prefix`. */
export const runDirs = (outs: ReadonlyArray<string>, prefix = "") =>
  outs.flatMap((o) =>
    fs.existsSync(o) ? fs.readdirSync(o).filter((d) => d.startsWith(prefix) && fs.existsSync(path.join(o, d, "journal.jsonl"))).map((d) => path.join(o, d)) : []
  )

/** `faultline submit` as a child process (not awaited). */
export const submit = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, ["src/cli/main.ts", "submit", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (c: Buffer) => void (output += c.toString("utf8")))
  child.stderr.on("data", (c: Buffer) => void (output += c.toString("utf8")))
  return {
    child,
    done: (timeoutMs: number) =>
      new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL")
          reject(new Error(`submit did not finish in ${timeoutMs} ms:\n${output}`))
        }, timeoutMs)
        child.on("exit", (code) => {
          clearTimeout(t)
          resolve({ code, output })
        })
      })
  }
}

/** Polls `f` every 50 ms until it returns a value, at most `ms`. */
export const waitFor = async <A>(what: string, ms: number, f: () => A | undefined | null | false): Promise<A> => {
  const deadline = Date.now() + ms
  while (true) {
    const v = f()
    if (v !== undefined && v !== null && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}

/** Pids of live processes whose command line contains every one of `parts`, with their state. */
export const processes = (parts: ReadonlyArray<string>) =>
  fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ")
      if (!parts.every((p) => cmd.includes(p))) return []
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
      const st = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!
      return st === "Z" ? [] : [{ pid: Number(pid), state: st }]
    } catch {
      return []
    }
  })
