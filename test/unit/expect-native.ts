// How the raw-binding tests assert an error: the binding's errors come from
// the addon's realm, not jest's sandbox, so they are compared by name (the
// facade re-creates them in the caller's realm), plus their message and code.

export function expectThrows(call: () => unknown, cls: ErrorConstructor, message: RegExp): void {
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
