/**
 * The system a runbook drills: the drivers its faults need (the process driver always; an
 * embedded fault proxy when it declares `proxies`), the processes it starts (recorded in the
 * ledger, so the watchdog stops them if the runner dies) and the proxies it puts in front.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ledger from "../core/Ledger.ts"
import * as Os from "../core/Os.ts"
import * as Integrations from "../integrations.ts"
import * as Process from "../targets/process/index.ts"
import { layerEmbedded, ToxiproxyDriver } from "../targets/toxiproxy/index.ts"
import { faultsOf, type Runbook } from "./Runbook.ts"

/**
 * The driver layers a runbook's faults name, merged (with an embedded proxy for `proxies`).
 *
 * @since 0.1.0
 */
export const drivers = (r: Runbook) =>
  Effect.gen(function*() {
    const proxies = (r.front.proxies ?? []).length > 0
    const names = ["process", ...faultsOf(r).map((f) => Integrations.ofFault(f)?.name ?? "")].filter((n) => n !== "" && !(proxies && n === "toxiproxy"))
    const base = yield* Integrations.layerFor(names)
    return proxies ? Layer.merge(base, layerEmbedded({ listen: "127.0.0.1:0" }) as unknown as Integrations.DriverLayer) : base
  })

/**
 * Starts the runbook's processes (each recorded in the ledger as it starts) and creates its
 * proxies; both go away with the drivers' layer.
 *
 * @since 0.1.0
 */
export const setUp = (r: Runbook, runId: string) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const driver = yield* Process.ProcessDriver
    for (const spec of r.front.processes ?? []) {
      const p = yield* driver.start(spec)
      if (ledger.setUp !== undefined) yield* ledger.setUp(runId, { name: p.name, pid: p.pid, startTime: Os.startTime(p.pid), label: p.label })
    }
    if ((r.front.proxies ?? []).length === 0) return
    const proxy = yield* ToxiproxyDriver
    for (const p of r.front.proxies ?? []) yield* proxy.createProxy({ name: p.name, listen: p.listen, upstream: p.upstream })
  })
