// dispatch: the scheduler's periodic tick (EventBridge every minute): see dispatch-tick.ts.
import type { EcsAlgorithmImages } from '../../../adapters/aws/algorithm-images.ts';
import type { EcsLauncher } from '../../../adapters/aws/ecs-launcher.ts';
import type { AwsEngine } from '../aws-engine.ts';
import { type DispatchResult, dispatchTick } from '../dispatch-tick.ts';

export type { DispatchResult } from '../dispatch-tick.ts';

export function createDispatchHandler(
  engine: () => AwsEngine,
  launcher?: () => EcsLauncher | undefined,
  images?: () => EcsAlgorithmImages | undefined,
) {
  return (): Promise<DispatchResult> => dispatchTick(engine(), launcher?.(), images?.());
}
