// The job's DAG, laid out by dagre: each node a box with its name, its status in words, and for a
// batch its succeeded / failed / running / queued counts; each edge labelled by how the child
// uses the parent (`@`, `#@`, `*@`). Nodes are buttons: Tab reaches them, Enter opens the tasks.
import dagre from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import { statusLabel } from '../format.ts';
import { html } from '../html.ts';

export interface NodeView {
  nodeName: string;
  status: string;
  batch?: boolean;
  total: number;
  succeeded: number;
  failed: number;
  stopped: number;
  queued?: number;
  running?: number;
  /** Jobs the node's code started (HKube's code API). */
  children?: { jobId: string; callIndex: number }[];
}

interface PipelineNode {
  nodeName: string;
  input?: unknown[];
}

const W = 190;
const H = 64;

/** `@`, `#@`, `*@` edges from the input references of each node (`@flowInput` is no node). */
export function edgesOf(nodes: PipelineNode[]): { from: string; to: string; label: string }[] {
  const names = new Set(nodes.map((n) => n.nodeName));
  const out = new Map<string, { from: string; to: string; label: string }>();
  const visit = (to: string, v: unknown) => {
    if (typeof v === 'string') {
      const m = /^(\*#@|#@|\*@|@)([^.[\s]+)/.exec(v.trim());
      if (m?.[2] && names.has(m[2])) {
        const key = `${m[2]}>${to}`;
        const labels = out.get(key)?.label.split(' ') ?? [];
        if (!labels.includes(m[1]!)) labels.push(m[1]!);
        out.set(key, { from: m[2], to, label: labels.join(' ') });
      }
    } else if (Array.isArray(v)) for (const x of v) visit(to, x);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) visit(to, x);
  };
  for (const n of nodes) visit(n.nodeName, n.input ?? []);
  return [...out.values()];
}

function countsText(n: NodeView): string {
  const parts = [`${n.succeeded}/${n.total} ✓`];
  if (n.failed) parts.push(`${n.failed} ✗`);
  if (n.running) parts.push(`${n.running} ▶`);
  if (n.queued) parts.push(`${n.queued} queued`);
  if (n.stopped) parts.push(`${n.stopped} ■`);
  return parts.join(' · ');
}

export function Dag(props: {
  pipelineNodes: PipelineNode[];
  nodes: NodeView[];
  selected?: string;
  onSelect(name: string): void;
  onOpen(name: string): void;
}) {
  const { pipelineNodes } = props;
  // The layout depends on the graph only: live updates change labels, never positions.
  const layout = useMemo(() => {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 70, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of pipelineNodes) g.setNode(n.nodeName, { width: W, height: H });
    const edges = edgesOf(pipelineNodes);
    for (const e of edges) g.setEdge(e.from, e.to, { label: e.label, width: 24, height: 14 });
    dagre.layout(g);
    const graph = g.graph();
    return {
      width: (graph.width ?? 0) + 16,
      height: (graph.height ?? 0) + 16,
      nodes: new Map(pipelineNodes.map((n) => [n.nodeName, g.node(n.nodeName)])),
      edges: edges.map((e) => ({ ...e, points: g.edge(e.from, e.to).points ?? [] })),
    };
  }, [pipelineNodes]);
  const byName = new Map(props.nodes.map((n) => [n.nodeName, n]));
  return html`
    <svg class="dag" role="group" aria-label="Pipeline graph" width=${layout.width} height=${layout.height}
      viewBox=${`0 0 ${layout.width} ${layout.height}`}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" class="arrow" /></marker></defs>
      ${layout.edges.map((e) => {
        const pts = e.points;
        const mid = pts[Math.floor(pts.length / 2)] ?? { x: 0, y: 0 };
        return html`<g class="edge" key=${`${e.from}>${e.to}`}>
          <polyline points=${pts.map((p: { x: number; y: number }) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />
          <text x=${mid.x} y=${mid.y - 4} text-anchor="middle" class="edge-label">${e.label}</text>
        </g>`;
      })}
      ${pipelineNodes.map((pn) => {
        const pos = layout.nodes.get(pn.nodeName);
        const n = byName.get(pn.nodeName);
        if (!pos) return null;
        const status = n?.status ?? 'pending';
        const x = pos.x - W / 2;
        const y = pos.y - H / 2;
        return html`<g key=${pn.nodeName} class=${`node s-${status}${props.selected === pn.nodeName ? ' selected' : ''}`}
          transform=${`translate(${x},${y})`} tabindex="0" role="button" data-node=${pn.nodeName}
          aria-label=${`${pn.nodeName}: ${status}${n ? `, ${countsText(n)}` : ''}`}
          onClick=${() => props.onSelect(pn.nodeName)}
          onDblClick=${() => props.onOpen(pn.nodeName)}
          onKeyDown=${(ev: KeyboardEvent) => {
            if (ev.key === 'Enter') props.onOpen(pn.nodeName);
            if (ev.key === ' ') {
              ev.preventDefault();
              props.onSelect(pn.nodeName);
            }
          }}>
          <rect width=${W} height=${H} rx="6" />
          <text x="10" y="19" class="node-name">${pn.nodeName}</text>
          <text x="10" y="37" class="node-status">${statusLabel(status)}</text>
          <text x="10" y="55" class="node-counts">${n ? countsText(n) : ''}</text>
        </g>`;
      })}
    </svg>
  `;
}
