/**
 * `faultline services` prints the service catalog; `faultline blast-radius SERVICE` the
 * services that depend on SERVICE, directly or transitively.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Catalog from "../../slo/Catalog.ts"
import { catalogFile } from "../RunHistory.ts"
import { BadInput, state } from "../State.ts"

const load = (flag: string | undefined) =>
  Effect.gen(function*() {
    const file = catalogFile(flag)
    if (file === null) return yield* new BadInput({ message: "no service catalog: pass --services FILE, set FAULTLINE_SERVICES, or create ./services.yaml" })
    return { file, catalog: yield* Catalog.load(file).pipe(Effect.mapError((e) => new BadInput({ message: e.message }))) }
  })

const objectivesText = (o: { readonly rto?: string; readonly rpo?: string }) =>
  [o.rto ? `RTO ${o.rto}` : null, o.rpo ? `RPO ${o.rpo}` : null].filter((x) => x !== null).join(", ") || "no objectives"

/**
 * `faultline services`.
 *
 * @since 0.2.0
 */
export const services = (args: { readonly services: string | undefined; readonly json: boolean }) =>
  Effect.gen(function*() {
    const { file, catalog } = yield* load(args.services)
    if (args.json) {
      const rows = catalog.services.map((s) => ({ ...s, inherited: Catalog.objectivesOf(catalog, s) }))
      process.stdout.write(JSON.stringify({ catalog: file, services: rows }, null, 2) + "\n")
    } else {
      const lines = [`service catalog ${file}: ${catalog.services.length} services`]
      for (const s of [...catalog.services].sort((a, b) => a.tier - b.tier || a.name.localeCompare(b.name))) {
        lines.push(`${s.name}  tier ${s.tier}  owners ${s.owners.join(", ")}  ${objectivesText(Catalog.objectivesOf(catalog, s))}`)
        if ((s.dependencies ?? []).length > 0) lines.push(`  depends on ${s.dependencies!.join(", ")}`)
        for (const slo of s.slos ?? []) {
          lines.push(
            `  SLO ${slo.name}: ${slo.objective * 100}% over ${typeof slo.window === "string" ? slo.window : `the calendar month (${slo.window.timeZone})`}`
          )
        }
      }
      process.stdout.write(lines.join("\n") + "\n")
    }
    state.exitCode = 0
  })

/**
 * `faultline blast-radius SERVICE`.
 *
 * @since 0.2.0
 */
export const blastRadius = (args: { readonly service: string; readonly services: string | undefined; readonly json: boolean }) =>
  Effect.gen(function*() {
    const { file, catalog } = yield* load(args.services)
    const root = Catalog.find(catalog, args.service)
    if (root === undefined) return yield* new BadInput({ message: `${file}: no service named ${JSON.stringify(args.service)}` })
    const hit = Catalog.blastRadius(catalog, args.service)
    if (args.json) {
      process.stdout.write(
        JSON.stringify(
          {
            service: root.name,
            tier: root.tier,
            dependents: hit.map((h) => ({ name: h.service.name, tier: h.service.tier, owners: h.service.owners, via: h.via }))
          },
          null,
          2
        ) + "\n"
      )
    } else {
      const lines = [`blast radius of ${root.name} (tier ${root.tier}): ${hit.length} dependent services`]
      for (const h of hit) {
        lines.push(`${h.service.name}  tier ${h.service.tier}  owners ${h.service.owners.join(", ")}  via ${[...h.via, h.service.name].join(" -> ")}`)
      }
      const worst = hit.reduce((t: number, h) => Math.min(t, h.service.tier), root.tier)
      lines.push(`most critical tier affected: ${worst}`)
      process.stdout.write(lines.join("\n") + "\n")
    }
    state.exitCode = 0
  })
