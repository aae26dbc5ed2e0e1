// What measuring one of a VM's figures gives (vm-figures.ts, guest-memory-report.ts): the value, or why there is none.

export type Measured<T> = { ok: true; value: T } | { ok: false; problem: string };

export const measured = <T>(value: T): Measured<T> => ({ ok: true, value });
export const problem = <T>(text: string): Measured<T> => ({ ok: false, problem: text });

/** A QMP command and its arguments, answered with QMP's `return` value. */
export type QmpCall = (command: string, args?: Record<string, unknown>) => Promise<unknown>;
