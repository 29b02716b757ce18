/**
 * Node roles on the host: per-node settings kept beside (not inside) the data directory so
 * that pg_basebackup and pg_rewind, which copy configuration files from their source, never
 * carry one node's port or socket onto another; turning a node into a standby of a writer;
 * and re-joining a failed primary with pg_rewind.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type { NodeData } from "../Node.ts"
import { idOf } from "../Node.ts"
import type { PostgresError } from "../PostgresError.ts"
import * as Sql from "../Sql.ts"
import * as Server from "./Server.ts"

/** The file of a node's own settings, included by every node's postgresql.conf. @since 0.1.0 */
export const NODE_CONF = "node.conf"
/** The password file replication connections read (0600, owned by the server's user). @since 0.1.0 */
export const PASSFILE = "pgpass"

const q = (s: string) => `'${s.replace(/'/g, "''")}'`

/** Where a standby streams from: the writer itself, or the replication proxy in front of it. @since 0.1.0 */
export interface Upstream {
  readonly host: string
  readonly port: number
  readonly user: string
}

/**
 * Writes a node's own settings: port, socket folder, cluster_name (what `ps` shows, and the
 * application name a standby reports), and where it streams from when it is a standby.
 *
 * @since 0.1.0
 */
export const writeNodeConf = (r: Server.Runner, node: NodeData, clusterLabel: string, upstream: Upstream | null): void => {
  const dir = path.dirname(node.dataDir!)
  const lines = [
    `port = ${node.port}`,
    `unix_socket_directories = ${q(node.socketDir!)}`,
    `cluster_name = ${q(`${clusterLabel}-${node.name}`)}`
  ]
  if (upstream !== null) {
    const conninfo = `host=${upstream.host} port=${upstream.port} user=${upstream.user} application_name=${node.name} passfile=${
      path.join(dir, PASSFILE)
    } connect_timeout=2`
    lines.push(`primary_conninfo = ${q(conninfo)}`)
  }
  Server.ownedFile(r, path.join(dir, NODE_CONF), `${lines.join("\n")}\n`)
}

// pg_basebackup -R and pg_rewind leave primary_conninfo in postgresql.auto.conf, which is read
// after node.conf and would win: the node's own file is the one place it is set.
const stripAutoConninfo = (r: Server.Runner, dataDir: string) => {
  const auto = path.join(dataDir, "postgresql.auto.conf")
  if (!fs.existsSync(auto)) return
  const kept = fs.readFileSync(auto, "utf8").split("\n").filter((l) => !/^\s*primary_conninfo\s*=/.test(l)).join("\n")
  Server.ownedFile(r, auto, kept)
}

/**
 * Makes a stopped node a standby of `upstream` (standby.signal and its primary_conninfo).
 *
 * @since 0.1.0
 */
export const makeStandby = (r: Server.Runner, node: NodeData, clusterLabel: string, upstream: Upstream): void => {
  stripAutoConninfo(r, node.dataDir!)
  writeNodeConf(r, node, clusterLabel, upstream)
  Server.ownedFile(r, path.join(node.dataDir!, "standby.signal"), "")
}

/**
 * Re-joins a node that was a primary as a standby of `source`, the new writer: stops it if
 * it runs, rewinds it with pg_rewind from the source over its private socket (pg_rewind
 * first finishes crash recovery of a server that was killed), makes it a standby of
 * `upstream` and starts it.
 *
 * @since 0.1.0
 */
export const rejoin = (
  r: Server.Runner,
  node: NodeData,
  source: NodeData,
  clusterLabel: string,
  upstream: Upstream
): Effect.Effect<{ readonly rewound: boolean }, PostgresError> =>
  Effect.gen(function*() {
    const target = idOf(node)
    yield* Server.stop(r, node.dataDir!, "fast", target)
    Server.clearStale(node.dataDir!)
    // A source promoted moments ago still has the old timeline in its control file until its
    // first checkpoint: pg_rewind would see one timeline and rewind nothing (pg_rewind's docs).
    yield* Sql.query(source, "checkpoint", [], { via: "socket", operation: "rewind", timeout: "60 seconds" })
    const sourceConn = `host=${source.socketDir} port=${source.port} user=${source.user} dbname=postgres`
    const out = yield* Server.run(r, "pg_rewind", ["--target-pgdata", node.dataDir!, "--source-server", sourceConn, "--no-sync"], { target })
    makeStandby(r, node, clusterLabel, upstream)
    yield* Server.start(r, node.dataDir!, target)
    return { rewound: !/no rewind required/i.test(out.stdout + out.stderr) }
  })
