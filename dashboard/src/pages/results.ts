// A finished job's results, with a download as JSON.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { jsonDownloadUrl, preview, statusLabel } from '../format.ts';
import { html } from '../html.ts';

export function ResultsPage({ jobId }: { jobId: string }) {
  // biome-ignore lint/suspicious/noExplicitAny: the API's results body
  const [r, setR] = useState<any>();
  const [error, setError] = useState('');
  useEffect(() => {
    api('GET', `/exec/results/${encodeURIComponent(jobId)}`)
      .then(setR)
      .catch((e: Error) => setError(e.message));
  }, [jobId]);
  const back = html`<p><a href=${`#/jobs/${encodeURIComponent(jobId)}`}>← job ${jobId}</a></p>`;
  if (error) return html`${back}<p role="alert" class="error">${error}</p>`;
  if (!r) return html`${back}<p>Loading…</p>`;
  return html`${back}
    <h1>Results of ${r.pipelineName}</h1>
    <p><span class=${`status s-${r.status}`}>${statusLabel(r.status)}</span>${r.error ? ` — ${r.error}` : ''}</p>
    ${
      r.data === null
        ? html`<p>No results yet: the job has not finished.</p>`
        : html`<a class="button" download=${`${jobId}-results.json`} href=${jsonDownloadUrl(r)}>Download JSON</a>
        <pre class="results" data-testid="results">${preview(r.data, 200_000).text}</pre>`
    }`;
}
