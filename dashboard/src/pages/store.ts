// Stored pipelines and algorithms: list, view and edit as YAML or JSON (the API's validation
// message shown next to the editor), run a pipeline with a flowInput, and the cron triggers.
import { useEffect, useState } from 'preact/hooks';
import { parse, stringify } from 'yaml';
import { api } from '../api.ts';
import { localTime } from '../format.ts';
import { html } from '../html.ts';

type Kind = 'pipelines' | 'algorithms';
interface Stored {
  name: string;
  description?: string;
  nodes?: unknown[];
  env?: string;
  flowInput?: unknown;
}
interface Cron {
  name: string;
  pattern: string;
  enabled: boolean;
  nextRun?: string;
}

export function StoreList({ kind }: { kind: Kind }) {
  const [items, setItems] = useState<Stored[] | undefined>();
  const [crons, setCrons] = useState<Cron[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    setItems(undefined);
    api<Stored[]>('GET', `/store/${kind}`)
      .then(setItems)
      .catch((e: Error) => setError(e.message));
    if (kind === 'pipelines')
      api<Cron[]>('GET', '/cron/list')
        .then(setCrons)
        .catch(() => setCrons([]));
  }, [kind]);
  const cronOf = (name: string) => crons.find((c) => c.name === name);
  return html`
    <h1>${kind === 'pipelines' ? 'Pipelines' : 'Algorithms'}</h1>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${items?.length === 0 && html`<p>None stored yet. Store one with <code>sluice store ${kind === 'pipelines' ? 'pipeline' : 'algorithm'} FILE</code>.</p>`}
    ${
      items &&
      items.length > 0 &&
      html`<table class="grid">
      <thead><tr><th>Name</th><th>${kind === 'pipelines' ? 'Nodes' : 'Environment'}</th><th>Description</th>
        ${kind === 'pipelines' && html`<th>Cron</th><th>Next run</th>`}</tr></thead>
      <tbody>${items.map((p) => {
        const c = cronOf(p.name);
        return html`<tr key=${p.name}>
          <td><a href=${`#/${kind}/${encodeURIComponent(p.name)}`}>${p.name}</a></td>
          <td>${kind === 'pipelines' ? (p.nodes?.length ?? 0) : p.env}</td>
          <td>${p.description ?? ''}</td>
          ${
            kind === 'pipelines' &&
            html`<td>${c ? `${c.pattern}${c.enabled ? '' : ' (off)'}` : '—'}</td>
            <td>${c?.enabled ? localTime(c.nextRun) : '—'}</td>`
          }
        </tr>`;
      })}</tbody></table>`
    }
  `;
}

export function StorePage({ kind, name }: { kind: Kind; name: string }) {
  const [format, setFormat] = useState<'yaml' | 'json'>('yaml');
  const [text, setText] = useState<string | undefined>();
  const [error, setError] = useState<{ message: string; field?: string } | undefined>();
  const [saved, setSaved] = useState('');
  const [flowInput, setFlowInput] = useState('');
  const path = `/store/${kind}/${encodeURIComponent(name)}`;

  useEffect(() => {
    api<Stored>('GET', path)
      .then((p) => {
        setText(stringify(p));
        setFlowInput(JSON.stringify(p.flowInput ?? {}, null, 2));
      })
      .catch((e: Error) => setError({ message: e.message }));
  }, [kind, name]);

  const parsed = (): unknown => {
    try {
      return format === 'yaml' ? parse(text ?? '') : JSON.parse(text ?? '');
    } catch (e) {
      throw new Error(`not valid ${format.toUpperCase()}: ${(e as Error).message}`);
    }
  };
  const switchTo = (f: 'yaml' | 'json') => {
    try {
      const v = parsed();
      setText(f === 'yaml' ? stringify(v) : JSON.stringify(v, null, 2));
      setFormat(f);
      setError(undefined);
    } catch (e) {
      setError({ message: (e as Error).message });
    }
  };
  const save = async () => {
    setSaved('');
    try {
      await api('PUT', `/store/${kind}`, parsed());
      setError(undefined);
      setSaved('Saved.');
    } catch (e) {
      setError({ message: (e as Error).message, field: (e as { field?: string }).field });
    }
  };
  const run = async () => {
    try {
      const input = flowInput.trim() ? JSON.parse(flowInput) : undefined;
      const r = await api('POST', '/exec/stored', { name, ...(input ? { flowInput: input } : {}) });
      location.hash = `#/jobs/${encodeURIComponent(r.jobId)}`;
    } catch (e) {
      setError({ message: (e as Error).message });
    }
  };

  return html`
    <p><a href=${`#/${kind}`}>← ${kind}</a></p>
    <h1>${name}</h1>
    <div class="editor-bar" role="group" aria-label="Format">
      <button aria-pressed=${format === 'yaml'} onClick=${() => switchTo('yaml')}>YAML</button>
      <button aria-pressed=${format === 'json'} onClick=${() => switchTo('json')}>JSON</button>
      <button class="primary" onClick=${save}>Save</button>
      ${saved && html`<span role="status">${saved}</span>`}
    </div>
    ${error && html`<p role="alert" class="error" data-testid="validation">${error.message}${error.field ? ` (field: ${error.field})` : ''}</p>`}
    ${
      text !== undefined &&
      html`<textarea class="code" aria-label=${`${name} as ${format}`} spellcheck="false"
      rows="24" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>`
    }
    ${
      kind === 'pipelines' &&
      html`<section class="run-form" aria-label="Run">
      <h2>Run</h2>
      <label>flowInput (JSON)<textarea class="code" rows="6" aria-label="flowInput" value=${flowInput}
        onInput=${(e: Event) => setFlowInput((e.target as HTMLTextAreaElement).value)}></textarea></label>
      <button class="primary" onClick=${run}>Run ${name}</button>
    </section>`
    }
  `;
}
