// A job: the live DAG, overall progress, tasks/s and ETA, the reason of a failure; stop, re-run
// and run from a node. Follows the job's events; never polls.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, followEvents } from '../api.ts';
import { duration, FINAL, localTime, since, statusLabel } from '../format.ts';
import { html } from '../html.ts';
import { Dag, type NodeView } from './dag.ts';

interface JobView {
  jobId: string;
  pipelineName: string;
  status: string;
  reason?: string;
  priority: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  progress: number;
  tasks: { created: number; remaining: number; running: number; succeeded: number; failed: number };
  nodes: NodeView[];
}

/** Tasks per second over the last ~10 s of job events, and the ETA it gives. */
function useRate(view?: JobView) {
  const samples = useRef<{ t: number; done: number }[]>([]);
  if (!view) return { rate: undefined, eta: undefined };
  const done = view.tasks.created - view.tasks.remaining;
  const now = Date.now();
  const s = samples.current;
  if (!s.length || s[s.length - 1]!.done !== done) s.push({ t: now, done });
  while (s.length > 2 && now - s[0]!.t > 10_000) s.shift();
  const first = s[0]!;
  const rate = s.length > 1 && now > first.t ? ((done - first.done) * 1000) / (now - first.t) : undefined;
  const eta = rate && view.tasks.remaining ? (view.tasks.remaining / rate) * 1000 : undefined;
  return { rate, eta };
}

export function JobPage({ jobId }: { jobId: string }) {
  const [view, setView] = useState<JobView | undefined>();
  const [pipeline, setPipeline] = useState<{ nodes: { nodeName: string; input?: unknown[] }[] }>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [selected, setSelected] = useState<string | undefined>();
  const [reload, setReload] = useState(0);
  const id = encodeURIComponent(jobId);

  useEffect(() => {
    api('GET', `/exec/status/${id}`)
      .then(setView)
      .catch((e: Error) => setError(e.message));
    api('GET', `/exec/pipelines/${id}`)
      .then(setPipeline)
      .catch(() => {});
  }, [jobId, reload]);

  useEffect(() => {
    // At most one render per frame: views that arrive together (a reconnect's backlog, a burst
    // after a busy moment) are drawn once, the newest.
    let latest: JobView | undefined;
    let frame = 0;
    const stop = followEvents(
      { jobId, types: 'job' },
      {
        onEvent: (_t, v) => {
          latest = v;
          frame ||= requestAnimationFrame(() => {
            frame = 0;
            setView(latest);
          });
        },
        onReset: () => setReload((n) => n + 1),
      },
    );
    return () => {
      stop();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [jobId]);

  const { rate, eta } = useRate(view);
  const act = async (what: () => Promise<{ jobId?: string }>, go: boolean) => {
    try {
      setNotice('');
      const r = await what();
      if (go && r.jobId) location.hash = `#/jobs/${encodeURIComponent(r.jobId)}`;
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  if (error) return html`<h1>Job ${jobId}</h1><p role="alert" class="error">${error}</p>`;
  if (!view) return html`<h1>Job ${jobId}</h1><p>Loading…</p>`;
  const final = FINAL.includes(view.status);
  const t = view.tasks;
  return html`
    <h1>Job <code>${view.jobId}</code></h1>
    <section class="summary" aria-label="Job summary">
      <div><span class="label">Pipeline</span>${view.pipelineName}</div>
      <div><span class="label">Status</span><strong class=${`status s-${view.status}`} data-testid="job-status">${statusLabel(view.status)}</strong></div>
      <div><span class="label">Progress</span>
        <progress max="100" value=${view.progress} aria-label="progress"></progress> ${view.progress}%</div>
      <div><span class="label">Tasks</span>${t.succeeded} ✓ · ${t.failed} ✗ · ${t.running} ▶ of ${t.created}</div>
      <div><span class="label">Rate</span>${rate === undefined || final ? '—' : `${rate.toFixed(1)} tasks/s`}</div>
      <div><span class="label">ETA</span>${final ? '—' : duration(eta)}</div>
      <div><span class="label">Started</span>${localTime(view.startedAt ?? view.createdAt)}</div>
      <div><span class="label">Duration</span>${duration(since(view.startedAt, view.finishedAt))}</div>
    </section>
    ${view.reason && html`<p class="reason" role="status" data-testid="job-reason"><strong>Reason:</strong> ${view.reason}</p>`}
    <div class="actions">
      <button disabled=${final} onClick=${() => act(() => api('POST', '/exec/stop', { jobId }), false)}>Stop</button>
      <button onClick=${() => act(() => api('POST', '/exec/rerun', { jobId }), true)}>Re-run</button>
      <button disabled=${!selected}
        onClick=${() => act(() => api('POST', '/exec/caching', { jobId, nodeName: selected }), true)}>
        Run from ${selected ?? 'a node (select one)'}</button>
      ${final && html`<a class="button" href=${`#/jobs/${id}/results`}>Results</a>`}
    </div>
    ${notice && html`<p role="alert" class="error">${notice}</p>`}
    <div class="dag-wrap">
      ${
        pipeline &&
        html`<${Dag} pipelineNodes=${pipeline.nodes} nodes=${view.nodes} selected=${selected}
        onSelect=${(n: string) => setSelected(n === selected ? undefined : n)}
        onOpen=${(n: string) => {
          location.hash = `#/jobs/${id}/nodes/${encodeURIComponent(n)}`;
        }} />`
      }
    </div>
    <table class="grid nodes">
      <caption>Nodes (select a node for “Run from”, open it for its tasks)</caption>
      <thead><tr><th>Node</th><th>Status</th><th>Total</th><th>Succeeded</th><th>Failed</th><th>Running</th>
        <th>Queued</th><th>Retried</th></tr></thead>
      <tbody>${view.nodes.map(
        (n) => html`<tr key=${n.nodeName} data-node=${n.nodeName}>
          <td><a href=${`#/jobs/${id}/nodes/${encodeURIComponent(n.nodeName)}`}>${n.nodeName}</a>${n.batch ? ' (batch)' : ''}
            ${(n.children ?? []).map(
              (
                c,
              ) => html` <a class="child-job" data-testid="child-job" href=${`#/jobs/${encodeURIComponent(c.jobId)}`}
                title=${`job ${c.jobId}, started by this node's code`}>↳ call ${c.callIndex}</a>`,
            )}</td>
          <td><span class=${`status s-${n.status}`}>${statusLabel(n.status)}</span></td>
          <td>${n.total}</td><td>${n.succeeded}</td><td>${n.failed}</td><td>${n.running ?? 0}</td>
          <td>${n.queued ?? 0}</td><td>${(n as { retried?: number }).retried ?? 0}</td>
        </tr>`,
      )}</tbody>
    </table>
  `;
}
