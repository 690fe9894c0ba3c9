// Checks real API answers against the OpenAPI document the API serves: a 2xx body must match the
// schema its operation documents for that status, an error body the Error schema. Tests that
// drive the API through HTTP pass every answer through it, so the document cannot drift from
// what the routes return.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

interface Operation {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

/** The document's `#/components/schemas/X` references as a JSON Schema's `#/$defs/X`. */
function asDefs(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/'));
}

export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly defs: Record<string, unknown>;
  private readonly ops: { pattern: RegExp; method: string; op: Operation }[] = [];
  private readonly compiled = new Map<object, ValidateFunction>();
  /** "METHOD /path-template status" of every answer checked, to see what a test covered. */
  readonly seen = new Set<string>();

  constructor(private readonly doc: Document) {
    this.defs = asDefs(doc.components.schemas) as Record<string, unknown>;
    for (const [path, methods] of Object.entries(doc.paths)) {
      const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}/?$`);
      for (const [method, op] of Object.entries(methods)) this.ops.push({ pattern, method, op });
    }
  }

  private validator(schema: object): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile({ ...(asDefs(schema) as object), $defs: this.defs });
      this.compiled.set(schema, v);
    }
    return v;
  }

  /**
   * Undefined when `body` is what the document says `method path` answers with `status`, else
   * what is wrong. `path` is the request's path with the /api/v1 prefix, without the query.
   */
  problem(method: string, path: string, status: number, body: unknown, contentType = 'application/json') {
    const found = this.ops.find((o) => o.method === method.toLowerCase() && o.pattern.test(path));
    if (!found) return status === 404 || status === 405 ? undefined : `${method} ${path} is not documented`;
    const template = Object.entries(this.doc.paths).find(
      ([, m]) => m[method.toLowerCase()] === found.op,
    )?.[0];
    this.seen.add(`${method} ${template} ${status}`);
    if (status >= 400) {
      const v = this.validator(this.doc.components.schemas.Error as object);
      return v(body) ? undefined : `${method} ${path} ${status}: ${this.ajv.errorsText(v.errors)}`;
    }
    const answer = found.op.responses[String(status)];
    if (!answer) return `${method} ${path} answered ${status}, which its operation does not document`;
    const media = answer.content?.[contentType.split(';')[0] as string];
    if (!media) return `${method} ${path} answered ${contentType}, which its operation does not document`;
    if (contentType.startsWith('text/')) return undefined;
    const v = this.validator(media.schema);
    return v(body) ? undefined : `${method} ${path} ${status}: ${this.ajv.errorsText(v.errors)}`;
  }
}
