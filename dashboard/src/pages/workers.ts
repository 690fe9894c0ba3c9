// Workers: what the engine runs now (job, node, item, running for how long), tasks done and
// failed, tasks/s, and the bytes the built-in IO tasks moved; on AWS also one line per worker.
// GET /workers, read again when a job's view arrives on the event stream (at most once a second).
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
  /** AWS: the worker (ECS task) running it. */
  workerId?: string;
}
/** AWS: one worker's line (each worker reports what it runs every few seconds). */
interface WorkerLine {
  workerId: string;
  slots?: number;
  running: number;
  tasksDone: number;
  tasksFailed: number;
  tasksPerSecond: number;
  ioBytesPerSecond?: number;
  updatedAt: string;
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
  workers?: WorkerLine[];
}

const REFRESH_MS = 1000;
/** How often an AWS worker reports what it runs (runtime/aws/worker-reports.ts), plus a margin. */
const AWS_REPORT_MS = 6000;

export function WorkersPage() {
  const [a, setA] = useState<Activity | undefined>();
  const [error, setError] = useState('');
  const [, tick] = useState(0);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    let reread: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      last.current = Date.now();
      api<Activity>('GET', '/workers')
        .then((v) => {
          setA(v);
          // AWS: workers report every few seconds, after the job events that made this page read
          // again (a worker's last tasks can reach its report after the job ended): read again
          // once the next reports are in, for as long as the page is open (one small read each).
          if (v.workers) {
            clearTimeout(reread);
            reread = setTimeout(changed, AWS_REPORT_MS);
          }
        })
        .catch((e: Error) => setError(e.message));
    };
    // Read again when a job moves (its views arrive at most every 250 ms), at most once a second:
    // no task events, so an open workers page costs the engine next to nothing.
    function changed() {
      if (timer.current) return;
      timer.current = setTimeout(
        () => {
          timer.current = undefined;
          load();
        },
        Math.max(0, last.current + REFRESH_MS - Date.now()),
      );
    }
    load();
    const stop = followEvents({ types: 'job' }, { onEvent: changed, onReset: changed });
    // Redraws the running times once a second (no request).
    const clock = setInterval(() => tick((n) => n + 1), 1000);
    return () => {
      stop();
      clearInterval(clock);
      clearTimeout(reread);
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
    ${
      a.workers &&
      html`<table class="grid" data-testid="worker-lines">
        <caption>Workers (reported in the last 30 s)</caption>
        <thead><tr><th>Worker</th><th>Slots</th><th>Running</th><th>Tasks done</th><th>Tasks/s</th><th>IO/s</th><th>Reported</th></tr></thead>
        <tbody>${a.workers.map(
          (w) => html`<tr key=${w.workerId}>
            <td>${w.workerId}</td>
            <td>${w.slots ?? '—'}</td>
            <td>${w.running}</td>
            <td>${w.tasksDone} (${w.tasksFailed} failed)</td>
            <td>${w.tasksPerSecond.toFixed(1)}</td>
            <td>${w.ioBytesPerSecond === undefined ? '—' : `${bytes(w.ioBytesPerSecond)}/s`}</td>
            <td>${duration(now - Date.parse(w.updatedAt))} ago</td>
          </tr>`,
        )}</tbody>
      </table>`
    }
    <table class="grid">
      <caption>Tasks running now</caption>
      <thead><tr>${a.workers && html`<th>Worker</th>`}<th>Job</th><th>Node</th><th>Item</th><th>Running for</th></tr></thead>
      <tbody>${a.running.map(
        (r) => html`<tr key=${r.taskId}>
          ${a.workers && html`<td>${r.workerId ?? '—'}</td>`}
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
