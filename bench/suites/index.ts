// Every benchmark suite, in the order `npm run bench` runs them.
import type { BenchSuite } from '../types.ts';
import { awsDispatchSuite } from './aws-dispatch.ts';
import { cacheSuite } from './cache.ts';
import { codeApiSuite } from './code-api.ts';
import { dashboardSuite } from './dashboard.ts';
import { engineDispatchSuite } from './engine-dispatch.ts';
import { fetchSuite } from './fetch.ts';
import { ioSuite } from './io.ts';
import { makeSuite } from './make.ts';
import { manyNodesSuite } from './many-nodes.ts';
import { pipelinePlanSuite } from './pipeline-plan.ts';
import { workerDispatch } from './worker-dispatch.ts';
import { workerStartSuite } from './worker-start.ts';

export const suites: BenchSuite[] = [
  pipelinePlanSuite,
  workerDispatch,
  engineDispatchSuite,
  manyNodesSuite,
  makeSuite,
  codeApiSuite,
  ioSuite,
  fetchSuite,
  cacheSuite,
  awsDispatchSuite,
  dashboardSuite,
  workerStartSuite,
];
