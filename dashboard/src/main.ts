// The dashboard's shell: hash routes to pages, the navigation, and the token from the link.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { captureToken } from './api.ts';
import { html } from './html.ts';
import { JobPage } from './pages/job.ts';
import { JobsPage } from './pages/jobs.ts';
import { ResultsPage } from './pages/results.ts';
import { StoreList, StorePage } from './pages/store.ts';
import { TasksPage } from './pages/tasks.ts';
import { WorkersPage } from './pages/workers.ts';

function currentRoute(): string[] {
  return location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
}

function Page({ route }: { route: string[] }) {
  const [a, b, c, d] = route;
  if (a === 'jobs' && b && c === 'nodes' && d)
    return html`<${TasksPage} key=${`${b}/${d}`} jobId=${b} nodeName=${d} />`;
  if (a === 'jobs' && b && c === 'results') return html`<${ResultsPage} key=${b} jobId=${b} />`;
  if (a === 'jobs' && b) return html`<${JobPage} key=${b} jobId=${b} />`;
  if ((a === 'pipelines' || a === 'algorithms') && b)
    return html`<${StorePage} key=${`${a}/${b}`} kind=${a} name=${b} />`;
  if (a === 'pipelines' || a === 'algorithms') return html`<${StoreList} key=${a} kind=${a} />`;
  if (a === 'workers') return html`<${WorkersPage} />`;
  return html`<${JobsPage} />`;
}

function App() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const here = route[0] ?? 'jobs';
  const link = (to: string, label: string) =>
    html`<a href=${`#/${to}`} aria-current=${here === to ? 'page' : undefined}>${label}</a>`;
  return html`
    <header class="top">
      <strong class="brand">Sluice</strong>
      <nav aria-label="Main">${link('jobs', 'Jobs')} ${link('pipelines', 'Pipelines')}
        ${link('algorithms', 'Algorithms')} ${link('workers', 'Workers')}</nav>
    </header>
    <main><${Page} route=${route} /></main>
  `;
}

captureToken();
render(html`<${App} />`, document.getElementById('app')!);
