// Preact with htm: components written as tagged templates, so the dashboard needs no JSX step.
export { html } from 'htm/preact';
