// The `cdk` entry point (cdk.json: `npx tsx infra/app.ts`). Options: see infra/config.ts.
import { buildSluiceApp } from './sluice-app.ts';

buildSluiceApp();
