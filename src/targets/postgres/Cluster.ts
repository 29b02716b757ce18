/**
 * `PgCluster`: a real PostgreSQL primary and streaming standby on this host, for tests and
 * examples (what testcontainers is to containers). `initdb` into a fresh folder as the
 * unprivileged `postgres` OS user, loopback ports, the standby made with `pg_basebackup -R`
 * and streaming through a replication proxy (the embedded fault proxy unless another
 * Toxiproxy API is given), so network faults act on the replication link. Stopped and
 * deleted when its scope closes; labelled (see Registry.ts) so that `faultline recover` finds
 * and removes it after its owner was killed.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as EmbeddedProxy from "../../proxy/EmbeddedProxy.ts"
import { type Api, create as createProxy, remove as removeProxy, retarget } from "./internal/Proxy.ts"
import * as Server from "./internal/Server.ts"
import * as Topology from "./internal/Topology.ts"
import { DEFAULT_BIN, idOf, type PgClusterSpec, type PgNode, toData } from "./Node.ts"
import { PostgresError } from "./PostgresError.ts"
import * as Registry from "./Registry.ts"
import * as Sql from "./Sql.ts"

/** How to start a cluster. @since 0.1.0 */
export interface PgClusterOptions {
  /** The cluster's name (targets are `NAME/pg1`, `NAME/pg2`); default `pg-` + random. */
  readonly name?: string | undefined
  /** Server binaries (default Debian's PostgreSQL 15). */
  readonly bin?: string | undefined
  /** The OS user owning the data directories when this process is root (default `postgres`). */
  readonly osUser?: string | undefined
  /** The superuser's password over TCP (default: random for this cluster). */
  readonly password?: Redacted.Redacted<string> | string | undefined
  /** Extra postgresql.conf settings (both nodes). */
  readonly settings?: Readonly<Record<string, string | number | boolean>> | undefined
  /** The Toxiproxy API for the replication proxy (default: an embedded proxy for this scope). */
  readonly proxy?: Api | undefined
  /** The run id to label the cluster with (what `faultline recover --run` matches). */
  readonly runId?: string | undefined
}

/**
 * A running cluster.
 *
 * @since 0.1.0
 */
export class PgCluster extends Context.Service<PgCluster, {
  readonly name: string
  /** What the driver is configured with (allowed: a cluster faultline started is a test cluster). */
  readonly spec: PgClusterSpec
  /** The node started as the primary (`pg1`) and as the standby (`pg2`). */
  readonly primary: PgNode
  readonly standby: PgNode
  readonly nodes: ReadonlyArray<PgNode>
  readonly node: (name: string) => PgNode
  /** The replication proxy: its name on the API (what network faults select) and the API. */
  readonly replication: { readonly proxy: string; readonly api: Api; readonly port: number }
  /** Which node accepts writes now (pg_is_in_recovery = false and running). */
  readonly writer: Effect.Effect<PgNode, PostgresError>
  /** Points the replication proxy at `writer` and returns where a standby should stream from. */
  readonly relink: (writer: PgNode) => Effect.Effect<Topology.Upstream, PostgresError>
  /** Sets synchronous replication on the writer: `remote_apply` on every standby (`*`), or off. */
  readonly setSynchronous: (mode: "off" | "remote_write" | "on" | "remote_apply") => Effect.Effect<void, PostgresError>
  /** Stops a node's server (`fast`: clean shutdown; `immediate`: no checkpoint). */
  readonly stop: (node: PgNode, mode?: "fast" | "immediate") => Effect.Effect<void, PostgresError>
  /** Starts a node's server in whatever role its data directory says. */
  readonly start: (node: PgNode) => Effect.Effect<void, PostgresError>
  /** The runner of the server programs (bin folder, OS user). */
  readonly runner: Server.Runner
  /** The folder holding everything of the cluster (deleted with the scope). */
  readonly session: string
}>()("faultline/PgCluster") {
  /**
   * Starts a primary and a streaming standby for the life of the layer's scope.
   *
   * @example
   * ```ts
   * const program = Effect.gen(function*() {
   *   const cluster = yield* PgCluster
   *   yield* Postgres.Sql.query(cluster.primary, "select 1")
   * }).pipe(Effect.provide(PgCluster.layer({ name: "orders" })))
   * ```
   * @since 0.1.0
   */
  static readonly layer = (options: PgClusterOptions = {}): Layer.Layer<PgCluster, PostgresError> => Layer.effect(PgCluster, start(options))
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const confValue = (v: string | number | boolean) =>
  typeof v === "string" ? `'${v.replace(/'/g, "''")}'` : typeof v === "boolean" ? (v ? "on" : "off") : String(v)

// Settings both nodes share (postgresql.conf is copied by pg_basebackup and pg_rewind);
// what differs per node lives in ../node.conf. wal_log_hints makes pg_rewind possible.
const sharedConf = (extra: PgClusterOptions["settings"]) =>
  [
    "listen_addresses = '127.0.0.1'",
    "wal_level = replica",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    "wal_keep_size = '256MB'",
    "hot_standby = on",
    "hot_standby_feedback = on",
    "wal_log_hints = on",
    "wal_receiver_timeout = '5s'",
    "wal_retrieve_retry_interval = '100ms'",
    "shared_buffers = '32MB'",
    "max_connections = 60",
    "log_line_prefix = '%m [%p] '",
    ...Object.entries(extra ?? {}).map(([k, v]) => `${k} = ${confValue(v)}`),
    `include_if_exists = '../${Topology.NODE_CONF}'`
  ].join("\n")

const HBA = (method: string) =>
  ["local all all trust", "local replication all trust", `host all all 127.0.0.1/32 ${method}`, `host replication all 127.0.0.1/32 ${method}`].join("\n")

interface Made {
  readonly session: string
  readonly runner: Server.Runner
  readonly nodes: Array<PgNode>
}

// The session folder, its descriptor (written before anything runs), and each node's folder.
const layout = (name: string, r: Server.Runner, options: PgClusterOptions, password: Redacted.Redacted<string>, nowMs: number) =>
  Effect.tryPromise({
    try: async (): Promise<Made> => {
      const base = Registry.ensureRoot()
      const session = fs.mkdtempSync(path.join(base, `${name}-`))
      fs.chmodSync(session, 0o711)
      const nodes: Array<PgNode> = []
      for (const n of ["pg1", "pg2"]) {
        const dir = path.join(session, n)
        Server.ownedDir(r, dir)
        Server.ownedDir(r, path.join(dir, "sock"))
        const port = await freePort()
        Server.ownedFile(r, path.join(dir, Topology.PASSFILE), `127.0.0.1:*:*:postgres:${Redacted.value(password).replace(/[:\\]/g, "\\$&")}\n`)
        nodes.push({
          cluster: name,
          name: n,
          host: "127.0.0.1",
          port,
          user: "postgres",
          database: "postgres",
          password,
          dataDir: path.join(dir, "data"),
          socketDir: path.join(dir, "sock")
        })
      }
      Registry.write({
        kind: "faultline-postgres-cluster",
        name,
        session,
        owner: `${os.hostname()}:${process.pid}`,
        ...(options.runId !== undefined ? { runId: options.runId } : {}),
        bin: r.bin,
        osUser: r.as?.name ?? os.userInfo().username,
        createdAt: new Date(nowMs).toISOString(),
        nodes: nodes.map((n) => ({ name: n.name, port: n.port, dataDir: n.dataDir! }))
      })
      return { session, runner: r, nodes }
    },
    catch: (e) => new PostgresError({ reason: "InvalidInput", target: name, operation: "layout", detail: (e as Error).message })
  })

const initPrimary = (m: Made, name: string, settings: PgClusterOptions["settings"], password: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const p = m.nodes[0]!
    const pwfile = path.join(path.dirname(p.dataDir!), "initpw")
    Server.ownedFile(m.runner, pwfile, `${Redacted.value(password)}\n`)
    yield* Server.run(m.runner, "initdb", [
      "-D",
      p.dataDir!,
      "-U",
      "postgres",
      "--pwfile",
      pwfile,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-N",
      "--no-instructions"
    ], { target: idOf(p) }).pipe(
      Effect.ensuring(Effect.sync(() => fs.rmSync(pwfile, { force: true })))
    )
    Server.ownedFile(m.runner, path.join(p.dataDir!, "postgresql.conf"), `\n${sharedConf(settings)}\n`, true)
    Server.ownedFile(m.runner, path.join(p.dataDir!, "pg_hba.conf"), `${HBA("scram-sha-256")}\n`)
    Topology.writeNodeConf(m.runner, toData(p), `faultline-${name}`, null)
    yield* Server.start(m.runner, p.dataDir!, idOf(p))
  })

const initStandby = (m: Made, name: string, proxyPort: number) =>
  Effect.gen(function*() {
    const s = m.nodes[1]!
    const dir = path.dirname(s.dataDir!)
    yield* Server.run(m.runner, "pg_basebackup", [
      "-h",
      "127.0.0.1",
      "-p",
      String(proxyPort),
      "-U",
      "postgres",
      "-D",
      s.dataDir!,
      "-R",
      "-X",
      "stream",
      "-c",
      "fast",
      "-N"
    ], {
      target: idOf(s),
      env: { PGPASSFILE: path.join(dir, Topology.PASSFILE) }
    })
    Topology.makeStandby(m.runner, toData(s), `faultline-${name}`, { host: "127.0.0.1", port: proxyPort, user: "postgres" })
    yield* Server.start(m.runner, s.dataDir!, idOf(s))
  })

/**
 * Waits until `standby` streams from the writer (`pg_stat_replication` shows it streaming).
 *
 * @since 0.1.0
 */
export const awaitStreaming = (writer: PgNode, standby: PgNode, timeoutMs = 30_000): Effect.Effect<void, PostgresError> =>
  Effect.gen(function*() {
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    while (true) {
      const rows = yield* Sql.query<{ state: string }>(writer, "select state from pg_stat_replication where application_name = $1", [standby.name], {
        via: "socket"
      }).pipe(
        Effect.catch(() => Effect.succeed([]))
      )
      if (rows.some((r) => r.state === "streaming")) return
      if ((yield* Clock.currentTimeMillis) > deadline) {
        return yield* new PostgresError({
          reason: "Timeout",
          target: idOf(standby),
          operation: "awaitStreaming",
          detail: `not streaming from ${idOf(writer)} after ${timeoutMs} ms`
        })
      }
      yield* Effect.sleep("50 millis")
    }
  })

const proxyApi = (options: PgClusterOptions): Effect.Effect<Api, PostgresError, Scope.Scope> =>
  options.proxy !== undefined
    ? Effect.succeed(options.proxy)
    : Effect.map(
      EmbeddedProxy.start("127.0.0.1:0").pipe(
        Effect.mapError((e) => new PostgresError({ reason: "Unavailable", target: "proxy", operation: "start", detail: e.message }))
      ),
      (p) => ({ url: p.url, token: p.token })
    )

/**
 * Starts a cluster in the current scope (what `PgCluster.layer` runs).
 *
 * @since 0.1.0
 */
export const start = (options: PgClusterOptions = {}): Effect.Effect<PgCluster["Service"], PostgresError, Scope.Scope> =>
  Effect.gen(function*() {
    const name = options.name ?? `pg-${crypto.randomBytes(3).toString("hex")}`
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(name)) {
      return yield* new PostgresError({
        reason: "InvalidInput",
        target: name,
        operation: "start",
        detail: "a cluster name is lowercase letters, digits and dashes (at most 31)"
      })
    }
    const password = typeof options.password === "string"
      ? Redacted.make(options.password)
      : options.password ?? Redacted.make(crypto.randomBytes(18).toString("base64url"))
    const r = yield* Server.runner(options.bin ?? DEFAULT_BIN, options.osUser, name)
    const api = yield* proxyApi(options)
    const proxyName = `${name}-replication`
    // Acquired as one: whatever part of the cluster was made is stopped and deleted.
    const nowMs = yield* Clock.currentTimeMillis
    const made = yield* Effect.acquireRelease(layout(name, r, options, password, nowMs), (m) =>
      Effect.andThen(
        Effect.ignore(removeProxy(api, proxyName)),
        Effect.ignore(
          Registry.destroy({
            kind: "faultline-postgres-cluster",
            name,
            session: m.session,
            owner: "",
            bin: r.bin,
            osUser: r.as?.name ?? os.userInfo().username,
            createdAt: "",
            nodes: m.nodes.map((n) => ({ name: n.name, port: n.port, dataDir: n.dataDir! }))
          })
        )
      ))
    yield* initPrimary(made, name, options.settings, password)
    const [primary, standby] = [made.nodes[0]!, made.nodes[1]!]
    const port = yield* createProxy(api, proxyName, `127.0.0.1:${primary.port}`)
    yield* initStandby(made, name, port)
    yield* awaitStreaming(primary, standby)
    const spec: PgClusterSpec = { name, nodes: made.nodes, allow: true, bin: r.bin, ...(r.as ? { osUser: r.as.name } : {}), root: made.session }
    return makeService(spec, made, api, proxyName, port)
  })

const makeService = (spec: PgClusterSpec, made: Made, api: Api, proxyName: string, port: number): PgCluster["Service"] => {
  const node = (n: string) => {
    const found = made.nodes.find((x) => x.name === n)
    if (found === undefined) throw new Error(`no node ${n} in cluster ${spec.name}`)
    return found
  }
  const writer = Effect.gen(function*() {
    for (const n of made.nodes) {
      if (Server.running(n.dataDir!) === null) continue
      const rows = yield* Sql.query<{ r: boolean }>(n, "select pg_is_in_recovery() as r", [], { via: "socket", timeout: "2 seconds" }).pipe(
        Effect.catch(() => Effect.succeed([{ r: true }]))
      )
      if (rows[0]?.r === false) return n
    }
    return yield* new PostgresError({ reason: "NotFound", target: spec.name, operation: "writer", detail: "no node accepts writes" })
  })
  return PgCluster.of({
    name: spec.name,
    spec,
    primary: made.nodes[0]!,
    standby: made.nodes[1]!,
    nodes: made.nodes,
    node,
    replication: { proxy: proxyName, api, port },
    writer,
    relink: (w) => Effect.as(retarget(api, proxyName, `127.0.0.1:${w.port}`), { host: "127.0.0.1", port, user: w.user }),
    setSynchronous: (mode) =>
      Effect.flatMap(writer, (w) =>
        Effect.asVoid(Effect.andThen(
          Sql.query(w, mode === "off" ? "alter system set synchronous_standby_names = ''" : "alter system set synchronous_standby_names = '*'", [], {
            via: "socket"
          }),
          Effect.andThen(
            Sql.query(w, `alter system set synchronous_commit = '${mode === "off" ? "on" : mode}'`, [], { via: "socket" }),
            Sql.query(w, "select pg_reload_conf()", [], { via: "socket" })
          )
        ))),
    stop: (n, mode = "fast") => Server.stop(made.runner, n.dataDir!, mode, idOf(n)),
    start: (n) => Server.start(made.runner, n.dataDir!, idOf(n)),
    runner: made.runner,
    session: made.session
  })
}
