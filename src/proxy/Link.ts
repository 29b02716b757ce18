/**
 * One proxied TCP connection: two directions (upstream = client to server, downstream =
 * server to client), each a straight socket-to-socket pipe while no toxic acts on it, and a
 * serial chunk processor running the toxic chain while one does.
 *
 * Why timers and `performance.now()` here rather than Effect's Clock: this is the data path
 * (tens of thousands of chunks a second). A fiber per chunk costs allocations and a scheduler
 * hop on every write, which is what the no-toxic fast path must avoid, and the toxics need
 * sub-millisecond pacing of socket writes that are themselves callback-driven. The proxy is
 * tested against real sockets; nothing in `src/core` depends on these timers.
 *
 * @since 0.1.0
 */
import type * as net from "node:net"
import { direction, type Toxic } from "./Toxics.ts"

interface Active {
  readonly toxic: Toxic
  /** Toxicity, rolled once per connection per direction when the toxic meets the link. */
  readonly enabled: boolean
  /** Per-link state of stateful toxics (bytes counted, pacing clock, timers). */
  readonly state: { sent: number; next: number; timer: NodeJS.Timeout | null }
}

interface Chunk {
  readonly buf: Buffer
  readonly at: number
}

const HIGH_WATER = 1 << 20
const affectsData = (a: Active) => a.enabled && a.toxic.type !== "noop" && a.toxic.type !== "slow_close"

/** One direction of a connection. */
class Pipe {
  chain: Array<Active> = []
  private dataToxics = 0
  private queue: Array<Chunk> = []
  private queued = 0
  private busy = false
  private ended = false
  private pausedByQueue = false
  private wakeUp: (() => void) | null = null

  readonly link: Link
  readonly src: net.Socket
  readonly dst: net.Socket

  constructor(link: Link, src: net.Socket, dst: net.Socket) {
    this.link = link
    this.src = src
    this.dst = dst
  }

  /** Starts reading; `external` when the source delivers through `onRead` (its `onread` option). */
  start(external: boolean) {
    if (!external) this.src.on("data", (buf: Buffer) => this.onData(buf))
    this.src.on("end", () => this.onEnd())
    this.src.resume()
  }

  private readPaused = false
  private readonly resumeRead = () => {
    if (this.readPaused) {
      this.readPaused = false
      this.src.resume()
    }
  }

  /**
   * Data read into the source's single, reused read buffer (`onread`). On the fast path it
   * is written without a copy; when the kernel does not take it at once, reading stops until
   * that write completes, so the buffer is never overwritten while a write holds it. This
   * spares the allocation of a buffer per read, which in a large process (the CLI) costs
   * more in garbage collection than the copy it saves. Returns false to pause reading.
   */
  onRead(n: number, buf: Uint8Array): boolean {
    if (this.dataToxics === 0 && !this.busy) {
      this.dst.write(buf.subarray(0, n), this.resumeRead)
      if (this.dst.writableLength === 0) return true
      this.readPaused = true
      return false
    }
    this.onData(Buffer.from(buf.subarray(0, n)))
    return !this.pausedByQueue
  }

  add(toxic: Toxic) {
    const a: Active = { toxic, enabled: Math.random() < toxic.toxicity, state: { sent: 0, next: 0, timer: null } }
    this.chain.push(a)
    this.recount()
    if (a.enabled && toxic.type === "timeout" && (toxic.attributes.timeout ?? 0) > 0) {
      a.state.timer = setTimeout(() => this.link.close(), toxic.attributes.timeout)
    }
  }

  remove(name: string) {
    const i = this.chain.findIndex((a) => a.toxic.name === name)
    if (i < 0) return
    const [a] = this.chain.splice(i, 1)
    if (a!.state.timer) clearTimeout(a!.state.timer)
    this.recount()
    this.wake()
    // Toxiproxy's timeout toxic closes the connection when it is removed (its cleanup).
    if (a!.enabled && a!.toxic.type === "timeout") this.link.close()
  }

  clear() {
    for (const a of this.chain) if (a.state.timer) clearTimeout(a.state.timer)
    this.chain = []
    this.recount()
    this.wake()
  }

  private recount() {
    this.dataToxics = this.chain.filter(affectsData).length
  }

  wake() {
    const w = this.wakeUp
    this.wakeUp = null
    w?.()
  }

  private onData(buf: Buffer) {
    if (this.dataToxics === 0 && !this.busy) {
      // The fast path: a straight pipe with the same back-pressure as `stream.pipe`.
      if (!this.dst.write(buf)) {
        this.src.pause()
        this.dst.once("drain", () => this.src.resume())
      }
      return
    }
    this.queue.push({ buf, at: performance.now() })
    this.queued += buf.length
    if (this.queued > HIGH_WATER && !this.pausedByQueue) {
      this.pausedByQueue = true
      this.src.pause()
    }
    if (!this.busy) void this.run()
  }

  private onEnd() {
    this.ended = true
    if (!this.busy) void this.finish()
  }

  private async run() {
    this.busy = true
    // Bounded by the queue: each iteration takes one chunk; a closed link stops it.
    while (this.queue.length > 0 && !this.link.closed) {
      const c = this.queue.shift()!
      this.queued -= c.buf.length
      if (this.pausedByQueue && this.queued < HIGH_WATER / 2) {
        this.pausedByQueue = false
        this.src.resume()
      }
      await this.pass(0, c.buf, c.at)
    }
    this.busy = false
    if (this.ended && !this.link.closed) await this.finish()
  }

  private async finish() {
    const slow = this.chain.filter((a) => a.enabled && a.toxic.type === "slow_close")
    const delay = Math.max(0, ...slow.map((a) => a.toxic.attributes.delay ?? 0))
    if (delay > 0) await this.sleepUntil(performance.now() + delay, null)
    if (!this.link.closed) this.dst.end()
  }

  /** Sleeps until `deadline`, or until `toxic` leaves the chain, or the link closes. */
  private async sleepUntil(deadline: number, toxic: Active | null) {
    for (let i = 0; i < 1_000_000; i++) {
      if (this.link.closed) return
      if (toxic !== null && !this.chain.includes(toxic)) return
      const left = deadline - performance.now()
      if (left <= 0) return
      await new Promise<void>((resolve) => {
        // Capped: timers take at most 2^31-1 ms, and `timeout` waits for ever.
        const t = setTimeout(() => {
          if (this.wakeUp === done) this.wakeUp = null
          resolve()
        }, Math.min(left, 3_600_000))
        const done = () => {
          clearTimeout(t)
          resolve()
        }
        this.wakeUp = done
      })
    }
  }

  private async write(buf: Buffer) {
    if (this.link.closed || buf.length === 0) return
    if (!this.dst.write(buf)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.dst.off("drain", done)
          this.dst.off("close", done)
          resolve()
        }
        this.dst.on("drain", done)
        this.dst.on("close", done)
      })
    }
  }

  /** Runs a chunk through the toxics from position `i` of the chain (read live). */
  private async pass(i: number, buf: Buffer, at: number): Promise<void> {
    if (this.link.closed) return
    const a = this.chain[i]
    if (a === undefined) return this.write(buf)
    const next = (b: Buffer) => this.pass(i + 1, b, at)
    if (!a.enabled) return next(buf)
    const attrs = a.toxic.attributes
    switch (a.toxic.type) {
      case "latency": {
        const jitter = attrs.jitter ?? 0
        const delay = (attrs.latency ?? 0) + (jitter > 0 ? (Math.random() * 2 - 1) * jitter : 0)
        await this.sleepUntil(at + delay, a)
        return next(buf)
      }
      case "bandwidth":
        return this.bandwidth(a, buf, at, next)
      case "slicer":
        return this.slicer(a, buf, next)
      case "limit_data":
        return this.limitData(a, buf, next)
      case "timeout": {
        // Hold the data until the toxic is removed (which closes the link) or it fires.
        await this.sleepUntil(Number.POSITIVE_INFINITY, a)
        return this.chain.includes(a) ? undefined : next(buf)
      }
      case "reset_peer": {
        await this.sleepUntil(performance.now() + (attrs.timeout ?? 0), a)
        if (this.chain.includes(a)) {
          this.link.reset()
          return
        }
        return next(buf)
      }
      default:
        return next(buf)
    }
  }

  private async bandwidth(a: Active, buf: Buffer, at: number, next: (b: Buffer) => Promise<void>): Promise<void> {
    const rate = a.toxic.attributes.rate ?? 0 // KB/s, i.e. bytes per millisecond
    if (rate <= 0) return next(buf)
    // Pieces of at most 100 ms worth, paced on a running schedule so timer lateness
    // does not accumulate into a lower rate.
    const piece = Math.max(1, rate * 100)
    for (let off = 0; off < buf.length; off += piece) {
      const part = buf.subarray(off, off + piece)
      // Wait first, then send (as Toxiproxy does). The schedule continues from the
      // previous piece while data is queued (so a late timer is caught up, not lost),
      // and restarts at the chunk's arrival when the link was idle.
      a.state.next = Math.max(a.state.next, at) + part.length / rate
      await this.sleepUntil(a.state.next, a)
      await next(part)
      if (!this.chain.includes(a)) return next(buf.subarray(off + piece))
    }
  }

  private async slicer(a: Active, buf: Buffer, next: (b: Buffer) => Promise<void>): Promise<void> {
    const attrs = a.toxic.attributes
    const avg = attrs.average_size ?? 0
    if (avg <= 0) return next(buf)
    const variation = Math.min(attrs.size_variation ?? 0, avg - 1)
    const delayMs = (attrs.delay ?? 0) / 1000
    for (let off = 0; off < buf.length;) {
      const size = Math.max(1, avg + Math.round((Math.random() * 2 - 1) * variation))
      await next(buf.subarray(off, off + size))
      off += size
      if (!this.chain.includes(a)) return next(buf.subarray(off))
      if (delayMs > 0 && off < buf.length) await this.sleepUntil(performance.now() + delayMs, a)
    }
  }

  private async limitData(a: Active, buf: Buffer, next: (b: Buffer) => Promise<void>): Promise<void> {
    const limit = a.toxic.attributes.bytes ?? 0
    const room = Math.max(0, limit - a.state.sent)
    if (buf.length < room) {
      a.state.sent += buf.length
      return next(buf)
    }
    a.state.sent += room
    await next(buf.subarray(0, room))
    this.link.close()
  }
}

/**
 * A live proxied connection.
 *
 * @since 0.1.0
 */
export class Link {
  closed = false
  readonly up: Pipe
  readonly down: Pipe

  readonly client: net.Socket
  readonly server: net.Socket
  private readonly onClose: (l: Link) => void

  constructor(client: net.Socket, server: net.Socket, toxics: ReadonlyArray<Toxic>, onClose: (l: Link) => void, externalDown = false) {
    this.client = client
    this.server = server
    this.onClose = onClose
    this.up = new Pipe(this, client, server)
    this.down = new Pipe(this, server, client)
    for (const t of toxics) this.add(t)
    const closeBoth = () => this.close()
    client.on("error", closeBoth)
    server.on("error", closeBoth)
    // With half-open sockets, a connection is over once both sides have closed.
    let closes = 0
    const closedOne = () => {
      if (++closes === 2) this.close()
    }
    client.on("close", closedOne)
    server.on("close", closedOne)
    this.up.start(false)
    this.down.start(externalDown)
  }

  /** Adds a toxic to the direction it acts on, rolling its toxicity for this link. */
  add(t: Toxic) {
    ;(direction(t) === "upstream" ? this.up : this.down).add(t)
  }

  /** Removes a toxic by name from the direction it acts on. */
  remove(t: Toxic) {
    ;(direction(t) === "upstream" ? this.up : this.down).remove(t.name)
  }

  /** Closes both sockets (FIN where possible). */
  close() {
    if (this.closed) return
    this.closed = true
    this.up.clear()
    this.down.clear()
    this.client.destroy()
    this.server.destroy()
    this.onClose(this)
  }

  /** Resets both sockets (TCP RST), as `reset_peer` does. */
  reset() {
    if (this.closed) return
    this.closed = true
    this.up.clear()
    this.down.clear()
    this.client.resetAndDestroy()
    this.server.resetAndDestroy()
    this.onClose(this)
  }
}
