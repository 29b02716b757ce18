/**
 * Loaded into Stryker's main process (by bench/mutate.ts) and its type-checker processes
 * (`checkerNodeArgs` in stryker.config.mjs).
 *
 * The project compiles with TypeScript 7, whose package has no compiler API, while Stryker
 * (its tsconfig rewriting and @stryker-mutator/typescript-checker) calls the TypeScript 5 API.
 * TypeScript 5.9 is installed as the `typescript5` alias and handed to Stryker's packages
 * only; every other import of "typescript" still resolves to TypeScript 7.
 */
import { registerHooks } from "node:module"

registerHooks({
  resolve(specifier, context, nextResolve) {
    const fromStryker = context.parentURL?.includes("/node_modules/@stryker-mutator/") ?? false
    if (fromStryker && (specifier === "typescript" || specifier.startsWith("typescript/"))) {
      return nextResolve(specifier.replace(/^typescript/, "typescript5"), context)
    }
    return nextResolve(specifier, context)
  }
})
