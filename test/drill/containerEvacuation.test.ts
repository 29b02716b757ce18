// runbooks/container-evacuation.md end to end on Docker: the primary's container stopped, the
// router fails over, the outage timed by the RTO clock; the container runs again afterwards.
import Dockerode from "dockerode"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { type DockerSystem, startSystem } from "../../examples/docker-failover/run.ts"
import { dockerMissing, SESSION_LABEL } from "../integration/docker/fixture.ts"
import { describeWith } from "../integration/require.ts"
import { faultline, journalOf } from "./helpers.ts"

const missing = await dockerMissing()

describeWith("Docker (container-evacuation runbook)", missing, () => {
  const docker = new Dockerode()
  let system: DockerSystem
  beforeAll(async () => {
    system = await startSystem(docker, { labels: { [SESSION_LABEL]: `drill-${process.pid}` } })
  }, 120_000)
  afterAll(async () => {
    await system?.stop()
  })

  it("evacuates the primary's container, times the outage, and starts it again", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-evac-"))
    const r = await faultline(["drill", "runbooks/container-evacuation.md", "--answers", "runbooks/answers/container-evacuation.yaml", "--out", out], {
      FAULTLINE_EVAC_URL: system.routerUrl,
      FAULTLINE_EVAC_CONTAINER: system.names.primary
    }, 120_000)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const { events, drill } = journalOf(out)
    expect(drill.status).toBe("passed")
    expect(events.filter((e) => e._tag === "FaultInjected").map((e) => e.fault)).toEqual(["docker.stop"])
    expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(1)
    // The fault was held until the return step: reverted after the go, as that step starts.
    const revertedAt = events.findIndex((e) => e._tag === "FaultReverted")
    expect(revertedAt).toBeGreaterThan(events.findIndex((e) => e._tag === "StepEnded" && e.stepId === "go-or-no-go-for-the-return"))
    expect(revertedAt).toBeLessThan(events.findIndex((e) => e._tag === "StepStarted" && e.stepId === "return-the-node"))
    expect(drill.steps.find((s: any) => s.stepId === "clients-are-served-again").status).toBe("done")
    expect(drill.rto.stopMono - drill.rto.startMono).toBeLessThan(30_000)
    const state = await docker.getContainer(system.names.primary).inspect()
    expect(state.State.Running).toBe(true)
  }, 180_000)
})
