/**
 * The Docker target against a real Docker Engine: every fault and its revert, the default
 * guards, selectors over discovered containers, probes, and `recover` after a "dead" run.
 * Containers, networks, volumes and image tags are labelled with a session id and removed
 * in afterAll.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Scope } from "effect"
import { afterAll, afterEach, assert, beforeAll, it } from "vitest"
import * as Fault from "../../src/core/Fault.ts"
import * as Guard from "../../src/core/Guard.ts"
import * as Journal from "../../src/core/Journal.ts"
import * as Ledger from "../../src/core/Ledger.ts"
import * as Probe from "../../src/core/Probe.ts"
import { CurrentFault, Run } from "../../src/core/Run.ts"
import * as Windows from "../../src/core/Windows.ts"
import * as Selector from "../../src/core/Selector.ts"
import * as Target from "../../src/core/Target.ts"
import * as Docker from "../../src/targets/docker/index.ts"
import { describeWith } from "./require.ts"
import { dockerMissing, hostPort, leftovers, type Session, startSession } from "./docker/fixture.ts"

const missing = await dockerMissing()
const root = fileURLToPath(new URL("../../", import.meta.url))

const withDriver = <A, E, R>(f: (d: Docker.DockerDriver["Service"]) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const d = yield* Docker.DockerDriver
    return yield* f(d)
  })

const cliRun = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; out: string; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ["src/cli/main.ts", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let stdout = ""
    child.stdout.on("data", (c) => {
      out += c
      stdout += c
    })
    child.stderr.on("data", (c) => (out += c))
    child.on("exit", (code) => resolve({ code, out, stdout }))
  })

const httpGet = (ip: string) => ["/bin/sh", "-c", `printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | nc -w 1 ${ip} 8080 | grep -q '200 OK'`]

const runLayer = (runId: string, options: { guards?: ReadonlyArray<Guard.Guard>; irreversible?: boolean; dryRun?: boolean } = {}) =>
  Layer.effect(
    Run,
    Effect.gen(function*() {
      const journal = yield* Journal.make({ runId })
      const ledger = yield* Ledger.makeMemory
      let n = 0
      return Run.of({
        runId,
        journal,
        windows: Windows.make([]),
        ledger,
        guards: options.guards ?? [],
        dryRun: options.dryRun ?? false,
        irreversible: options.irreversible ?? false,
        cleanupFailed: { value: false },
        nextFaultId: () => `${runId}/f${++n}`
      })
    })
  )

describeWith("Docker Engine", missing, () => {
  let s: Session
  let rt: ManagedRuntime.ManagedRuntime<Docker.DockerDriver, Docker.DockerError>
  const run = <A, E>(e: Effect.Effect<A, E, Docker.DockerDriver | Run>, options?: Parameters<typeof runLayer>[1]) =>
    rt.runPromise(Effect.provide(e, runLayer(s.id, options)))
  const runExit = <A, E>(e: Effect.Effect<A, E, Docker.DockerDriver | Run>, options?: Parameters<typeof runLayer>[1]) =>
    rt.runPromiseExit(Effect.provide(e, runLayer(s.id, options)))
  const state = (c: string) => rt.runPromise(withDriver((d) => d.inspect(c)))
  const markers = async () => {
    const v = await (s.docker.listVolumes as (o: unknown) => Promise<{ Volumes?: Array<{ Name: string; Labels: Record<string, string> }> }>)({
      filters: JSON.stringify({ label: [`faultline.run=${s.id}`, "faultline.marker=true"] })
    })
    return v.Volumes ?? []
  }
  const helper = (c: string, script: string) => rt.runPromise(withDriver((d) => d.runHelper(c, script, "test")))
  const failure = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? Cause.squash(exit.cause) as any : null
  // Injects inside a scope we close ourselves, so the test can look at the target in between.
  const withFault = async <F extends Fault.Fault<any>>(
    fault: F,
    during: (inj: ReadonlyArray<Fault.Injection>) => Promise<void>,
    options?: Parameters<typeof runLayer>[1]
  ) => {
    const scope = await rt.runPromise(Scope.make())
    const injections = await run(
      Fault.inject(fault).pipe(Scope.provide(scope)) as Effect.Effect<ReadonlyArray<Fault.Injection>, unknown, Docker.DockerDriver | Run>,
      options
    )
    try {
      await during(injections)
    } finally {
      await rt.runPromise(Scope.close(scope, Exit.void))
    }
    return injections
  }

  beforeAll(async () => {
    s = await startSession()
    rt = ManagedRuntime.make(Docker.DockerDriver.layerConfig({ helperImage: s.images.nettools, verifyTimeout: "5 seconds" }))
    await Promise.all([
      s.start(`${s.id}-web`, { publish: [8080], aliases: ["web-alias"] }),
      s.start(`${s.id}-peer`),
      s.start(`${s.id}-client`, { cmd: ["/bin/sleep", "3600"] }),
      s.start(`${s.id}-unlabelled`, { unguarded: true }),
      s.start(`${s.id}-healthy`, { healthcheck: ["/bin/true"], labels: { tier: "health" } })
    ])
  }, 120_000)

  const nothing = { containers: [], networks: [], volumes: [] }

  // Every test reverts what it injected: no helper container and no marker volume of any run
  // of this session may outlive it.
  afterEach(async () => {
    if (s) assert.deepStrictEqual(await leftovers(s.docker, s.id, "driver"), nothing, "helpers or marker volumes left behind")
  })

  afterAll(async () => {
    await rt?.dispose()
    if (!s) return
    const driverLeft = await leftovers(s.docker, s.id, "driver")
    await s.cleanup()
    assert.deepStrictEqual(driverLeft, nothing, "helpers or marker volumes left behind by the driver")
    assert.deepStrictEqual(await leftovers(s.docker, s.id), nothing, "every container, network and volume of the session is removed")
  }, 120_000)

  it("discover lists running containers as targets with their labels; selectors choose among them", async () => {
    const targets = await run(withDriver((d) => d.discover(Docker.pause({ target: Selector.all }))))
    const mine = targets.filter((t) => t.labels["faultline.run"] === s.id)
    assert.strictEqual(mine.length, 5)
    const web = mine.find((t) => t.name === `${s.id}-web`)!
    assert.strictEqual(web.kind, "docker")
    assert.strictEqual(web.labels["faultline.allow"], "true")
    const pick = (sel: Selector.Selector) => Effect.runPromise(Selector.select(sel, mine)).then((ts) => ts.map((t) => t.name).sort())
    assert.deepStrictEqual(await pick(Selector.id(web.id)), [web.name])
    assert.deepStrictEqual(await pick(Selector.name(web.name)), [web.name])
    assert.deepStrictEqual(await pick(Selector.label("tier", "health")), [`${s.id}-healthy`])
    assert.deepStrictEqual(await pick(Selector.regex(`^${s.id}-(web|peer)$`)), [`${s.id}-peer`, web.name].sort())
    assert.strictEqual((await pick(Selector.count(Selector.label("faultline.run", s.id), 2))).length, 2)
    assert.strictEqual((await pick(Selector.percent(Selector.label("faultline.run", s.id), 40))).length, 2)
    const r1 = await pick(Selector.random(Selector.label("faultline.run", s.id), 2, 42))
    assert.deepStrictEqual(await pick(Selector.random(Selector.label("faultline.run", s.id), 2, 42)), r1)
  })

  it("the default guard refuses a container without faultline.allow=true, touching nothing", async () => {
    const exit = await runExit(Effect.scoped(Fault.inject(Docker.pause({ target: Selector.name(`${s.id}-unlabelled`) }))))
    assert.strictEqual(failure(exit)?._tag, "GuardRejected")
    assert.match(failure(exit).reason, /lacks label faultline\.allow=true/)
    assert.isFalse((await state(`${s.id}-unlabelled`)).paused)
    assert.strictEqual((await markers()).length, 0)
  })

  it("the default target cap applies, and an experiment's own maxTargets adds to it", async () => {
    assert.deepStrictEqual(Fault.guardsFor([], Docker.pause({ target: Selector.all })), Docker.defaultGuards)
    const sel = Selector.label("faultline.allow", "true")
    const exit = await runExit(Effect.scoped(Fault.inject(Docker.pause({ target: sel }))), { guards: [Guard.maxTargets(2)] })
    assert.strictEqual(failure(exit)?._tag, "GuardRejected")
    assert.match(failure(exit).reason, /cap is 2/)
  })

  it("a dry run plans against real containers and touches nothing", async () => {
    const web = `${s.id}-web`
    const inj = await run(Effect.scoped(Fault.inject(Docker.pause({ target: Selector.name(web) }))), { dryRun: true })
    assert.strictEqual(inj.length, 0)
    assert.isFalse((await state(web)).paused)
    assert.strictEqual((await markers()).length, 0)
  })

  it("docker.pause: paused with a marker labelled faultline.paused-by; revert unpauses; reverting twice is a no-op", async () => {
    const web = `${s.id}-web`
    const [inj] = await withFault(Docker.pause({ target: Selector.name(web) }), async () => {
      assert.isTrue((await state(web)).paused)
      const m = await markers()
      assert.strictEqual(m.length, 1)
      assert.strictEqual(m[0]!.Labels["faultline.paused-by"], s.id)
      assert.strictEqual(m[0]!.Labels["faultline.fault"], "docker.pause")
    })
    assert.isFalse((await state(web)).paused)
    assert.isTrue((await state(web)).running)
    assert.strictEqual((await markers()).length, 0)
    await run(withDriver((d) => d.revert(inj!.revert)))
    assert.isTrue((await state(web)).running)
  })

  it("reverting a fault that never landed is a no-op", async () => {
    const ghost = Target.make({ kind: "docker", id: "0".repeat(64), name: "ghost" })
    for (const fault of ["docker.pause", "docker.kill", "docker.stop", "docker.disconnect", "docker.partition", "docker.bandwidth", "docker.remove"]) {
      await run(
        withDriver((d) =>
          d.revert({ driver: "docker", fault, target: ghost, data: { container: ghost.id, marker: "faultline-marker-none", network: s.network } })
        )
      )
    }
  })

  it("docker.kill (SIGKILL): the container exits; revert starts it again", async () => {
    const peer = `${s.id}-peer`
    await withFault(Docker.kill({ target: Selector.name(peer) }), async () => {
      assert.isFalse((await state(peer)).running)
    })
    assert.isTrue((await state(peer)).running)
  })

  it("docker.stop with a grace period; stopping twice is safe (HTTP 304); revert starts it", async () => {
    const peer = `${s.id}-peer`
    await withFault(Docker.stop({ target: Selector.name(peer), graceSeconds: 1 }), async () => {
      assert.isFalse((await state(peer)).running)
      // The engine answers a second stop with HTTP 304 (dockerode rejects on it)...
      const again = await s.docker.getContainer(peer).stop().then(() => "stopped", (e) => e.statusCode)
      assert.strictEqual(again, 304)
      // ...and the driver takes that as done: a second docker.stop on the stopped container
      // succeeds, and its own revert starts it.
      const info = await state(peer)
      const target = Target.make({ kind: "docker", id: info.id, name: peer })
      const fault = Docker.stop({ target: Selector.name(peer), graceSeconds: 1 })
      const data = await run(withDriver((d) => d.inject(fault, target)))
      assert.isFalse((await state(peer)).running)
      await run(withDriver((d) => d.revert({ driver: "docker", fault: "docker.stop", target, data })))
      assert.isTrue((await state(peer)).running)
      await s.docker.getContainer(peer).stop({ t: 1 })
    })
    assert.isTrue((await state(peer)).running)
  })

  it("docker.restart: a new start; revert leaves it running", async () => {
    const peer = `${s.id}-peer`
    const before = await state(peer)
    await withFault(Docker.restart({ target: Selector.name(peer), graceSeconds: 0 }), async () => {
      const after = await state(peer)
      assert.isTrue(after.running)
      assert.notStrictEqual(after.startedAt, before.startedAt)
    })
    assert.isTrue((await state(peer)).running)
  })

  it("docker.disconnect: off the network; revert reconnects with the same aliases", async () => {
    const web = `${s.id}-web`
    assert.include((await state(web)).networks[s.network]!.aliases, "web-alias")
    await withFault(Docker.disconnect({ target: Selector.name(web), network: s.network }), async () => {
      assert.isUndefined((await state(web)).networks[s.network])
      const r = await s.docker.getContainer(`${s.id}-client`).inspect()
      assert.isDefined(r.NetworkSettings.Networks[s.network])
    })
    const back = (await state(web)).networks[s.network]
    assert.isDefined(back)
    assert.include(back!.aliases, "web-alias")
    // Reachable again over the network from another container (busybox-static cannot resolve
    // names and its wget crashes there: a raw request through nc to the address).
    const probe = Docker.Probes.exec(`${s.id}-client`, httpGet(back!.ipv4))
    const sample = await rt.runPromise(Probe.sample(probe))
    assert.isTrue(sample.ok, sample.error)
  })

  it("docker.partition: iptables rules drop traffic to the peer only; revert deletes exactly them", async () => {
    const client = `${s.id}-client`
    const ip = async (name: string) => (await state(name)).networks[s.network]!.ipv4
    const reach = async (name: string) => rt.runPromise(Probe.sample(Docker.Probes.exec(client, httpGet(await ip(name)))))
    assert.isTrue((await reach(`${s.id}-web`)).ok)
    assert.isTrue((await reach(`${s.id}-peer`)).ok)
    await withFault(Docker.partition({ target: Selector.name(client), peers: [`${s.id}-web`] }), async () => {
      assert.isFalse((await reach(`${s.id}-web`)).ok)
      assert.isTrue((await reach(`${s.id}-peer`)).ok)
      const rules = await helper(client, "/usr/sbin/iptables -S")
      assert.match(rules.output, /-A INPUT -s \S+ -m comment --comment faultline-\S+ -j DROP/)
      assert.match(rules.output, /-A OUTPUT -d \S+ -m comment --comment faultline-\S+ -j DROP/)
    })
    assert.isTrue((await reach(`${s.id}-web`)).ok)
    assert.notMatch((await helper(client, "/usr/sbin/iptables -S")).output, /faultline-/)
    const left = await s.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`faultline.run=${s.id}`, "faultline.helper"] }) })
    assert.strictEqual(left.length, 0, "helper containers are removed")
  })

  it("docker.bandwidth: a tbf qdisc on the default route's interface; revert deletes it", async () => {
    const web = `${s.id}-web`
    await withFault(Docker.bandwidth({ target: Selector.name(web), rate: "1mbit" }), async () => {
      assert.match((await helper(web, "/usr/sbin/tc qdisc show")).output, /qdisc tbf f1: (dev \S+ )?root .*rate 1Mbit/)
    })
    assert.notMatch((await helper(web, "/usr/sbin/tc qdisc show")).output, /qdisc tbf/)
  })

  it("docker.netem: planning fails with Unsupported naming sch_netem where the kernel lacks it (else injects and reverts)", async () => {
    const web = `${s.id}-web`
    const support = await rt.runPromiseExit(withDriver((d) => d.netemSupported))
    const fault = Docker.netem({ target: Selector.name(web), delayMs: 50, lossPercent: 1 })
    if (Exit.isFailure(support)) {
      const exit = await runExit(Effect.flatMap(Fault.plan(fault), () => Effect.void))
      const e = failure(exit)
      assert.strictEqual(e?._tag, "DriverError")
      assert.strictEqual(e.reason, "Unsupported")
      assert.match(e.detail, /sch_netem/)
      assert.strictEqual((await markers()).length, 0)
    } else {
      await withFault(fault, async () => {
        assert.match((await helper(web, "/usr/sbin/tc qdisc show")).output, /qdisc netem/)
      })
      assert.notMatch((await helper(web, "/usr/sbin/tc qdisc show")).output, /qdisc netem/)
    }
  })

  it("docker.remove is refused unless the experiment says irreversible: true", async () => {
    const name = `${s.id}-doomed`
    await s.start(name)
    const refused = await runExit(Effect.scoped(Fault.inject(Docker.remove({ target: Selector.name(name) }))))
    assert.strictEqual(failure(refused)?._tag, "GuardRejected")
    assert.match(failure(refused).reason, /irreversible/)
    assert.isTrue((await state(name)).running)
    await run(Effect.scoped(Fault.inject(Docker.remove({ target: Selector.name(name) }))), { irreversible: true })
    const gone = await rt.runPromiseExit(withDriver((d) => d.inspect(name)))
    assert.strictEqual(failure(gone)?.reason, "NotFound")
  })

  it("the ledger's watchdog path: a docker.pause left by a dead run is reverted out of process from its ledger record", async () => {
    const name = `${s.id}-orphan`
    await s.start(name)
    const info = await s.docker.getContainer(name).inspect()
    await s.docker.getContainer(name).pause()
    assert.isTrue((await state(name)).paused)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-ledger-"))
    const FileLedger = await import("../../src/run/FileLedger.ts")
    const Recover = await import("../../src/run/Recover.ts")
    const target = Target.make({ kind: "docker", id: info.Id, name })
    const revert = { driver: "docker", fault: "docker.pause", target, data: { container: info.Id, name } }
    // A run whose runner is gone (pid 2^22 + 1 is above Linux's pid_max default) left the
    // intent open; the connection is the one the real driver records.
    const connection = { socketPath: null }
    FileLedger.appendLine(dir, "dead-docker", { type: "run", runId: "dead-docker", pid: 4194305, journal: null, at: 0, watchdogPid: null })
    FileLedger.appendLine(dir, "dead-docker", {
      type: "intent",
      runId: "dead-docker",
      faultId: "dead-docker/f1",
      driver: "docker",
      connection,
      fault: "docker.pause",
      target,
      revert
    })
    const { rows, remaining } = await Effect.runPromise(Recover.recover(dir))
    assert.deepStrictEqual(rows.map((r) => r.result), ["reverted"])
    assert.strictEqual(remaining, 0)
    assert.isFalse((await state(name)).paused)
  })

  it("injection is verified: pausing a container that is not running fails, and nothing is left behind", async () => {
    const name = `${s.id}-stopped`
    await s.start(name)
    const info = await state(name)
    const target = Target.make({ kind: "docker", id: info.id, name })
    const pause = Docker.pause({ target: Selector.name(name) })
    try {
      // Stopped (exited): discovery lists running containers only, so ask the driver directly.
      await s.docker.getContainer(name).stop({ t: 0 })
      const stopped = failure(await runExit(withDriver((d) => d.inject(pause, target))))
      assert.strictEqual(stopped?.reason, "Conflict", String(stopped))
      assert.match(stopped.detail, /not running/)
      assert.deepStrictEqual(await markers(), [])
      assert.isFalse((await state(name)).running, "the failed pause did not start it")

      // Paused by someone else: the driver refuses rather than claim an effect it did not
      // cause, and its cleanup must not unpause what it did not pause.
      await s.docker.getContainer(name).start()
      await s.docker.getContainer(name).pause()
      const paused = failure(await runExit(Effect.scoped(Fault.inject(pause))))
      assert.strictEqual(paused?._tag, "InjectionFailed", String(paused))
      assert.match(paused.reason, /Conflict \(container is paused, not running\)/)
      assert.deepStrictEqual(await markers(), [])
      assert.isTrue((await state(name)).paused, "still paused by its owner")
    } finally {
      await s.docker.getContainer(name).remove({ force: true })
    }
  })

  it("probes: running, health status, restart count, exec; ports are published on 127.0.0.1", async () => {
    const web = `${s.id}-web`
    const sample = (p: Probe.Probe<Docker.DockerDriver>) => rt.runPromise(Probe.sample(p))
    assert.isTrue((await sample(Docker.Probes.running(web))).ok)
    assert.strictEqual((await sample(Docker.Probes.restartCount(web))).value, 0)
    const out = await sample(Docker.Probes.exec(web, ["/bin/cat", "/www/health"]))
    assert.strictEqual(out.value, "ok")
    assert.isFalse((await sample(Docker.Probes.exec(web, ["/bin/false"]))).ok)
    for (let i = 0; i < 50 && !(await sample(Docker.Probes.health(`${s.id}-healthy`))).ok; i++) await new Promise((r) => setTimeout(r, 100))
    assert.strictEqual((await sample(Docker.Probes.health(`${s.id}-healthy`))).value, "healthy")
    assert.isFalse((await sample(Docker.Probes.health(web))).ok, "no health check: a bad sample")
    await withFault(Docker.pause({ target: Selector.name(web) }), async () => {
      assert.isFalse((await sample(Docker.Probes.running(web))).ok)
    })
    const port = await hostPort(s.docker, web, 8080)
    const res = await fetch(`http://127.0.0.1:${port}/health`)
    assert.strictEqual((await res.text()).trim(), "ok")
  })

  it("recover: reverts faults and removes helpers left by a dead run, from the markers alone", async () => {
    const dead = `${s.id}-dead`
    const web = `${s.id}-web`
    const peer = `${s.id}-peer`
    // A run that "dies": faults injected without a scope to revert them.
    const inject = (fault: Fault.Fault<any>, name: string) =>
      rt.runPromise(Effect.provide(
        Effect.gen(function*() {
          const d = yield* Docker.DockerDriver
          const [t] = (yield* d.discover(fault)).filter((t) => t.name === name)
          return yield* d.inject(fault, t!)
        }),
        runLayer(dead)
      ))
    await inject(Docker.pause({ target: Selector.all }), web)
    await inject(Docker.disconnect({ target: Selector.all, network: s.network }), peer)
    await inject(Docker.partition({ target: Selector.all, peers: [web] }), `${s.id}-client`)
    await inject(Docker.bandwidth({ target: Selector.all, rate: "2mbit" }), `${s.id}-healthy`)
    await s.docker.createContainer({
      Image: s.images.nettools,
      Cmd: ["/bin/sleep", "3600"],
      Labels: { ...s.labels, "faultline.run": dead, "faultline.helper": "partition" }
    })
    assert.isTrue((await state(web)).paused)
    assert.isUndefined((await state(peer)).networks[s.network])

    // recover runs with a driver whose default helper image does not exist: the markers name
    // the image that added the rules and qdiscs.
    const other = ManagedRuntime.make(Docker.DockerDriver.layerConfig({ helperImage: "faultline-test/no-such-image:none" }))
    const report = await other.runPromise(Docker.recover({ runId: dead, force: true }))
    await other.dispose()
    assert.strictEqual(report.reverted.length, 4, JSON.stringify(report))
    assert.notMatch((await helper(`${s.id}-client`, "/usr/sbin/iptables -S")).output, /faultline-/)
    assert.notMatch((await helper(`${s.id}-healthy`, "/usr/sbin/tc qdisc show")).output, /qdisc tbf/)
    assert.strictEqual(report.helpersRemoved.length, 1)
    assert.deepStrictEqual(report.failed, [])
    assert.isFalse((await state(web)).paused)
    assert.include(Object.keys((await state(peer)).networks), s.network)
    const again = await rt.runPromise(Docker.recover({ runId: dead, force: true }))
    assert.deepStrictEqual([again.reverted.length, again.helpersRemoved.length], [0, 0], "recover is idempotent")
  })

  it("recover skips markers whose runner is still alive on this host, unless forced", async () => {
    const web = `${s.id}-web`
    const alive = spawn("sleep", ["30"], { stdio: "ignore" })
    try {
      const info = await state(web)
      await s.docker.getContainer(web).pause()
      const owner = `${os.hostname()}:${alive.pid}`
      await (s.docker.createVolume as (o: unknown) => Promise<unknown>)({
        Name: `faultline-marker-${s.id}-alive`,
        Labels: {
          "faultline.run": `${s.id}-alive`,
          "faultline.owner": owner,
          "faultline.marker": "true",
          "faultline.fault": "docker.pause",
          "faultline.target": info.id,
          "faultline.paused-by": `${s.id}-alive`,
          "faultline.revert": JSON.stringify({ container: info.id, name: web })
        }
      })
      const skipped = await rt.runPromise(Docker.recover({ runId: `${s.id}-alive` }))
      assert.strictEqual(skipped.skipped.length, 1)
      assert.strictEqual(skipped.reverted.length, 0)
      assert.isTrue((await state(web)).paused)
      const forced = await rt.runPromise(Docker.recover({ runId: `${s.id}-alive`, force: true }))
      assert.strictEqual(forced.reverted.length, 1)
      assert.isFalse((await state(web)).paused)
    } finally {
      alive.kill("SIGKILL")
    }
  })

  it("recover acts only on containers carrying faultline.allow=true: a marker naming another container is refused", async () => {
    const victim = `${s.id}-unlabelled`
    const run = `${s.id}-forged`
    const info = await state(victim)
    await s.docker.getContainer(victim).pause()
    const volume = `faultline-marker-${run}`
    try {
      // A marker is data anyone with access to the engine can write.
      await (s.docker.createVolume as (o: unknown) => Promise<unknown>)({
        Name: volume,
        Labels: {
          "faultline.run": run,
          "faultline.owner": "nohost:1",
          "faultline.marker": "true",
          "faultline.fault": "docker.pause",
          "faultline.target": info.id,
          "faultline.paused-by": run,
          "faultline.revert": JSON.stringify({ container: info.id, name: victim })
        }
      })
      const r = await rt.runPromise(Docker.recover({ runId: run, force: true }))
      assert.strictEqual(r.reverted.length, 0)
      assert.strictEqual(r.failed.length, 1)
      assert.include(r.failed[0], "lacks the label faultline.allow=true")
      assert.isTrue((await state(victim)).paused, "recover unpaused a container that does not allow faults")
    } finally {
      await s.docker.getContainer(victim).unpause().catch(() => undefined)
      await s.docker.getVolume(volume).remove().catch(() => undefined)
    }
  })

  it("helpers run, and revert data records, the helper image by its id (sha256:...), not its mutable tag", async () => {
    const web = `${s.id}-web`
    const id = (await s.docker.getImage(s.images.nettools).inspect()).Id
    const [inj] = await withFault(Docker.bandwidth({ target: Selector.name(web), rate: "1mbit" }), async () => {})
    assert.strictEqual(inj!.revert.data.helperImage, id)
  })

  it("the CLI: faultline recover --docker --run <id> reverts a dead run's faults", async () => {
    const dead = `${s.id}-cli`
    const web = `${s.id}-web`
    await rt.runPromise(Effect.provide(
      Effect.gen(function*() {
        const d = yield* Docker.DockerDriver
        const fault = Docker.pause({ target: Selector.all })
        const [t] = (yield* d.discover(fault)).filter((t) => t.name === web)
        return yield* d.inject(fault, t!)
      }),
      runLayer(dead)
    ))
    assert.isTrue((await state(web)).paused)
    const cli = cliRun
    // Plain recover (no --docker) runs the Docker scan too: it sees the run's marker, and
    // leaves it alone while its owner (this test process) lives.
    const emptyLedger = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-ledger-"))
    const plain = await cli(["recover", "--ledger", emptyLedger, "--run", dead])
    assert.strictEqual(plain.code, 0, plain.out)
    assert.match(plain.out, /nothing open/)
    assert.match(plain.out, /docker: \n?skipped .*docker\.pause/)
    // An engine that does not answer: skipped without --docker (the ledger names no Docker
    // fault), an error with it.
    const unasked = await cli(["recover", "--ledger", emptyLedger, "--run", dead, "--docker-socket", "/nonexistent/docker.sock"])
    assert.strictEqual(unasked.code, 0, unasked.out)
    assert.match(unasked.out, /docker: skipped/)
    const down = await cli(["recover", "--ledger", emptyLedger, "--docker", "--docker-socket", "/nonexistent/docker.sock"])
    assert.strictEqual(down.code, 1, down.out)
    assert.match(down.out, /Unavailable/)
    // The run's owner is this (live) test process: without --force its faults are left alone.
    const skipped = JSON.parse((await cli(["recover", "--ledger", emptyLedger, "--docker", "--run", dead, "--json"])).stdout).docker
    assert.deepStrictEqual([skipped.reverted.length, skipped.skipped.length], [0, 1])
    assert.isTrue((await state(web)).paused)
    const r = await cli(["recover", "--ledger", emptyLedger, "--docker", "--run", dead, "--force", "--json"])
    assert.strictEqual(r.code, 0, r.out)
    const report = JSON.parse(r.stdout).docker
    assert.strictEqual(report.reverted.length, 1)
    assert.match(report.reverted[0], /docker\.pause/)
    assert.isFalse((await state(web)).paused)
    const again = await cli(["recover", "--ledger", emptyLedger, "--docker", "--run", dead, "--force"])
    assert.match(again.out, /nothing to recover/)
  })

  it("a YAML experiment with docker faults runs through the CLI; docker.remove needs irreversible: true", async () => {
    const web = `${s.id}-web`
    const port = await hostPort(s.docker, web, 8080)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-docker-"))
    try {
      const yaml = (method: string, extra = "") => `
name: docker pause from a file
hypothesis:
  - name: web answers
    probe: { http: { url: "http://127.0.0.1:${port}/health", timeout: "500 millis" } }
    every: "20 millis"
    samples: 10
    tolerance: [{ _tag: SuccessRatio, atLeast: 0.5, confidence: 0.9 }]
    # The pause makes the service unreachable: observed during the method, not judged.
    during: observe
method:
${method}
${extra}`
      fs.writeFileSync(path.join(dir, "pause.yaml"), yaml(`  - inject: { fault: docker.pause, target: { name: ["${web}"] } }\n  - sleep: "300 millis"`))
      const ok = await cliRun(["run", path.join(dir, "pause.yaml"), "--json", "--out", dir])
      assert.strictEqual(ok.code, 0, ok.out)
      const report = JSON.parse(ok.stdout)
      assert.strictEqual(report.status, "passed")
      assert.strictEqual(report.faults[0].fault, "docker.pause")
      assert.isNotNull(report.faults[0].revertedAt)
      assert.isFalse((await state(web)).paused)

      const doomed = `${s.id}-file-doomed`
      await s.start(doomed)
      fs.writeFileSync(path.join(dir, "remove.yaml"), yaml(`  - inject: { fault: docker.remove, target: { name: ["${doomed}"] } }`))
      const refused = await cliRun(["run", path.join(dir, "remove.yaml"), "--json", "--out", dir])
      // Refused (exit 3), not failed: an irreversible fault the experiment did not acknowledge.
      assert.strictEqual(refused.code, 3, refused.out)
      assert.strictEqual(JSON.parse(refused.stdout).status, "refused")
      assert.match(JSON.parse(refused.stdout).method.error, /irreversible/)
      assert.isTrue((await state(doomed)).running)
      fs.writeFileSync(path.join(dir, "remove2.yaml"), yaml(`  - inject: { fault: docker.remove, target: { name: ["${doomed}"] } }`, "irreversible: true"))
      const removed = await cliRun(["run", path.join(dir, "remove2.yaml"), "--json", "--out", dir])
      assert.strictEqual(removed.code, 0, removed.out)
      const gone = await s.docker.getContainer(doomed).inspect().then(() => false, (e) => e.statusCode === 404)
      assert.isTrue(gone)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("the intent's revert data alone undoes what landed (the runner died before recording the injection)", async () => {
    const web = `${s.id}-web`
    const client = `${s.id}-client`
    const faults: ReadonlyArray<[Fault.Fault<any>, string]> = [
      [Docker.partition({ target: Selector.all, peers: [web] }), client],
      [Docker.bandwidth({ target: Selector.all, rate: "2mbit" }), client],
      [Docker.pause({ target: Selector.all }), web]
    ]
    let i = 0
    for (const [fault, name] of faults) {
      const faultId = `${s.id}/intent-${++i}`
      // What the ledger's intent holds is `prepare`'s data, written before the driver acts;
      // the injection then lands and its own data is thrown away, as a SIGKILL would.
      const prepared = await run(withDriver((d) =>
        Effect.gen(function*() {
          const [t] = (yield* d.discover(fault)).filter((t) => t.name === name)
          const data = yield* d.prepare!(fault, t!)
          yield* d.inject(fault, t!)
          return { target: t!, data }
        }).pipe(Effect.provideService(CurrentFault, { faultId }))
      ))
      assert.lengthOf(await markers(), 1, `${fault._tag}: the injection's marker exists`)
      await run(withDriver((d) => d.revert({ driver: "docker", fault: fault._tag, target: prepared.target, data: prepared.data })))
      assert.deepStrictEqual(await markers(), [], `${fault._tag}: the marker named in the intent is gone`)
    }
    assert.notMatch((await helper(client, "/usr/sbin/iptables -S")).output, /faultline-/)
    assert.notMatch((await helper(client, "/usr/sbin/tc qdisc show")).output, /qdisc tbf f1:/)
    assert.isFalse((await state(web)).paused)
    // A revert whose data names no container and no target fails: it never closes unchecked.
    const empty = await runExit(
      withDriver((d) => d.revert({ driver: "docker", fault: "docker.partition", target: Target.make({ kind: "process", id: "1", name: "x" }), data: {} }))
    )
    assert.isTrue(Exit.isFailure(empty))
  })

  it("a failed injection leaves no marker behind", async () => {
    const web = `${s.id}-web`
    const exit = await runExit(Effect.scoped(Fault.inject(Docker.bandwidth({ target: Selector.name(web), rate: "1mbit", device: "nosuchdev0" }))))
    assert.match(String(failure(exit)?.message), /HelperFailed/)
    assert.strictEqual((await markers()).length, 0)
  })
})
