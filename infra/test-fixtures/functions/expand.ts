// PLACEHOLDER for synth tests only: the real handler is functions/expand.ts (runtime branch).
// Delete infra/test-fixtures/functions/ once functions/ exists.
export const handler = async (event: unknown): Promise<{ placeholder: string; event: unknown }> => ({
  placeholder: 'expand',
  event,
});
