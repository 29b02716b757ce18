/**
 * PostgreSQL nodes and clusters as the driver, the probes and the reverter see them: where a
 * node answers and who to connect as — never a password in the clear. A password is a
 * `Redacted` value in memory, or the *name* of an environment variable that holds it; only
 * the name is ever written down.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Target from "../../core/Target.ts"

/**
 * One server of a cluster. `dataDir` and `socketDir` are set for nodes faultline manages on
 * this host (see `PgCluster`): faults that stop or start the server need them.
 *
 * @since 0.1.0
 */
export interface PgNode {
  readonly cluster: string
  readonly name: string
  readonly host: string
  readonly port: number
  readonly user: string
  readonly database: string
  /** The password, kept redacted in memory; never serialised. */
  readonly password?: Redacted.Redacted<string> | undefined
  /** The name of the environment variable holding the password (out-of-process reverts read it). */
  readonly passwordEnv?: string | undefined
  /** The node's data directory, when it runs on this host. */
  readonly dataDir?: string | undefined
  /** A private Unix-socket directory with local trust, when faultline manages the node. */
  readonly socketDir?: string | undefined
}

/**
 * A cluster the driver may act on: its nodes, whether faults are allowed on it (the default
 * allow-list guard reads this), and, for clusters on this host, the server binaries and the
 * OS user that owns the data directories.
 *
 * @since 0.1.0
 */
export interface PgClusterSpec {
  readonly name: string
  readonly nodes: ReadonlyArray<PgNode>
  /** Faults are allowed on this cluster (`faultline.allow=true` on its nodes). */
  readonly allow: boolean
  /** Directory of initdb, pg_ctl, pg_rewind (default `/usr/lib/postgresql/15/bin`). */
  readonly bin?: string | undefined
  /** The OS user that owns the data directories (when faultline runs as root). */
  readonly osUser?: string | undefined
  /** The folder every data directory of the cluster lives under (a managed cluster's session). */
  readonly root?: string | undefined
}

/** The default server binaries: Debian's PostgreSQL 15. @since 0.1.0 */
export const DEFAULT_BIN = "/usr/lib/postgresql/15/bin"

/** The label every PostgreSQL target must carry by default. @since 0.1.0 */
export const ALLOW_LABEL = "faultline.allow"

/** `cluster/node`: a node's target id. @since 0.1.0 */
export const idOf = (n: Pick<PgNode, "cluster" | "name">): string => `${n.cluster}/${n.name}`

/** The node as a target (labels: cluster, node, host:port, allow). @since 0.1.0 */
export const toTarget = (spec: PgClusterSpec, n: PgNode, role?: "primary" | "standby"): Target.Target =>
  Target.make({
    kind: "postgres",
    id: idOf(n),
    name: n.name,
    labels: {
      cluster: spec.name,
      address: `${n.host}:${n.port}`,
      ...(role ? { role } : {}),
      ...(spec.allow ? { [ALLOW_LABEL]: "true" } : {})
    }
  })

/** How a node is named where it is written down: `cluster/node (user@host:port/db)`. @since 0.1.0 */
export const describe = (n: PgNode): string => `${idOf(n)} (${n.user}@${n.host}:${n.port}/${n.database})`

/**
 * A node as revert data: plain JSON, no password (its environment variable's name at most).
 *
 * @since 0.1.0
 */
export const NodeData = Schema.Struct({
  cluster: Schema.String,
  name: Schema.String,
  host: Schema.String,
  port: Schema.Int,
  user: Schema.String,
  database: Schema.String,
  passwordEnv: Schema.optionalKey(Schema.String),
  dataDir: Schema.optionalKey(Schema.String),
  socketDir: Schema.optionalKey(Schema.String)
})
/** @since 0.1.0 */
export type NodeData = typeof NodeData.Type

/** A node as revert data. @since 0.1.0 */
export const toData = (n: PgNode): NodeData => ({
  cluster: n.cluster,
  name: n.name,
  host: n.host,
  port: n.port,
  user: n.user,
  database: n.database,
  ...(n.passwordEnv !== undefined ? { passwordEnv: n.passwordEnv } : {}),
  ...(n.dataDir !== undefined ? { dataDir: n.dataDir } : {}),
  ...(n.socketDir !== undefined ? { socketDir: n.socketDir } : {})
})

/**
 * Parses a `postgres://user:password@host:port/db` connection string into a node: the
 * password goes into a `Redacted`, so the string itself need not be kept.
 *
 * @since 0.1.0
 */
export const fromUrl = (cluster: string, name: string, url: string): PgNode => {
  const u = new URL(url)
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") throw new Error(`${cluster}/${name}: not a postgres:// URL`)
  const password = decodeURIComponent(u.password)
  return {
    cluster,
    name,
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username) || "postgres",
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
    ...(password !== "" ? { password: Redacted.make(password) } : {})
  }
}

/** The node's password now: its redacted value, else its environment variable. @since 0.1.0 */
export const passwordOf = (n: Pick<PgNode, "password" | "passwordEnv">): string | undefined =>
  n.password !== undefined ? Redacted.value(n.password) : n.passwordEnv !== undefined ? process.env[n.passwordEnv] : undefined
