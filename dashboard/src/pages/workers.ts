// Workers: what the engine runs now (job, node, item, running for how long), tasks done and
// failed, tasks/s. The first view comes from GET /workers, then task events keep it current.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, followEvents } from '../api.ts';
import { duration, localTime } from '../format.ts';
import { html } from '../html.ts';

interface Running {
  taskId: string;
  jobId: string;
  nodeName: string;
  batchIndex?: number;
  startedAt: string;
}
interface Activity {
  slots?: number;
  running: Running[];
  tasksDone: number;
  tasksFailed: number;
  tasksPerSecond: number;
  since: string;
}

export function WorkersPage() {
  const [a, setA] = useState<Activity | undefined>();
  const [error, setError] = useState('');
  const [reload, setReload] = useState(0);
  const finishes = useRef<number[]>([]);
  const [, tick] = useState(0);

  useEffect(() => {
    api<Activity>('GET', '/workers')
      .then(setA)
      .catch((e: Error) => setError(e.message));
  }, [reload]);

  useEffect(() => {
    const stop = followEvents(
      { types: 'task' },
      {
        onEvent: (_t, e) =>
          setA((cur) => {
            if (!cur) return cur;
            if (e.status === 'active') {
              const r: Running = { ...e, startedAt: new Date().toISOString() };
              return { ...cur, running: [...cur.running.filter((x) => x.taskId !== e.taskId), r] };
            }
            const running = cur.running.filter((x) => x.taskId !== e.taskId);
            if (e.status === 'queued') return { ...cur, running };
            finishes.current.push(Date.now());
            return {
              ...cur,
              running,
              tasksDone: cur.tasksDone + 1,
              tasksFailed: cur.tasksFailed + (e.status === 'failed' ? 1 : 0),
            };
          }),
        onReset: () => setReload((n) => n + 1),
      },
    );
    // Redraws the running times and the rate once a second (no request).
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => {
      stop();
      clearInterval(timer);
    };
  }, []);

  if (error) return html`<h1>Workers</h1><p role="alert" class="error">${error}</p>`;
  if (!a) return html`<h1>Workers</h1><p>Loading…</p>`;
  const now = Date.now();
  finishes.current = finishes.current.filter((t) => t > now - 10_000);
  const rate = finishes.current.length ? finishes.current.length / 10 : a.tasksPerSecond;
  return html`
    <h1>Workers</h1>
    <section class="summary" aria-label="Worker summary">
      <div><span class="label">Slots</span>${a.slots ?? '—'}</div>
      <div><span class="label">Running</span><span data-testid="workers-running">${a.running.length}</span></div>
      <div><span class="label">Tasks done</span>${a.tasksDone} (${a.tasksFailed} failed)</div>
      <div><span class="label">Rate (last 10 s)</span>${rate.toFixed(1)} tasks/s</div>
      <div><span class="label">Engine up since</span>${localTime(a.since)}</div>
    </section>
    <table class="grid">
      <caption>Tasks running now</caption>
      <thead><tr><th>Job</th><th>Node</th><th>Item</th><th>Running for</th></tr></thead>
      <tbody>${a.running.map(
        (r) => html`<tr key=${r.taskId}>
          <td><a href=${`#/jobs/${encodeURIComponent(r.jobId)}`}>${r.jobId}</a></td>
          <td><a href=${`#/jobs/${encodeURIComponent(r.jobId)}/nodes/${encodeURIComponent(r.nodeName)}`}>${r.nodeName}</a></td>
          <td>${r.batchIndex ?? '—'}</td>
          <td>${duration(now - Date.parse(r.startedAt))}</td>
        </tr>`,
      )}</tbody>
    </table>
    ${a.running.length === 0 && html`<p>Idle: no task is running.</p>`}
  `;
}
