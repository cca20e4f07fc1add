// Asserting errors thrown by the raw binding. They come from the addon's
// realm, not jest's sandbox, so they are compared by name (the facade
// re-creates them in the caller's realm), and carry neonn's error code.

export function expectNativeThrows(call: () => unknown, cls: ErrorConstructor, message: RegExp): void {
  let thrown: unknown;
  try {
    call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeDefined();
  expect((thrown as Error).name).toBe(cls.name);
  expect((thrown as Error).message).toMatch(message);
  expect((thrown as { code?: string }).code).toBe(cls === TypeError ? 'ERR_NEONN_TYPE' : 'ERR_NEONN_RANGE');
}
