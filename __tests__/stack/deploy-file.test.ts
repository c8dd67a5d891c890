// The document deployed: docker's rendering, images pinned, labels added, written so that docker's
// second reading gives it back.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { deployDocument, deployText, firstDifference, oneShotDocument } from '../../src/stack/deploy-file.js';
import { recordedWorkspace, rendered } from '../helpers/rendered.js';

const REF = '123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:pr-7-abc1234';
const PINNED = `${REF}@sha256:${'ab'.repeat(32)}`;
let workspace = '';
beforeAll(() => {
  workspace = recordedWorkspace();
});
const fixture = () => rendered('fixture-stack', workspace);

describe('deployDocument', () => {
  test("every service running the run's image gets its digest; labels join each service's own; env_file and build go", () => {
    const doc = fixture();
    doc.services.app.build = { context: '.' };
    const out = deployDocument(doc, { pins: { [REF]: PINNED }, labels: { 'com.example.commit': 'abc' } });
    expect(Object.values(out.services).map((s) => s.image)).toEqual([PINNED, PINNED, PINNED]);
    expect(out.services.app.deploy).toEqual({
      endpoint_mode: 'dnsrr',
      labels: { 'com.example.team': 'web', 'com.example.commit': 'abc' },
    });
    expect(out.services.app.env_file).toBeUndefined();
    expect(out.services.app.build).toBeUndefined();
    // The env_file's variables are in the rendering's environment already.
    expect(out.services.app.environment).toEqual({ FROM_ENV_FILE: '1', PRICE: 'costs $5', UNSET: null });
    // The rendering itself is left as it was.
    expect(doc.services.app.image).toBe(REF);
  });

  test("an image that is not the run's keeps its reference", () => {
    const doc = fixture();
    doc.services.db.image = 'postgres:16';
    expect(deployDocument(doc, { pins: { [REF]: PINNED }, labels: {} }).services.db.image).toBe(
      'postgres:16',
    );
  });
});

describe('oneShotDocument', () => {
  test('the one-shots and the networks, volumes, secrets and configs they use', () => {
    const cut = oneShotDocument(fixture(), ['migrate']);
    expect(Object.keys(cut.services)).toEqual(['migrate']);
    expect(cut.networks).toEqual({ net: { driver: 'overlay' } });
    // Sections it uses nothing of are left out, as docker's reading of the file leaves them.
    expect('volumes' in cut || 'secrets' in cut).toBe(false);
  });

  test('a one-shot on no network of its own keeps the default one; a named volume and a secret it uses stay', () => {
    const doc = fixture();
    doc.networks = { default: { driver: 'overlay' }, net: { driver: 'overlay' } };
    doc.services.migrate.networks = undefined;
    doc.services.migrate.volumes = [{ type: 'volume', source: 'db_data', target: '/d' }];
    doc.services.migrate.secrets = [{ source: 'secret_key' }];
    const cut = oneShotDocument(doc, ['migrate']);
    expect(Object.keys(cut.networks as object)).toEqual(['default']);
    expect(Object.keys(cut.volumes as object)).toEqual(['db_data']);
    expect(Object.keys(cut.secrets as object)).toEqual(['secret_key']);
  });
});

describe('deployText', () => {
  test('every $ in a value doubled (docker reads $$ back as $); keys as they are', () => {
    const doc = fixture();
    doc.services.app.labels = { a$b: 'x$y', n: 5 };
    const text = JSON.parse(deployText(doc)) as typeof doc;
    expect(text.services.app.environment).toEqual({ FROM_ENV_FILE: '1', PRICE: 'costs $$5', UNSET: null });
    expect(text.services.app.labels).toEqual({ a$b: 'x$$y', n: 5 });
  });
});

describe('firstDifference', () => {
  test('the path of the first difference, or none', () => {
    const doc = fixture();
    expect(firstDifference(doc, fixture())).toBeUndefined();
    const other = fixture();
    (other.services.app.environment as Record<string, unknown>).PRICE = 'costs $$5';
    expect(firstDifference(doc, other)).toBe('services.app.environment.PRICE');
    other.services.app.environment = undefined;
    expect(firstDifference(doc, other)).toBe('services.app.environment');
  });
});
