// Jobs: newest first, filtered by status and pipeline, paged; rows change live from the events.
import { useEffect, useState } from 'preact/hooks';
import { api, followEvents } from '../api.ts';
import { duration, localTime, since, statusLabel } from '../format.ts';
import { html } from '../html.ts';

const PAGE = 50;
const STATUSES = ['', 'pending', 'active', 'completed', 'failed', 'stopped'];

interface JobRow {
  jobId: string;
  pipelineName: string;
  status: string;
  priority: number;
  progress?: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export function JobsPage() {
  const [jobs, setJobs] = useState<JobRow[] | undefined>();
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [pipeline, setPipeline] = useState('');
  const [page, setPage] = useState(0);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const q = new URLSearchParams({ limit: '1000' });
    if (status) q.set('status', status);
    if (pipeline) q.set('pipelineName', pipeline);
    api<JobRow[]>('GET', `/exec/jobs?${q}`)
      .then((j) => {
        setJobs(j);
        setError('');
      })
      .catch((e: Error) => setError(e.message));
  }, [status, pipeline, reload]);

  useEffect(
    () =>
      followEvents(
        { types: 'job' },
        {
          onEvent: (_type, v) =>
            setJobs((list) => {
              if (!list) return list;
              const i = list.findIndex((j) => j.jobId === v.jobId);
              if (i < 0) {
                if ((status && v.status !== status) || (pipeline && v.pipelineName !== pipeline)) return list;
                return [v, ...list];
              }
              const next = [...list];
              next[i] = { ...list[i], ...v };
              return next;
            }),
          onReset: () => setReload((n) => n + 1),
        },
      ),
    [status, pipeline],
  );

  const rows = (jobs ?? []).slice(page * PAGE, (page + 1) * PAGE);
  const pages = Math.max(1, Math.ceil((jobs?.length ?? 0) / PAGE));
  return html`
    <h1>Jobs</h1>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Status
        <select value=${status} onChange=${(e: Event) => {
          setStatus((e.target as HTMLSelectElement).value);
          setPage(0);
        }}>
          ${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
        </select>
      </label>
      <label>Pipeline
        <input value=${pipeline} placeholder="any" onChange=${(e: Event) => {
          setPipeline((e.target as HTMLInputElement).value.trim());
          setPage(0);
        }} />
      </label>
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${jobs === undefined && !error && html`<p>Loading…</p>`}
    ${jobs?.length === 0 && html`<p>No jobs yet. Run a stored pipeline from <a href="#/pipelines">Pipelines</a>.</p>`}
    ${
      rows.length > 0 &&
      html`
      <table class="grid jobs">
        <thead><tr><th>Job</th><th>Pipeline</th><th>Status</th><th>Priority</th><th>Progress</th>
          <th>Started</th><th>Duration</th></tr></thead>
        <tbody>
          ${rows.map(
            (j) => html`<tr key=${j.jobId}>
              <td><a href=${`#/jobs/${encodeURIComponent(j.jobId)}`}>${j.jobId}</a></td>
              <td>${j.pipelineName}</td>
              <td><span class=${`status s-${j.status}`}>${statusLabel(j.status)}</span></td>
              <td>${j.priority}</td>
              <td>${j.progress === undefined ? '—' : `${j.progress}%`}</td>
              <td>${localTime(j.startedAt ?? j.createdAt)}</td>
              <td>${duration(since(j.startedAt, j.finishedAt))}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        <button disabled=${page === 0} onClick=${() => setPage(page - 1)}>Newer</button>
        <span>page ${page + 1} of ${pages}</span>
        <button disabled=${page + 1 >= pages} onClick=${() => setPage(page + 1)}>Older</button>
      </nav>`
    }
  `;
}
