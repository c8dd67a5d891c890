// The stack's secrets on an engine stood in for: created once per value, old versions removed unless in use.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { Engine } from '../../src/swarm/engine.js';

jest.unstable_mockModule('@actions/core', () => ({ info: jest.fn() }));
const { ensureSecrets, removeSecrets } = await import('../../src/swarm/secrets.js');
const { LABELS, versionedSecretName } = await import('../../src/naming.js');

const secret = { name: 'secret_key', env: 'APP_SECRET_KEY', value: 'hunter2' };
let objects: { ID: string; Spec: { Name: string; Labels: Record<string, string> } }[];
let inUse: Set<string>;

const engine = {
  createObject: jest.fn(async (_kind: string, name: string, labels: Record<string, string>) => {
    if (objects.some((o) => o.Spec.Name === name)) return false;
    objects.push({ ID: `id-${name}`, Spec: { Name: name, Labels: labels } });
    return true;
  }),
  listObjects: jest.fn(async (_kind: string, filter: { label: string[] }) =>
    objects.filter((o) =>
      filter.label.every((l) => l === `${LABELS.secretStack}=${o.Spec.Labels[LABELS.secretStack]}`),
    ),
  ),
  remove: jest.fn(async (_kind: string, id: string) => {
    if (inUse.has(id)) throw new Error(`secret ${id} is in use by service app`);
    objects = objects.filter((o) => o.ID !== id);
    return true;
  }),
} as unknown as Engine;

beforeEach(() => {
  objects = [];
  inUse = new Set();
});

describe('ensureSecrets', () => {
  test("each secret's current version created once, labelled with its stack; the value in the request only", async () => {
    await ensureSecrets(engine, 'todo', [secret], 'key');
    await ensureSecrets(engine, 'todo', [secret], 'key');
    const name = versionedSecretName('todo', secret, 'key');
    expect(objects.map((o) => o.Spec.Name)).toEqual([name]);
    expect(objects[0].Spec.Labels).toEqual({
      [LABELS.secretStack]: 'todo',
      [LABELS.secretName]: 'secret_key',
    });
    expect(engine.createObject).toHaveBeenLastCalledWith('secrets', name, expect.anything(), 'hunter2');
  });
});

describe('removeSecrets', () => {
  test('every version of the stack but those kept; one in use stays for a later deploy', async () => {
    const names: string[] = [];
    for (const value of ['v1', 'v2', 'v3']) {
      await ensureSecrets(engine, 'todo', [{ ...secret, value }], 'key');
      names.push(versionedSecretName('todo', { ...secret, value }, 'key'));
    }
    await ensureSecrets(engine, 'other', [secret], 'key');
    inUse.add(`id-${names[1]}`);
    await expect(removeSecrets(engine, 'todo', [names[2]])).resolves.toEqual([names[0]]);
    expect(objects.map((o) => o.Spec.Name).sort()).toEqual(
      [names[1], names[2], versionedSecretName('other', secret, 'key')].sort(),
    );
  });

  test('any other refusal stops the run', async () => {
    await ensureSecrets(engine, 'todo', [secret], 'key');
    (engine.remove as jest.Mock).mockImplementationOnce(async () => {
      throw new Error('permission denied');
    });
    await expect(removeSecrets(engine, 'todo')).rejects.toThrow('permission denied');
  });
});
