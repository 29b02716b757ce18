/**
 * SQL over the optional peer `pg`, loaded on first use: one-shot statements for the driver
 * and a reconnecting session for probes and the heartbeat writer. Errors are PostgresErrors
 * naming the node, never its connection string.
 *
 * @since 0.1.0
 */
import type * as Pg from "pg"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { idOf, passwordOf, type PgNode } from "./Node.ts"
import { fromClient, PostgresError } from "./PostgresError.ts"

type PgModule = typeof Pg

let loaded: Promise<PgModule> | undefined

/**
 * The `pg` module, loaded once; `Unavailable` when it is not installed.
 *
 * @since 0.1.0
 */
export const loadPg: Effect.Effect<PgModule, PostgresError> = Effect.tryPromise({
  try: () => {
    loaded ??= import("pg").then((m) => ((m as unknown as { default?: PgModule }).default ?? m) as PgModule)
    return loaded
  },
  catch: (e) => {
    loaded = undefined
    return new PostgresError({
      reason: "Unavailable",
      target: "pg",
      operation: "load",
      detail: `the pg client is not installed (npm install pg): ${(e as Error).message}`
    })
  }
})

/** How to reach a node: over TCP with its credentials, or through its private socket. @since 0.1.0 */
export type Via = "tcp" | "socket"

const config = (n: PgNode, via: Via, timeout: Duration.Duration, applicationName?: string): Pg.ClientConfig => {
  const base = {
    user: n.user,
    database: n.database,
    connectionTimeoutMillis: Duration.toMillis(timeout),
    ...(applicationName ? { application_name: applicationName } : {})
  }
  if (via === "socket" && n.socketDir !== undefined) return { ...base, host: n.socketDir, port: n.port }
  const password = passwordOf(n)
  return { ...base, host: n.host, port: n.port, ...(password !== undefined ? { password } : {}) }
}

/** Options of one statement. @since 0.1.0 */
export interface QueryOptions {
  readonly via?: Via | undefined
  /** Connect and statement timeout (default 5 s). */
  readonly timeout?: Duration.Input | undefined
  readonly operation?: string | undefined
  readonly applicationName?: string | undefined
}

/**
 * Runs one statement on a fresh connection and returns its rows.
 *
 * @since 0.1.0
 */
export const query = <Row = Record<string, unknown>>(
  node: PgNode,
  sql: string,
  params: ReadonlyArray<unknown> = [],
  options: QueryOptions = {}
): Effect.Effect<ReadonlyArray<Row>, PostgresError> =>
  Effect.flatMap(loadPg, (pg) => {
    const timeout = Duration.fromInputUnsafe(options.timeout ?? "5 seconds")
    const operation = options.operation ?? "query"
    return Effect.acquireUseRelease(
      Effect.tryPromise({
        try: async () => {
          const c = new pg.Client(config(node, options.via ?? "tcp", timeout, options.applicationName))
          c.on("error", () => {})
          try {
            await c.connect()
          } catch (e) {
            await c.end().catch(() => {})
            throw e
          }
          return c
        },
        catch: fromClient(operation, idOf(node))
      }),
      (c) =>
        Effect.tryPromise({ try: () => c.query(sql, [...params]), catch: fromClient(operation, idOf(node)) }).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () =>
              Effect.fail(new PostgresError({ reason: "Timeout", target: idOf(node), operation, detail: `no answer in ${Duration.format(timeout)}` }))
          }),
          Effect.map((r) => r.rows as ReadonlyArray<Row>)
        ),
      (c) => Effect.promise(() => c.end().catch(() => {}))
    )
  })

/**
 * A connection kept open across statements (probes every 10 ms, the heartbeat writer):
 * connects on first use, and after an error drops the connection so the next statement
 * connects again — a failover shows as failed statements, then success on the new writer.
 *
 * @since 0.1.0
 */
export interface Session {
  readonly query: <Row = Record<string, unknown>>(sql: string, params?: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<Row>, PostgresError>
  readonly close: Effect.Effect<void>
}

/**
 * Opens a reconnecting session to `node` (or to whichever node `resolve` names at each
 * connect: the application's repointable path).
 *
 * @since 0.1.0
 */
export const session = (
  resolve: PgNode | (() => PgNode),
  options: { readonly timeout?: Duration.Input; readonly via?: Via; readonly applicationName?: string } = {}
): Session => {
  const nodeNow = typeof resolve === "function" ? resolve : () => resolve
  const timeout = Duration.fromInputUnsafe(options.timeout ?? "2 seconds")
  let client: Promise<Pg.Client> | null = null
  const drop = () => {
    const c = client
    client = null
    c?.then((x) => x.end().catch(() => {}), () => {})
  }
  const connect = (pg: PgModule, n: PgNode) => {
    const c = new pg.Client(config(n, options.via ?? "tcp", timeout, options.applicationName))
    c.on("error", () => drop())
    return c.connect().then(() => c)
  }
  let clientKey = ""
  let busy = false
  const keyOf = (n: PgNode) => `${idOf(n)}@${n.host}:${n.port}`
  const onSession = <Row>(pg: PgModule, n: PgNode, sql: string, params: ReadonlyArray<unknown>) =>
    Effect.tryPromise({
      try: async () => {
        // Repointed since it connected: the session follows the path.
        if (client !== null && clientKey !== keyOf(n)) drop()
        clientKey = keyOf(n)
        client ??= connect(pg, n)
        return (await (await client).query(sql, [...params])).rows as ReadonlyArray<Row>
      },
      catch: (e) => {
        drop()
        return fromClient("query", idOf(n))(e)
      }
    }).pipe(
      // An abandoned statement would hold the connection: the next one starts afresh.
      Effect.onInterrupt(() => Effect.sync(drop)),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () => {
          drop()
          return Effect.fail(new PostgresError({ reason: "Timeout", target: idOf(n), operation: "query", detail: `no answer in ${Duration.format(timeout)}` }))
        }
      })
    )
  // One statement at a time on the kept connection; a statement issued while another is in
  // flight (a probe whose samples overlap during an outage) gets a connection of its own, so
  // samples never wait for each other.
  const run = <Row>(sql: string, params: ReadonlyArray<unknown>) =>
    Effect.flatMap(loadPg, (pg) =>
      Effect.suspend(() => {
        const n = nodeNow()
        if (busy) return query<Row>(n, sql, params, { via: options.via, timeout, applicationName: options.applicationName })
        busy = true
        return onSession<Row>(pg, n, sql, params).pipe(Effect.ensuring(Effect.sync(() => {
          busy = false
        })))
      }))
  return {
    query: (sql, params = []) => run(sql, params),
    close: Effect.sync(drop)
  }
}
