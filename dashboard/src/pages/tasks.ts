// A node's tasks: a virtualized table (only the rows in view are in the DOM, so 100,000 tasks
// scroll smoothly) and the selected task's error, logs, input and result. Rows change live.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, followEvents } from '../api.ts';
import { duration, jsonDownloadUrl, preview, statusLabel } from '../format.ts';
import { html } from '../html.ts';

interface Task {
  taskId: string;
  nodeName: string;
  batchIndex?: number;
  status: string;
  attempts: number;
  error?: string;
  logs?: string[];
  input?: unknown;
  result?: unknown;
  startedAt?: number;
  finishedAt?: number;
  worker?: string;
}

const ROW = 30;
const VIEW_ROWS = 18;
const OVERSCAN = 8;

function Value({ label, value }: { label: string; value: unknown }) {
  const p = useMemo(() => preview(value), [value]);
  return html`<div class="value"><h3>${label}</h3><pre>${p.text}</pre>
    ${p.cut && html`<a download=${`${label.toLowerCase()}.json`} href=${jsonDownloadUrl(value)}>Download ${label.toLowerCase()} (JSON)</a>`}</div>`;
}

function TaskDetail({ jobId, task }: { jobId: string; task: Task }) {
  const [logs, setLogs] = useState<{ stdout?: string; stderr?: string } | undefined>();
  useEffect(() => {
    setLogs(undefined);
    // The logs route keeps each task's stdout and stderr; older engines only have task.logs.
    const q = new URLSearchParams({ node: task.nodeName });
    if (task.batchIndex !== undefined) q.set('item', String(task.batchIndex));
    api('GET', `/exec/logs/${encodeURIComponent(jobId)}?${q}`)
      .then((r) =>
        setLogs(r.tasks?.find((t: { taskId: string }) => t.taskId === task.taskId) ?? r.tasks?.[0]),
      )
      .catch(() => setLogs({ stdout: (task.logs ?? []).join('\n') }));
  }, [task.taskId, task.status]);
  return html`<section class="task-detail" aria-label="Task detail" data-testid="task-detail">
    <h2>Task ${task.batchIndex ?? ''} <code>${task.taskId}</code></h2>
    <p><span class=${`status s-${task.status}`}>${statusLabel(task.status)}</span>
      · attempts ${task.attempts} · ${duration(task.finishedAt && task.startedAt ? task.finishedAt - task.startedAt : undefined)}</p>
    ${task.error && html`<div class="value"><h3>Error</h3><pre class="error-text" data-testid="task-error">${task.error}</pre></div>`}
    ${logs?.stderr && html`<div class="value"><h3>stderr</h3><pre data-testid="task-stderr">${logs.stderr}</pre></div>`}
    ${logs?.stdout && html`<div class="value"><h3>stdout</h3><pre data-testid="task-stdout">${logs.stdout}</pre></div>`}
    <${Value} label="Input" value=${task.input} />
    ${task.result !== undefined && html`<${Value} label="Result" value=${task.result} />`}
  </section>`;
}

export function TasksPage({ jobId, nodeName }: { jobId: string; nodeName: string }) {
  const [tasks, setTasks] = useState<Task[] | undefined>();
  const [error, setError] = useState('');
  const [top, setTop] = useState(0);
  const [selected, setSelected] = useState(0);
  const [reload, setReload] = useState(0);
  const index = useRef(new Map<string, number>());
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api<Task[]>('GET', `/exec/tasks/${encodeURIComponent(jobId)}?nodeName=${encodeURIComponent(nodeName)}`)
      .then((list) => {
        list.sort((a, b) => (a.batchIndex ?? 0) - (b.batchIndex ?? 0));
        index.current = new Map(list.map((t, i) => [t.taskId, i]));
        setTasks(list);
      })
      .catch((e: Error) => setError(e.message));
  }, [jobId, nodeName, reload]);

  useEffect(
    () =>
      followEvents(
        { jobId, types: 'task' },
        {
          onEvent: (_t, e) => {
            if (e.nodeName !== nodeName) return;
            const i = index.current.get(e.taskId);
            if (i === undefined) return;
            setTasks((list) => {
              if (!list?.[i]) return list;
              const next = list.slice();
              next[i] = { ...list[i]!, status: e.status };
              return next;
            });
          },
          onReset: () => setReload((n) => n + 1),
        },
      ),
    [jobId, nodeName],
  );

  if (error) return html`<h1>${nodeName}</h1><p role="alert" class="error">${error}</p>`;
  if (!tasks) return html`<h1>${nodeName}</h1><p>Loading…</p>`;
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
  const last = Math.min(tasks.length, first + VIEW_ROWS + 2 * OVERSCAN);
  const move = (to: number) => {
    const i = Math.max(0, Math.min(tasks.length - 1, to));
    setSelected(i);
    const el = scroller.current;
    if (el && (i * ROW < el.scrollTop || (i + 1) * ROW > el.scrollTop + el.clientHeight))
      el.scrollTop = i * ROW - el.clientHeight / 2;
  };
  const current = tasks[selected];
  return html`
    <p><a href=${`#/jobs/${encodeURIComponent(jobId)}`}>← job ${jobId}</a></p>
    <h1>Node ${nodeName}: ${tasks.length} task${tasks.length === 1 ? '' : 's'}</h1>
    <div class="tasks-layout">
      <div class="vtable" role="grid" aria-rowcount=${tasks.length + 1} aria-label="Tasks" tabindex="0"
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
          onScroll=${(e: Event) => setTop((e.target as HTMLElement).scrollTop)}>
          <div style=${`height:${tasks.length * ROW}px;position:relative`}>
            ${tasks.slice(first, last).map((t, k) => {
              const i = first + k;
              return html`<div key=${t.taskId} role="row" aria-rowindex=${i + 2} aria-selected=${i === selected}
                class=${`vrow${i === selected ? ' selected' : ''}`} style=${`top:${i * ROW}px`}
                data-task=${t.taskId} onClick=${() => setSelected(i)}>
                <span>${t.batchIndex ?? '—'}</span>
                <span class=${`status s-${t.status}`}>${statusLabel(t.status)}</span>
                <span>${t.attempts}</span>
                <span>${duration(t.finishedAt && t.startedAt ? t.finishedAt - t.startedAt : undefined)}</span>
                <span class="cut">${t.error?.split('\n')[0] ?? ''}</span>
              </div>`;
            })}
          </div>
        </div>
      </div>
      ${current && html`<${TaskDetail} jobId=${jobId} task=${current} />`}
    </div>
  `;
}
