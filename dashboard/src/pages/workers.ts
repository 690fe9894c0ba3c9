// Workers: what the engine runs now (job, node, item, running for how long), tasks done and
// failed, tasks/s, and the bytes the built-in IO tasks moved. GET /workers, read again when a
// job's view arrives on the event stream (at most once a second).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, followEvents } from '../api.ts';
import { bytes, duration, localTime } from '../format.ts';
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
  ioBytes?: number;
  ioBytesPerSecond?: number;
  since: string;
}

const REFRESH_MS = 1000;

export function WorkersPage() {
  const [a, setA] = useState<Activity | undefined>();
  const [error, setError] = useState('');
  const [, tick] = useState(0);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    const load = () => {
      last.current = Date.now();
      api<Activity>('GET', '/workers')
        .then(setA)
        .catch((e: Error) => setError(e.message));
    };
    // Read again when a job moves (its views arrive at most every 250 ms), at most once a second:
    // no task events, so an open workers page costs the engine next to nothing.
    const changed = () => {
      if (timer.current) return;
      timer.current = setTimeout(
        () => {
          timer.current = undefined;
          load();
        },
        Math.max(0, last.current + REFRESH_MS - Date.now()),
      );
    };
    load();
    const stop = followEvents({ types: 'job' }, { onEvent: changed, onReset: changed });
    // Redraws the running times once a second (no request).
    const clock = setInterval(() => tick((n) => n + 1), 1000);
    return () => {
      stop();
      clearInterval(clock);
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  if (error) return html`<h1>Workers</h1><p role="alert" class="error">${error}</p>`;
  if (!a) return html`<h1>Workers</h1><p>Loading…</p>`;
  const now = Date.now();
  return html`
    <h1>Workers</h1>
    <section class="summary" aria-label="Worker summary">
      <div><span class="label">Slots</span>${a.slots ?? '—'}</div>
      <div><span class="label">Running</span><span data-testid="workers-running">${a.running.length}</span></div>
      <div><span class="label">Tasks done</span>${a.tasksDone} (${a.tasksFailed} failed)</div>
      <div><span class="label">Rate (last 10 s)</span>${a.tasksPerSecond.toFixed(1)} tasks/s</div>
      <div><span class="label">IO (last 10 s)</span><span data-testid="workers-io">${
        a.ioBytesPerSecond === undefined ? '—' : `${bytes(a.ioBytesPerSecond)}/s`
      }</span></div>
      <div><span class="label">IO moved</span>${a.ioBytes === undefined ? '—' : bytes(a.ioBytes)}</div>
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
