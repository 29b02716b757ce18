/**
 * The PostgreSQL integration without a server: its faults decode under their tags with
 * their defaults, it is listed in the integrations, a cluster file is strict (unknown keys,
 * passwords in URLs), and node data never carries a password.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Exit, Redacted, Schema } from "effect"
import { assert, describe, it } from "vitest"
import * as Selector from "../../../src/core/Selector.ts"
import * as Integrations from "../../../src/integrations.ts"
import * as Postgres from "../../../src/targets/postgres/index.ts"

describe("faultline/postgres", () => {
  it("its faults decode under their tags, with their defaults", () => {
    const sel = Schema.encodeSync(Selector.Selector)(Selector.name("pg1"))
    const crash = Schema.decodeUnknownSync(Postgres.PostgresCrashPrimary)({ _tag: "postgres.crashPrimary", target: sel })
    assert.strictEqual(crash.mode, "sigkill")
    const term = Schema.decodeUnknownSync(Postgres.PostgresTerminateConnections)({ _tag: "postgres.terminateConnections", target: sel, database: "orders" })
    assert.strictEqual(term.database, "orders")
    assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(Postgres.PostgresCrashPrimary)({ _tag: "postgres.crashPrimary", target: sel, mode: "gentle" })))
    assert.deepStrictEqual(crash.defaultGuards.map((g) => g._tag), ["AllowLabel", "MaxTargets"])
  })

  it("is one integration of the list, with a reverter and a leftover scan", async () => {
    const i = Integrations.byName("postgres")!
    assert.strictEqual(i.module, "faultline/postgres")
    assert.deepStrictEqual(Integrations.faultClasses.filter((f) => f.integration === i).map((f) => f.tag), [
      "postgres.crashPrimary",
      "postgres.pauseReplay",
      "postgres.terminateConnections",
      "postgres.readOnly"
    ])
    assert.isFunction(await Effect.runPromise(i.reverter))
    assert.isFunction(i.leftovers)
  })

  it("a node parsed from a URL keeps its password redacted; its revert data has none", () => {
    const n = Postgres.fromUrl("orders", "pg1", "postgres://app:s3cr3t@127.0.0.1:5433/orders")
    assert.strictEqual(n.port, 5433)
    assert.strictEqual(Redacted.value(n.password!), "s3cr3t")
    assert.notInclude(JSON.stringify(Postgres.toData(n)), "s3cr3t")
    assert.notInclude(String(n.password), "s3cr3t")
    assert.strictEqual(Postgres.toTarget({ name: "orders", nodes: [n], allow: false }, n).labels["faultline.allow"], undefined)
  })

  it("a cluster file is strict: an unknown key, or a password in a URL, is an error naming the file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-unit-"))
    const write = (name: string, body: unknown) => {
      const f = path.join(dir, name)
      fs.writeFileSync(f, JSON.stringify(body))
      return f
    }
    const ok = write("ok.json", {
      clusters: [{ name: "orders", allow: true, nodes: [{ name: "pg1", url: "postgres://app@127.0.0.1:5433/orders", passwordEnv: "PGPW" }] }]
    })
    const [c] = await Effect.runPromise(Postgres.clustersFromFile(ok))
    assert.strictEqual(c!.nodes[0]!.passwordEnv, "PGPW")
    const unknown = await Effect.runPromiseExit(
      Postgres.clustersFromFile(write("unknown.json", { clusters: [{ name: "o", allow: true, nodes: [], colour: "red" }] }))
    )
    assert.match(String(unknown), /unknown\.json/)
    const pw = await Effect.runPromiseExit(
      Postgres.clustersFromFile(
        write("pw.json", { clusters: [{ name: "o", allow: true, nodes: [{ name: "pg1", url: "postgres://app:hunter2@127.0.0.1/x" }] }] })
      )
    )
    assert.match(String(pw), /holds a password/)
    assert.notInclude(String(pw), "hunter2")
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
