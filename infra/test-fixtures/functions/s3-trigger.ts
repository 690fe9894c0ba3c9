// PLACEHOLDER for synth tests only: the real handler is functions/s3-trigger.ts (runtime branch).
// Delete infra/test-fixtures/functions/ once functions/ exists.
export const handler = async (event: unknown): Promise<{ placeholder: string; event: unknown }> => ({
  placeholder: 's3-trigger',
  event,
});
