/**
 * (d) Network proxy: direct vs embedded proxy vs real Toxiproxy, on loopback.
 *
 *   - added latency per small request: 64-byte round trips through an echo server, 24
 *     interleaved rounds of 250 per path; added = proxied percentile - direct percentile of
 *     the same round; the rows give the median over rounds (pooled figures are logged)
 *   - bulk throughput: a blast server sends 256 MB; MB/s to the last byte (median of 7)
 *   - latency toxic accuracy: a 50 ms downstream latency toxic; added round-trip time
 *   - bandwidth toxic accuracy: 5000 KB/s; 10 MB; KB/s to the last byte
 *
 * The embedded proxy runs as `faultline proxy` in its own process, as the real Toxiproxy
 * does, so neither shares the event loop of the load generator.
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { percentile, type Row, row, summary } from "./stats.ts"

const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))

const findToxiproxy = (): string | null => {
  const c: Array<string> = []
  if (process.env.TOXIPROXY_SERVER) {
    c.push(process.env.TOXIPROXY_SERVER)
  } else {
    for (const d of (process.env.PATH ?? "").split(path.delimiter)) if (d) c.push(path.join(d, "toxiproxy-server"))
    try {
      c.push(
        path.join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim(), "bin", "server")
      )
    } catch {
      // no Go
    }
    c.push(path.join(os.homedir(), "go", "bin", "server"))
  }
  return c.find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  }) ?? null
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Api {
  readonly url: string
  readonly pid: number
  readonly stop: () => Promise<void>
}

/** CPU time (user + system) a process has used, ms; Linux /proc; NaN elsewhere. */
const cpuMs = (pid: number): number => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(f[11]) + Number(f[12])) * (1000 / 100)
  } catch {
    return Number.NaN
  }
}

const startChild = async (cmd: string, args: Array<string>, url: (out: string) => string | null): Promise<Api> => {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"] })
  let out = ""
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d))
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once("exit", () => resolve())
      child.kill("SIGTERM")
    })
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    const u = url(out)
    if (u !== null) {
      try {
        if ((await fetch(`${u}/version`)).ok) return { url: u, pid: child.pid!, stop }
      } catch {
        // not yet
      }
    }
    await sleep(50)
  }
  await stop()
  throw new Error(`${cmd} did not start`)
}

const startEmbedded = () =>
  // No API token: the benchmark measures the data path, and its set-up calls send no header.
  startChild(process.execPath, [MAIN, "proxy", "--no-token", "--listen", "127.0.0.1:0"], (out) => /listening on (http:\S+)/.exec(out)?.[1] ?? null)

const startReal = async (bin: string) => {
  const port = await freePort()
  return startChild(bin, ["-host", "127.0.0.1", "-port", String(port)], () => `http://127.0.0.1:${port}`)
}

const api = async (url: string, method: string, p: string, body?: object) => {
  const r = await fetch(`${url}${p}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) })
  const text = await r.text()
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`)
  return text ? JSON.parse(text) : null
}

const proxyTo = async (url: string, name: string, upstream: string): Promise<string> => {
  await fetch(`${url}/proxies/${name}`, { method: "DELETE" })
  const p = await api(url, "POST", "/proxies", { name, listen: "127.0.0.1:0", upstream })
  return p.listen as string
}

const listen = async (handler: (c: net.Socket) => void) => {
  const s = net.createServer({ noDelay: true }, (c) => {
    c.setNoDelay(true)
    c.on("error", () => {})
    handler(c)
  })
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
  return { addr: `127.0.0.1:${(s.address() as net.AddressInfo).port}`, server: s }
}

const connect = (addr: string) =>
  new Promise<net.Socket>((resolve, reject) => {
    const i = addr.lastIndexOf(":")
    const c = net.connect({ host: "127.0.0.1", port: Number(addr.slice(i + 1)), noDelay: true }, () => resolve(c))
    c.once("error", reject)
  })

/** Round-trip times (ms) of `n` sequential 64-byte messages through an echo path. */
const roundTrips = async (addr: string, n: number, warmup: number): Promise<Array<number>> => {
  const c = await connect(addr)
  const msg = Buffer.alloc(64, 1)
  const out: Array<number> = []
  try {
    for (let i = 0; i < n + warmup; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve, reject) => {
        let got = 0
        const timer = setTimeout(() => reject(new Error("round trip timed out")), 10_000)
        const onData = (d: Buffer) => {
          got += d.length
          if (got >= msg.length) {
            clearTimeout(timer)
            c.off("data", onData)
            resolve()
          }
        }
        c.on("data", onData)
        c.write(msg)
      })
      if (i >= warmup) out.push(performance.now() - t0)
    }
  } finally {
    c.destroy()
  }
  return out
}

/** ms until `bytes` bytes arrived from a blast path. */
const receive = async (addr: string, bytes: number): Promise<number> => {
  const t0 = performance.now()
  const c = await connect(addr)
  try {
    return await new Promise<number>((resolve, reject) => {
      let got = 0
      const timer = setTimeout(() => reject(new Error(`received ${got}/${bytes} bytes in 60 s`)), 60_000)
      c.on("data", (d: Buffer) => {
        got += d.length
        if (got >= bytes) {
          clearTimeout(timer)
          resolve(performance.now() - t0)
        }
      })
      c.once("error", reject)
    })
  } finally {
    c.destroy()
  }
}

const median = (xs: Array<number>) => percentile(xs, 50)

export const run = async (options: { readonly log: (line: string) => void }): Promise<Array<Row>> => {
  const { log } = options
  const BULK = 256 * 1024 * 1024
  const chunk = Buffer.alloc(1024 * 1024, 0x5a)
  const echo = await listen((c) => c.pipe(c))
  // A server that sends each client `size` bytes.
  const blastOf = (size: number) =>
    listen((c) => {
      let sent = 0
      const pump = () => {
        while (sent < size) {
          const n = Math.min(chunk.length, size - sent)
          sent += n
          if (!c.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void c.once("drain", pump)
        }
      }
      pump()
    })
  const bulk = await blastOf(BULK)
  const BW_BYTES = 10 * 1000 * 1000
  const bw = await blastOf(BW_BYTES)
  const servers = [echo.server, bulk.server, bw.server]

  const bin = findToxiproxy()
  const embedded = await startEmbedded()
  const real = bin === null ? null : await startReal(bin)
  const missing = "real toxiproxy-server missing: not compared"
  try {
    // The machine may be shared: measurements of the three paths are interleaved in rounds
    // so that background load falls on all of them alike.
    const ROUNDS = 24
    const PER_ROUND = 250
    const realEcho = real ? await proxyTo(real.url, "bench-echo", echo.addr) : null
    const embEcho = await proxyTo(embedded.url, "bench-echo", echo.addr)
    const realBulk = real ? await proxyTo(real.url, "bench-bulk", bulk.addr) : null
    const embBulk = await proxyTo(embedded.url, "bench-bulk", bulk.addr)
    // Steady state, not start-up: the JIT warms every path, and the garbage a freshly started
    // process leaves (the CLI's modules) is collected before anything is timed.
    for (const a of [bulk.addr, realBulk, embBulk]) if (a) await receive(a, BULK)
    for (const a of [echo.addr, realEcho, embEcho]) if (a) await roundTrips(a, 0, 2000)
    await sleep(2000)
    const direct: Array<number> = []
    const realRtt: Array<number> = []
    const embRtt: Array<number> = []
    // Per round: the microseconds each proxy adds at p50/p95/p99 over that round's direct
    // figure. A burst of load on the shared machine lands on one round of one path; the
    // median over rounds of these paired figures is what the goal is judged on, the pooled
    // percentiles are logged beside it.
    const perRound = { real: [] as Array<Record<"p50" | "p95" | "p99", number>>, emb: [] as Array<Record<"p50" | "p95" | "p99", number>> }
    const added = (rtt: Array<number>, base: Array<number>) => ({
      p50: (percentile(rtt, 50) - percentile(base, 50)) * 1000,
      p95: (percentile(rtt, 95) - percentile(base, 95)) * 1000,
      p99: (percentile(rtt, 99) - percentile(base, 99)) * 1000
    })
    for (let r = 0; r < ROUNDS; r++) {
      const d = await roundTrips(echo.addr, PER_ROUND, 20)
      direct.push(...d)
      if (realEcho) {
        const x = await roundTrips(realEcho, PER_ROUND, 20)
        realRtt.push(...x)
        perRound.real.push(added(x, d))
      }
      const e = await roundTrips(embEcho, PER_ROUND, 20)
      embRtt.push(...e)
      perRound.emb.push(added(e, d))
    }
    log(`  direct round trip: ${summary(direct)}`)
    if (real) log(`  real Toxiproxy round trip: ${summary(realRtt)}`)
    log(`  embedded round trip: ${summary(embRtt)}`)
    const fmt = (a: Record<"p50" | "p95" | "p99", number>) => `p50 ${a.p50.toFixed(1)}, p95 ${a.p95.toFixed(1)}, p99 ${a.p99.toFixed(1)} us`
    if (real) log(`  added, pooled: real ${fmt(added(realRtt, direct))}; embedded ${fmt(added(embRtt, direct))}`)
    const medianOf = (xs: Array<Record<"p50" | "p95" | "p99", number>>) => ({
      p50: median(xs.map((x) => x.p50)),
      p95: median(xs.map((x) => x.p95)),
      p99: median(xs.map((x) => x.p99))
    })
    const realAdded = real ? medianOf(perRound.real) : null
    const embAdded = medianOf(perRound.emb)
    log(`  added, median over ${ROUNDS} rounds: ${realAdded ? `real ${fmt(realAdded)}; ` : ""}embedded ${fmt(embAdded)}`)

    const directMs: Array<number> = []
    const realMs: Array<number> = []
    const embMs: Array<number> = []
    // CPU the proxy process spends per GB moved: insensitive to other load on the machine.
    const realCpu: Array<number> = []
    const embCpu: Array<number> = []
    const timed = async (addr: string, api: Api, cpu: Array<number>) => {
      const c0 = cpuMs(api.pid)
      const ms = await receive(addr, BULK)
      cpu.push((cpuMs(api.pid) - c0) / (BULK / 1e9))
      return ms
    }
    for (let r = 0; r < 7; r++) {
      directMs.push(await receive(bulk.addr, BULK))
      if (realBulk && real) realMs.push(await timed(realBulk, real, realCpu))
      embMs.push(await timed(embBulk, embedded, embCpu))
    }
    const mbs = (ms: Array<number>) => BULK / 1e6 / (median(ms) / 1000)
    const directMBs = mbs(directMs)
    const realMBs = real ? mbs(realMs) : null
    const embMBs = mbs(embMs)
    log(`  throughput MB/s (median of 7): direct ${directMBs.toFixed(0)}, real ${realMBs?.toFixed(0) ?? "-"}, embedded ${embMBs.toFixed(0)}`)
    log(`  proxy CPU ms per GB: real ${real ? summary(realCpu, "ms") : "-"}; embedded ${summary(embCpu, "ms")}`)
    const realCpuPerGb = real ? median(realCpu) : null
    const embCpuPerGb = median(embCpu)

    const latencyToxic = async (a: Api) => {
      const addr = await proxyTo(a.url, "bench-lat", echo.addr)
      await api(a.url, "POST", "/proxies/bench-lat/toxics", { type: "latency", attributes: { latency: 50, jitter: 0 } })
      const rtt = await roundTrips(addr, 60, 3)
      const base = median(direct)
      return rtt.map((x) => x - base)
    }
    const realLat = real ? await latencyToxic(real) : null
    const embLat = await latencyToxic(embedded)
    log(`  latency toxic 50 ms, added: embedded ${summary(embLat)}${realLat ? `; real ${summary(realLat)}` : ""}`)

    const bandwidth = async (a: Api) => {
      const addr = await proxyTo(a.url, "bench-bw", bw.addr)
      await api(a.url, "POST", "/proxies/bench-bw/toxics", { type: "bandwidth", attributes: { rate: 5000 } })
      const ms = await receive(addr, BW_BYTES)
      return BW_BYTES / 1000 / (ms / 1000)
    }
    const realBw = real ? await bandwidth(real) : null
    const embBw = await bandwidth(embedded)
    log(`  bandwidth toxic 5000 KB/s: embedded ${embBw.toFixed(0)} KB/s${realBw ? `, real ${realBw.toFixed(0)} KB/s` : ""}`)

    const within = (x: number, target: number, tol: number) => Math.abs(x - target) <= tol
    return [
      row({
        name: "proxy: round trip, direct (64 B)",
        unit: "us",
        baseline: null,
        measured: percentile(direct, 50) * 1000,
        p50: percentile(direct, 50) * 1000,
        p95: percentile(direct, 95) * 1000,
        p99: percentile(direct, 99) * 1000,
        goal: null,
        met: null
      }),
      row({
        name: "proxy: added latency, real Toxiproxy",
        unit: "us",
        baseline: null,
        measured: realAdded?.p50 ?? null,
        p50: realAdded?.p50 ?? null,
        p95: realAdded?.p95 ?? null,
        p99: realAdded?.p99 ?? null,
        goal: real ? null : missing,
        met: null
      }),
      row({
        name: "proxy: added latency, embedded",
        unit: "us",
        baseline: realAdded?.p50 ?? null,
        measured: embAdded.p50,
        p50: embAdded.p50,
        p95: embAdded.p95,
        p99: embAdded.p99,
        goal: realAdded ? "p50 and p99 <= real's (median of 24 paired rounds)" : missing,
        met: realAdded ? embAdded.p50 <= realAdded.p50 && embAdded.p99 <= realAdded.p99 : null
      }),
      row({ name: "proxy: throughput, direct", unit: "MB/s", baseline: null, measured: directMBs, p50: null, p95: null, p99: null, goal: null, met: null }),
      row({
        name: "proxy: throughput, real Toxiproxy",
        unit: "MB/s",
        baseline: directMBs,
        measured: realMBs,
        p50: null,
        p95: null,
        p99: null,
        goal: real ? null : missing,
        met: null
      }),
      row({
        name: "proxy: throughput, embedded",
        unit: "MB/s",
        baseline: realMBs,
        measured: embMBs,
        p50: null,
        p95: null,
        p99: null,
        goal: realMBs !== null ? ">= real Toxiproxy's" : missing,
        met: realMBs !== null ? embMBs >= realMBs : null
      }),
      row({
        name: "proxy: CPU per GB moved, real Toxiproxy",
        unit: "ms",
        baseline: null,
        measured: realCpuPerGb,
        p50: realCpuPerGb,
        p95: null,
        p99: null,
        goal: real ? null : missing,
        met: null
      }),
      row({
        name: "proxy: CPU per GB moved, embedded",
        unit: "ms",
        baseline: realCpuPerGb,
        measured: embCpuPerGb,
        p50: embCpuPerGb,
        p95: null,
        p99: null,
        goal: realCpuPerGb !== null ? "<= real Toxiproxy's" : missing,
        met: realCpuPerGb !== null && Number.isFinite(embCpuPerGb) ? embCpuPerGb <= realCpuPerGb : null
      }),
      row({
        name: "proxy: latency toxic 50 ms, real Toxiproxy",
        unit: "ms",
        baseline: 50,
        measured: realLat ? median(realLat) : null,
        p50: realLat ? percentile(realLat, 50) : null,
        p95: realLat ? percentile(realLat, 95) : null,
        p99: realLat ? percentile(realLat, 99) : null,
        goal: real ? null : missing,
        met: null
      }),
      row({
        name: "proxy: latency toxic 50 ms, embedded",
        unit: "ms",
        baseline: 50,
        measured: median(embLat),
        p50: percentile(embLat, 50),
        p95: percentile(embLat, 95),
        p99: percentile(embLat, 99),
        goal: "median within 50 +- 5 ms",
        met: within(percentile(embLat, 50), 50, 5)
      }),
      row({
        name: "proxy: bandwidth toxic 5000 KB/s, real Toxiproxy",
        unit: "KB/s",
        baseline: 5000,
        measured: realBw,
        p50: null,
        p95: null,
        p99: null,
        goal: real ? null : missing,
        met: null
      }),
      row({
        name: "proxy: bandwidth toxic 5000 KB/s, embedded",
        unit: "KB/s",
        baseline: 5000,
        measured: embBw,
        p50: null,
        p95: null,
        p99: null,
        goal: "5000 KB/s +- 5%",
        met: within(embBw, 5000, 250)
      })
    ]
  } finally {
    await embedded.stop()
    await real?.stop()
    for (const s of servers) {
      s.close()
    }
  }
}
