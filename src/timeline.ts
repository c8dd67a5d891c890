import * as core from '@actions/core';

export interface Phase {
  name: string;
  /** When the phase started, in seconds from the first phase's start (phases may overlap). */
  started: number;
  seconds: number;
  status: 'ok' | 'failed' | 'skipped';
}

/**
 * Records each phase's start, duration and outcome. A phase that runs alongside others is not a
 * log group (groups cannot overlap); its start is logged instead.
 */
export class Timeline {
  readonly phases: Phase[] = [];
  private readonly origin = Date.now();

  async phase<T>(name: string, fn: () => Promise<T>, { alongside = false } = {}): Promise<T> {
    const start = Date.now();
    const record = (status: Phase['status']) =>
      this.phases.push({
        name,
        started: (start - this.origin) / 1000,
        seconds: (Date.now() - start) / 1000,
        status,
      });
    try {
      if (alongside) core.info(`${name}: started`);
      const value = alongside ? await fn() : await core.group(name, fn);
      record('ok');
      return value;
    } catch (e) {
      // A phase stopped because another one failed did not fail itself.
      record((e as Error).name === 'AbortError' ? 'skipped' : 'failed');
      throw e;
    }
  }
}
