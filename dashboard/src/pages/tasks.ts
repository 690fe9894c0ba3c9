// A node's tasks: a virtualized table (only the rows in view are in the DOM, and only their pages
// are fetched, so 100,000 tasks stay responsive) and the selected task's error, logs, input and
// result, read when it is selected. Rows follow the node's progress.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { duration, jsonDownloadUrl, preview, statusLabel } from '../format.ts';
import { html } from '../html.ts';
import { type TaskRow, useTaskPages } from './task-pages.ts';

/** The whole record of one task (the table's rows leave the values out). */
interface Task extends TaskRow {
  input?: unknown;
  result?: unknown;
  logs?: { stdout?: string[]; stderr?: string[] };
}

const ROW = 30;
const VIEW_ROWS = 18;
const OVERSCAN = 8;

function Value({ label, value }: { label: string; value: unknown }) {
  const p = useMemo(() => preview(value), [value]);
  return html`<div class="value"><h3>${label}</h3><pre>${p.text}</pre>
    ${p.cut && html`<a download=${`${label.toLowerCase()}.json`} href=${jsonDownloadUrl(value)}>Download ${label.toLowerCase()} (JSON)</a>`}</div>`;
}

function TaskDetail({ jobId, row }: { jobId: string; row: TaskRow }) {
  const [task, setTask] = useState<Task | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    setError('');
    const q = new URLSearchParams({ nodeName: row.nodeName });
    if (row.batchIndex !== undefined) q.set('item', String(row.batchIndex));
    else q.set('limit', '1');
    api<Task[]>('GET', `/exec/tasks/${encodeURIComponent(jobId)}?${q}`)
      .then((r) => setTask(r[0]))
      .catch((e: Error) => setError(e.message));
  }, [row.taskId, row.status]);
  const t = task?.taskId === row.taskId ? task : undefined;
  const lines = (ls?: string[]) => (ls?.length ? ls.join('\n') : '');
  return html`<section class="task-detail" aria-label="Task detail" data-testid="task-detail">
    <h2>Task ${row.batchIndex ?? ''} <code>${row.taskId}</code></h2>
    <p><span class=${`status s-${row.status}`}>${statusLabel(row.status)}</span>
      · attempts ${row.attempts} · ${duration(row.finishedAt && row.startedAt ? row.finishedAt - row.startedAt : undefined)}</p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${row.error && html`<div class="value"><h3>Error</h3><pre class="error-text" data-testid="task-error">${row.error}</pre></div>`}
    ${t && lines(t.logs?.stderr) && html`<div class="value"><h3>stderr</h3><pre data-testid="task-stderr">${lines(t.logs?.stderr)}</pre></div>`}
    ${t && lines(t.logs?.stdout) && html`<div class="value"><h3>stdout</h3><pre data-testid="task-stdout">${lines(t.logs?.stdout)}</pre></div>`}
    ${t ? html`<${Value} label="Input" value=${t.input} />` : html`<p>Loading…</p>`}
    ${t?.result !== undefined && html`<${Value} label="Result" value=${t.result} />`}
  </section>`;
}

export function TasksPage({ jobId, nodeName }: { jobId: string; nodeName: string }) {
  const tasks = useTaskPages(jobId, nodeName);
  const [top, setTop] = useState(0);
  const [selected, setSelected] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const scrollFrame = useRef(0);
  const count = tasks.total ?? 0;
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(count, first + VIEW_ROWS + 2 * OVERSCAN);
  useEffect(() => tasks.show(first, last), [first, last, count]);

  if (tasks.error) return html`<h1>${nodeName}</h1><p role="alert" class="error">${tasks.error}</p>`;
  if (tasks.total === undefined) return html`<h1>${nodeName}</h1><p>Loading…</p>`;
  const move = (to: number) => {
    const i = Math.max(0, Math.min(count - 1, to));
    setSelected(i);
    const el = scroller.current;
    if (el && (i * ROW < el.scrollTop || (i + 1) * ROW > el.scrollTop + el.clientHeight))
      el.scrollTop = i * ROW - el.clientHeight / 2;
  };
  const current = tasks.row(selected);
  const rows = [];
  for (let i = first; i < last; i++) {
    const t = tasks.row(i);
    rows.push(
      t
        ? html`<div key=${i} role="row" aria-rowindex=${i + 2} aria-selected=${i === selected}
            class=${`vrow${i === selected ? ' selected' : ''}`} style=${`top:${i * ROW}px`}
            data-task=${t.taskId} onClick=${() => setSelected(i)}>
            <span>${t.batchIndex ?? '—'}</span>
            <span class=${`status s-${t.status}`}>${statusLabel(t.status)}</span>
            <span>${t.attempts}</span>
            <span>${duration(t.finishedAt && t.startedAt ? t.finishedAt - t.startedAt : undefined)}</span>
            <span class="cut">${t.error?.split('\n')[0] ?? ''}</span>
          </div>`
        : html`<div key=${i} role="row" aria-rowindex=${i + 2} aria-busy="true" class="vrow loading"
            style=${`top:${i * ROW}px`}><span>…</span></div>`,
    );
  }
  return html`
    <p><a href=${`#/jobs/${encodeURIComponent(jobId)}`}>← job ${jobId}</a></p>
    <h1>Node ${nodeName}: ${count} task${count === 1 ? '' : 's'}</h1>
    <div class="tasks-layout">
      <div class="vtable" role="grid" aria-rowcount=${count + 1} aria-label="Tasks" tabindex="0"
        onKeyDown=${(e: KeyboardEvent) => {
          const step = { ArrowDown: 1, ArrowUp: -1, PageDown: VIEW_ROWS, PageUp: -VIEW_ROWS }[e.key];
          if (step) {
            e.preventDefault();
            move(selected + step);
          }
        }}>
        <div class="vrow vhead" role="row"><span role="columnheader">Item</span><span role="columnheader">Status</span>
          <span role="columnheader">Attempts</span><span role="columnheader">Duration</span><span role="columnheader">Error</span></div>
        <div class="vbody" ref=${scroller} style=${`height:${VIEW_ROWS * ROW}px`}
          onScroll=${(e: Event) => {
            // One render per frame while scrolling.
            const el = e.target as HTMLElement;
            scrollFrame.current ||= requestAnimationFrame(() => {
              scrollFrame.current = 0;
              setTop(el.scrollTop);
            });
          }}>
          <div style=${`height:${count * ROW}px;position:relative`}>${rows}</div>
        </div>
      </div>
      ${current && html`<${TaskDetail} jobId=${jobId} row=${current} />`}
    </div>
  `;
}
