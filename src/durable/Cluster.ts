/**
 * The cluster a durable runner joins: Effect's sharding over PostgreSQL (`@effect/sql-pg`,
 * an optional peer), runners talking to each other over TCP sockets, and the cluster
 * workflow engine whose executions and activity results live in that database. A runner
 * owns shards (and the drills whose execution ids hash to them); when it stops renewing its
 * shard locks another runner takes them over and resumes their drills.
 *
 * @since 0.2.0
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as ClusterWorkflowEngine from "effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * How a runner joins: the database, its address (None: a client that submits drills and
 * owns no shards) and how fast a lost runner's shards move (the lock expiry bounds how
 * long a drill waits after its runner died).
 *
 * @since 0.2.0
 */
export interface Options {
  readonly db: string
  readonly listen: { readonly host: string; readonly port: number } | null
  /** How long a dead runner's shard locks hold (default 5 seconds). */
  readonly lockExpiration?: Duration.Input
  /** How often shard locks are renewed (default 1 second). */
  readonly lockRefresh?: Duration.Input
  /** Shards per group (default 30: few drills run at once). */
  readonly shards?: number
}

/**
 * The cluster layer: `Sharding`, `WorkflowEngine` and the SQL client the durable tables use.
 *
 * @since 0.2.0
 */
export const layer = (options: Options) =>
  Layer.unwrap(Effect.map(
    Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: (e) =>
        new ClusterUnavailable({
          detail: `durable drills need the optional package @effect/sql-pg (npm install @effect/sql-pg): ${(e as Error).message.split("\n")[0]}`
        })
    }),
    (PgClient) => make(PgClient, options)
  ))

/**
 * The cluster cannot be joined: its SQL package is missing.
 *
 * @since 0.2.0
 */
export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()("ClusterUnavailable", { detail: Schema.String }) {
  override get message() {
    return this.detail
  }
}

const make = (PgClient: typeof import("@effect/sql-pg/PgClient"), options: Options) => {
  const sql = PgClient.layer({ url: Redacted.make(options.db), connectTimeout: "5 seconds", maxConnections: 8 })
  const shardingConfig = {
    ...(options.listen === null ? {} : { runnerAddress: Option.some(RunnerAddress.make(options.listen.host, options.listen.port)) }),
    shardsPerGroup: options.shards ?? 30,
    shardLockRefreshInterval: options.lockRefresh ?? Duration.seconds(1),
    shardLockExpiration: options.lockExpiration ?? Duration.seconds(5),
    refreshAssignmentsInterval: Duration.millis(500),
    entityMessagePollInterval: Duration.millis(250),
    entityReplyPollInterval: Duration.millis(50),
    runnerHealthCheckInterval: Duration.seconds(2),
    // How long a stopping runner waits for its entities (its drills) to end.
    entityTerminationTimeout: Duration.seconds(2)
  }
  const cluster = options.listen === null
    ? NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig })
    : NodeClusterSocket.layer({ storage: "sql", shardingConfig })
  return ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(cluster),
    Layer.provideMerge(sql)
  )
}
