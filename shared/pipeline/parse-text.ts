// Reads a descriptor file's text as JSON or YAML (JSON when it starts with `{` or `[`), turning
// every parser failure into one ValidationError that says where (line and column) it went wrong.
import { parseDocument } from 'yaml';
import { ValidationError } from '../errors.ts';
import { INVALID_PIPELINE } from './errors.ts';

export function parsePipelineText(text: string, sourceName?: string): unknown {
  const where = sourceName ? `${sourceName}: ` : '';
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new ValidationError(`${where}the file is empty`, undefined, INVALID_PIPELINE);
  try {
    return trimmed.startsWith('{') || trimmed.startsWith('[') ? parseJson(text) : parseYaml(text);
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ValidationError(`${where}${err.message}`, undefined, INVALID_PIPELINE);
    }
    // A parser's own failure (e.g. too deep nesting) is still just unreadable input.
    throw new ValidationError(
      `${where}unable to parse: ${(err as Error)?.message ?? String(err)}`,
      undefined,
      INVALID_PIPELINE,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const message = (err as Error).message.replace(/\s+/g, ' ');
    // V8 quotes a snippet of the input ('Unexpected token }, "..." is not valid JSON'): drop it.
    const detail = message
      .replace(/, (\.\.\.)?".*" is not valid JSON$/, '')
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/ at position \d+.*$/, '');
    const position = /at position (\d+)/.exec(message);
    const at = position ? lineAndColumn(text, Number(position[1])) : locateWithYaml(text);
    const where = at ? ` at line ${at.line}, column ${at.column}` : '';
    throw new ValidationError(`invalid JSON${where}: ${detail}`);
  }
}

/** V8 does not always say where JSON broke; the YAML parser (JSON is YAML) usually can. */
function locateWithYaml(text: string): { line: number; column: number } | undefined {
  const at = parseDocument(text).errors[0]?.linePos?.[0];
  return at ? { line: at.line, column: at.col } : undefined;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).replace(/^\uFEFF/, '');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const location = at ? ` at line ${at.line}, column ${at.col}` : '';
    throw new ValidationError(`invalid YAML${location}: ${reason}`);
  }
  return doc.toJS({ maxAliasCount: 100 });
}
