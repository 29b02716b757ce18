/**
 * The sync-vs-async drill on real servers: the same primary loss under asynchronous and
 * synchronous (remote_apply) replication, with replication lag induced. The test asserts the
 * direction of each difference, not magnitudes (those are in the printed table and bench).
 */
import { Effect } from "effect"
import { assert, it } from "vitest"
import { compare, table } from "../../../experiments/pg-sync-vs-async.ts"
import { describeWith } from "../require.ts"
import { pgMissing } from "./fixture.ts"

describeWith("PostgreSQL sync vs async failover drill", pgMissing(), () => {
  it(
    "async loses acknowledged writes under lag and sync loses none; sync costs commit latency and blocks writes while the standby is down; both fail over and fail back",
    { timeout: 180_000 },
    async () => {
      const r = await Effect.runPromise(compare())
      console.log(table(r))
      for (const d of [r.async, r.sync]) {
        assert.strictEqual(d.status, "passed", `${d.mode}: ${d.reason}`)
        assert.isTrue(d.streamingAfter, `${d.mode}: the cluster ends with a streaming standby`)
        assert.isAbove(d.ackedWrites, 0)
        assert.isAbove(d.promotionMs, 0)
        assert.isNotNull(d.rtoMs, `${d.mode}: RTO measured`)
        assert.isAbove(d.failBackMs, 0)
        assert.isAbove(d.commits, 0, `${d.mode}: commits measured under lag`)
      }
      assert.isAbove(r.async.lostWrites, 0, "async: acknowledged writes lost under lag")
      assert.isAbove(r.async.windowMs, 0)
      assert.strictEqual(r.sync.lostWrites, 0, "sync (remote_apply): no acknowledged write lost")
      assert.isAbove(r.sync.commitP50Ms, r.async.commitP50Ms, "sync commits wait for the lagging standby")
      assert.isAbove(r.sync.commitP99Ms, r.async.commitP99Ms)
      assert.isBelow(r.sync.availability.ratio, r.async.availability.ratio, "sync blocks writes while the standby is down")
    }
  )
})
