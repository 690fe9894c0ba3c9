// A node's tasks a page at a time (`GET /exec/tasks/{jobId}?nodeName&limit&after&values=false`):
// only the pages the table shows are fetched, so a 100,000-task node opens as fast as a small one.
// Row r of a batch is batchIndex r + 1, so any page is one request; a node whose indices are not
// 1..n (a dynamic job's) is read page after page from the first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, followEvents } from '../api.ts';

export interface TaskRow {
  taskId: string;
  nodeName: string;
  batchIndex?: number;
  status: string;
  attempts: number;
  error?: string;
  startedAt?: number;
  finishedAt?: number;
}

interface NodeCountsView {
  nodeName: string;
  status: string;
  total: number;
  succeeded: number;
  failed: number;
  stopped: number;
  running?: number;
}

export const PAGE = 200;
/** Visible pages are read again at most this often while the node's counts change. */
const REFRESH_MS = 1000;

export interface TaskPages {
  /** Rows known so far (the node's task count; grows while a dynamic node gets tasks). */
  total: number | undefined;
  nodeStatus: string | undefined;
  error: string;
  /** The row, or undefined while its page loads. */
  row(i: number): TaskRow | undefined;
  /** The rows the table shows: their pages are fetched (and re-read while the node runs). */
  show(first: number, last: number): void;
}

export function useTaskPages(jobId: string, nodeName: string): TaskPages {
  const [, setVersion] = useState(0);
  const [total, setTotal] = useState<number>();
  const [nodeStatus, setNodeStatus] = useState<string>();
  const [error, setError] = useState('');
  const s = useRef({
    pages: new Map<number, TaskRow[]>(),
    loading: new Set<number>(),
    /** undefined until the first page says whether row r is batchIndex r + 1. */
    dense: undefined as boolean | undefined,
    /** First and last row in view. */
    visible: [0, 0] as [number, number],
    stale: false,
    lastRefresh: 0,
    refreshTimer: undefined as ReturnType<typeof setTimeout> | undefined,
    counts: '',
    frame: 0,
    generation: 0,
  }).current;
  const rerender = () => {
    // One render per frame, however many pages arrive.
    s.frame ||= requestAnimationFrame(() => {
      s.frame = 0;
      setVersion((v) => v + 1);
    });
  };

  const fetchPage = (p: number) => {
    if (s.loading.has(p) || (s.pages.has(p) && !s.stale)) return;
    let after: number | undefined;
    if (p > 0) {
      if (s.dense === undefined) return fetchPage(0);
      if (s.dense) after = p * PAGE;
      else {
        const prev = s.pages.get(p - 1);
        if (!prev) return fetchPage(p - 1);
        if (prev.length < PAGE) return;
        after = prev[prev.length - 1]?.batchIndex;
      }
    }
    const q = new URLSearchParams({ nodeName, limit: String(PAGE), values: 'false' });
    if (after !== undefined) q.set('after', String(after));
    const gen = s.generation;
    s.loading.add(p);
    api<TaskRow[]>('GET', `/exec/tasks/${encodeURIComponent(jobId)}?${q}`)
      .then((rows) => {
        s.loading.delete(p);
        if (gen !== s.generation) return;
        const exact = rows.every((t, k) => t.batchIndex === p * PAGE + k + 1);
        if (p === 0 && s.dense === undefined) s.dense = exact;
        else if (s.dense && !exact) {
          // Indices with gaps: from now on read page after page.
          s.dense = false;
          s.pages.clear();
          s.generation++;
        }
        s.pages.set(p, rows);
        if (rows.length < PAGE || s.dense) setTotal((t) => Math.max(t ?? 0, p * PAGE + rows.length));
        rerender();
        // The pages in view that were waiting for this one.
        const [first, last] = s.visible;
        for (let v = Math.floor(first / PAGE); v <= Math.floor(last / PAGE); v++) fetchPage(v);
      })
      .catch((e: Error) => {
        s.loading.delete(p);
        setError(e.message);
      });
  };

  /** The node changed: re-read the pages in view (at most every REFRESH_MS), forget the others. */
  const refresh = () => {
    const wait = s.lastRefresh + REFRESH_MS - Date.now();
    if (wait > 0) {
      s.refreshTimer ??= setTimeout(() => {
        s.refreshTimer = undefined;
        refresh();
      }, wait);
      return;
    }
    s.lastRefresh = Date.now();
    const [first, last] = s.visible;
    const from = Math.floor(first / PAGE);
    const to = Math.floor(last / PAGE);
    for (const p of [...s.pages.keys()]) if ((p < from || p > to) && (s.dense || p > to)) s.pages.delete(p);
    s.stale = true;
    for (let p = from; p <= to; p++) fetchPage(p);
    s.stale = false;
  };

  useEffect(() => {
    const onView = (v: { nodes?: NodeCountsView[] }) => {
      const n = v.nodes?.find((x) => x.nodeName === nodeName);
      if (!n) return;
      setTotal((t) => Math.max(t ?? 0, n.total));
      setNodeStatus(n.status);
      const counts = `${n.total}/${n.succeeded}/${n.failed}/${n.stopped}/${n.running ?? 0}/${n.status}`;
      if (counts !== s.counts) {
        const first = s.counts === '';
        s.counts = counts;
        if (!first) refresh();
      }
    };
    const load = () => {
      s.pages.clear();
      s.generation++;
      s.counts = '';
      api('GET', `/exec/status/${encodeURIComponent(jobId)}`)
        .then(onView)
        .catch((e: Error) => setError(e.message));
      fetchPage(0);
    };
    load();
    // The job's views (throttled by the engine), not every task's events: a page of rows is
    // re-read when the node's counts move.
    const stop = followEvents({ jobId, types: 'job' }, { onEvent: (_t, v) => onView(v), onReset: load });
    return () => {
      stop();
      if (s.refreshTimer) clearTimeout(s.refreshTimer);
      if (s.frame) cancelAnimationFrame(s.frame);
    };
  }, [jobId, nodeName]);

  return {
    total,
    nodeStatus,
    error,
    row: (i) => {
      const page = s.pages.get(Math.floor(i / PAGE));
      return page?.[i % PAGE];
    },
    show: (first, end) => {
      s.visible = [first, Math.max(first, end - 1)];
      for (let p = Math.floor(first / PAGE); p <= Math.floor(s.visible[1] / PAGE); p++) fetchPage(p);
    },
  };
}
