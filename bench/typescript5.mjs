/**
 * Loaded into Stryker's main process (by bench/mutate.ts) and its type-checker processes
 * (`checkerNodeArgs` in stryker.config.mjs).
 *
 * The project compiles with TypeScript 7 (the native compiler), whose package has no classic
 * compiler API. Stryker reads tsconfig files with the TypeScript 5 API and type-checks mutants
 * with TypeScript 7's API, which it looks for under a name TypeScript 7.0 does not export. So,
 * for imports made by Stryker's own packages only:
 *   "typescript", "typescript/..."        -> TypeScript 5.9, installed as the `typescript5` alias
 *   "@typescript/native/unstable/sync"    -> TypeScript 7's "typescript/unstable/sync"
 * Every other import of "typescript" still resolves to TypeScript 7.
 */
import { registerHooks } from "node:module"

registerHooks({
  resolve(specifier, context, nextResolve) {
    const fromStryker = context.parentURL?.includes("/node_modules/@stryker-mutator/") ?? false
    if (!fromStryker) return nextResolve(specifier, context)
    if (specifier === "@typescript/native/unstable/sync") return nextResolve("typescript/unstable/sync", context)
    if (specifier === "typescript" || specifier.startsWith("typescript/")) {
      return nextResolve(specifier.replace(/^typescript/, "typescript5"), context)
    }
    return nextResolve(specifier, context)
  }
})
