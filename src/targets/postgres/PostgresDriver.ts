/**
 * The PostgreSQL driver: applies and reverts `postgres.*` faults on the nodes of the clusters
 * it is configured with — the allow-list: a node of any other cluster is not a target at all.
 * The `pg` client (an optional peer dependency) loads when the first statement runs.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { Driver } from "../../core/Driver.ts"
import * as Handler from "../../core/Handler.ts"
import type { PostgresFault } from "./Faults.ts"
import { handlers } from "./Handlers.ts"
import type { PgContext } from "./internal/Nodes.ts"
import type { Upstream } from "./internal/Topology.ts"
import { PgCluster } from "./Cluster.ts"
import { fromUrl, idOf, type NodeData, type PgClusterSpec, type PgNode, toTarget } from "./Node.ts"
import { PostgresError, toDriverError } from "./PostgresError.ts"

/** How the driver is configured. @since 0.1.0 */
export interface PostgresConfig {
  readonly clusters: ReadonlyArray<PgClusterSpec>
  /** How long a fault's effect may take to show before it is `InjectionIneffective`; default 10 s. */
  readonly verifyTimeout?: Duration.Input | undefined
  /** Where a re-joined standby streams from (default: the writer itself). */
  readonly relink?: ((cluster: string, writer: NodeData) => Effect.Effect<Upstream, PostgresError>) | undefined
}

/**
 * The PostgreSQL driver service: the generic Driver plus its clusters.
 *
 * @since 0.1.0
 */
export class PostgresDriver extends Context.Service<
  PostgresDriver,
  Driver & {
    readonly clusters: ReadonlyArray<PgClusterSpec>
    /** The node of a target id (`cluster/node`). */
    readonly node: (id: string) => Effect.Effect<PgNode, PostgresError>
    readonly context: PgContext
  }
>()("faultline/PostgresDriver") {
  /**
   * The driver for these clusters.
   *
   * @example
   * ```ts
   * PostgresDriver.layerConfig({ clusters: [{ name: "orders", allow: true, nodes: [Node.fromUrl("orders", "pg1", url)] }] })
   * ```
   * @since 0.1.0
   */
  static readonly layerConfig = (config: PostgresConfig): Layer.Layer<PostgresDriver> => Layer.succeed(PostgresDriver, make(config))

  /**
   * The driver for the clusters of the file `$FAULTLINE_POSTGRES_CLUSTERS` (none when unset):
   * `{ "clusters": [{ "name", "allow", "bin"?, "osUser"?, "nodes": [{ "name", "url",
   * "passwordEnv"?, "dataDir"?, "socketDir"? }] }] }` — a password is never in the file: the
   * URL has none and `passwordEnv` names the variable holding it.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<PostgresDriver, PostgresError> = Layer.effect(
    PostgresDriver,
    Effect.suspend(() => Effect.map(clustersFromEnv(), (clusters) => make({ clusters })))
  )

  /**
   * The driver for the cluster of a `PgCluster` layer: its nodes allowed, a re-joined
   * standby streaming through the cluster's replication proxy.
   *
   * @since 0.1.0
   */
  static readonly layerCluster: Layer.Layer<PostgresDriver, never, PgCluster> = Layer.effect(
    PostgresDriver,
    Effect.gen(function*() {
      const c = yield* PgCluster
      return make({ clusters: [c.spec], relink: (_cluster, writer) => c.relink(c.node(writer.name)) })
    })
  )
}

const ClusterFile = Schema.Struct({
  clusters: Schema.Array(Schema.Struct({
    name: Schema.String,
    allow: Schema.Boolean,
    bin: Schema.optionalKey(Schema.String),
    osUser: Schema.optionalKey(Schema.String),
    nodes: Schema.Array(Schema.Struct({
      name: Schema.String,
      url: Schema.String,
      passwordEnv: Schema.optionalKey(Schema.String),
      dataDir: Schema.optionalKey(Schema.String),
      socketDir: Schema.optionalKey(Schema.String)
    }))
  }))
})

/**
 * The clusters of a cluster file (see `PostgresDriver.layer`); a password in a URL, an
 * unknown key or a bad URL is an error naming the file and the path.
 *
 * @since 0.1.0
 */
export const clustersFromFile = (file: string): Effect.Effect<ReadonlyArray<PgClusterSpec>, PostgresError> =>
  Effect.gen(function*() {
    const bad = (detail: string) => new PostgresError({ reason: "InvalidInput", target: file, operation: "clusters", detail })
    const text = yield* Effect.try({ try: () => fs.readFileSync(file, "utf8"), catch: (e) => bad((e as Error).message) })
    const decoded = yield* Schema.decodeUnknownEffect(Schema.fromJsonString(ClusterFile))(text, { onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => bad(e.message))
    )
    return yield* Effect.forEach(decoded.clusters, (c, i) =>
      Effect.try({
        try: (): PgClusterSpec => ({
          name: c.name,
          allow: c.allow,
          ...(c.bin !== undefined ? { bin: c.bin } : {}),
          ...(c.osUser !== undefined ? { osUser: c.osUser } : {}),
          nodes: c.nodes.map((n, j) => {
            if (/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(n.url)) {
              throw new Error(`clusters[${i}].nodes[${j}].url holds a password; name its environment variable in passwordEnv`)
            }
            return {
              ...fromUrl(c.name, n.name, n.url),
              ...(n.passwordEnv ? { passwordEnv: n.passwordEnv } : {}),
              ...(n.dataDir ? { dataDir: n.dataDir } : {}),
              ...(n.socketDir ? { socketDir: n.socketDir } : {})
            }
          })
        }),
        catch: (e) => bad((e as Error).message)
      }))
  })

const clustersFromEnv = () => {
  const file = process.env.FAULTLINE_POSTGRES_CLUSTERS
  return file === undefined || file === "" ? Effect.succeed([]) : clustersFromFile(file)
}

/**
 * The faults' operations: one handler per fault (Handlers.ts).
 *
 * @since 0.1.0
 */
export const postgresFaults = Handler.dispatch<PgContext, PostgresFault, PostgresError>(handlers, {
  discover: (ctx) => Effect.succeed(ctx.clusters.flatMap((c) => c.nodes.map((n) => ({ c, n })))).pipe(Effect.map((xs) => xs.map(({ c, n }) => toTarget(c, n)))),
  unknown: (tag, operation) => new PostgresError({ reason: "InvalidInput", target: tag, operation, detail: `unknown fault ${tag}` })
})

/**
 * Makes the driver for a configuration (the layers use it).
 *
 * @since 0.1.0
 */
export const make = (config: PostgresConfig): PostgresDriver["Service"] => {
  const context: PgContext = {
    clusters: config.clusters,
    verifyTimeoutMs: Duration.toMillis(Duration.fromInputUnsafe(config.verifyTimeout ?? "10 seconds")),
    relink: config.relink ?? ((_cluster, writer) => Effect.succeed({ host: writer.host, port: writer.port, user: writer.user }))
  }
  return PostgresDriver.of({
    name: "postgres",
    // Nothing another process needs beyond each record's revert data (no secrets there).
    connection: {},
    ...Handler.bind(postgresFaults, context, (e, at) => toDriverError(e, { operation: at.operation, target: at.target?.id ?? at.fault })),
    clusters: config.clusters,
    node: (id) => {
      const n = config.clusters.flatMap((c) => c.nodes).find((x) => idOf(x) === id)
      return n === undefined ? Effect.fail(new PostgresError({ reason: "NotFound", target: id, operation: "node", detail: "no such node" })) : Effect.succeed(n)
    },
    context
  })
}
