// examples/docker-failover end to end against a real Docker Engine: the kv-failover system as
// containers, the primary container killed, RTO and RPO measured, everything removed after.
import * as fs from "node:fs"
import { afterAll, assert, it } from "vitest"
import { runExample } from "../../examples/docker-failover/run.ts"
import { describeWith } from "../integration/require.ts"
import { dockerMissing, SESSION_LABEL } from "../integration/docker/fixture.ts"

const missing = await dockerMissing()
const session = `faultline-test-${Math.random().toString(36).slice(2, 10)}`

describeWith("Docker Engine (examples/docker-failover)", missing, () => {
  afterAll(async () => {
    fs.rmSync(`/tmp/${session}`, { recursive: true, force: true })
    const Docker = (await import("dockerode")).default
    const docker = new Docker()
    for (const image of ["busybox", "node", "nettools"]) {
      await docker.getImage(`faultline-fixture/${image}:${session}`).remove({ force: true }).catch(() => undefined)
    }
  })

  it("kills the primary container; the router fails over within the objectives; nothing is left behind", async () => {
    const o = await runExample({ imagePrefix: "faultline-fixture/", imageTag: session, labels: { [SESSION_LABEL]: session }, out: `/tmp/${session}` })
    assert.strictEqual(o.report.status, "passed", o.report.reason)
    assert.strictEqual(o.report.cleanup, "ok")
    assert.strictEqual(o.report.faults[0]?.fault, "docker.kill")
    assert.isTrue(o.report.rto!.measuredMs! < 2000)
    assert.isTrue(o.report.rpo!.windowMs < 500)
    const Docker = (await import("dockerode")).default
    const docker = new Docker()
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${SESSION_LABEL}=${session}`] }) })
    assert.strictEqual(left.length, 0)
    const nets = await docker.listNetworks({ filters: JSON.stringify({ label: [`${SESSION_LABEL}=${session}`] }) })
    assert.strictEqual(nets.length, 0)
  })
})
