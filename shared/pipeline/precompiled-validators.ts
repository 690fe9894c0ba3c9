// Validators compiled at build time. Compiling the JSON Schemas with ajv took ~35 ms of every
// process's first job submission (the pipeline schema ~25 ms, a route's body schema up to ~9 ms),
// before the engine could answer: `sluice make`'s first recipe and every `sluice run` waited for it.
// scripts/build.mjs writes ajv's standalone code for each schema into a .cjs file beside the module
// that uses it (in dist/ and in dist/worker's bundle), with a fingerprint of the schema and the ajv
// options; at run time a validator is taken from there only while its fingerprint matches, and
// compiled as before otherwise (the sources run through tsx, a bundle without ajv's runtime files).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';

interface PrecompiledModule {
  fingerprints?: Record<string, string>;
  [name: string]: unknown;
}

/** Loaded modules by the URL they are beside and their name; null: none could load. */
const modules = new Map<string, PrecompiledModule | null>();

/** What a validator depends on: the ajv options that change the code, and the schema. */
export function fingerprintOf(options: object, schema: object): string {
  return createHash('sha1')
    .update(JSON.stringify(options))
    .update('\0')
    .update(JSON.stringify(schema))
    .digest('hex');
}

/**
 * The validator `name` from the .cjs file `file` beside the module at `moduleUrl`, if the build
 * wrote one and it was compiled from this schema with these options.
 */
export function precompiledValidator(
  moduleUrl: string,
  file: string,
  name: string,
  fingerprint: string,
): ValidateFunction | undefined {
  const key = `${moduleUrl}\0${file}`;
  let mod = modules.get(key);
  if (mod === undefined) {
    try {
      mod = createRequire(moduleUrl)(`./${file}`) as PrecompiledModule;
    } catch {
      mod = null; // not written (the sources, a bundle elsewhere), or its ajv runtime files missing
    }
    modules.set(key, mod);
  }
  const validate = mod?.[name];
  if (typeof validate !== 'function' || mod?.fingerprints?.[name] !== fingerprint) return undefined;
  return validate as ValidateFunction;
}

/**
 * Build time: the CommonJS module holding ajv's standalone code of `schemas` (name → schema, each
 * added to `ajv`, which must have been made with `code: {source: true}`) and their fingerprints.
 */
export function standaloneModule(ajv: Ajv, options: object, schemas: Record<string, object>): string {
  const standaloneCode = createRequire(import.meta.url)('ajv/dist/standalone').default as (
    ajv: Ajv,
    refs: Record<string, string>,
  ) => string;
  const refs: Record<string, string> = {};
  const fingerprints: Record<string, string> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const id = `sluice:${name}`;
    ajv.addSchema(schema, id);
    refs[name] = id;
    fingerprints[name] = fingerprintOf(options, schema);
  }
  return `${standaloneCode(ajv, refs)}\nexports.fingerprints = ${JSON.stringify(fingerprints)};\n`;
}
