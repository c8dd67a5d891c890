import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { oneShotStackFiles } from '../src/config/one-shot-stack.js';

const BOOK = `# the book's stack
version: '3.7'
x-common: &common
  networks: [net]
networks:
  net: { driver: overlay }
  public: {}
volumes:
  db_data:
  static:
secrets:
  secret_key:
    file: ./secret_key.txt
  db_password:
    external: true
    name: \${DB_PASSWORD_SECRET}
configs:
  nginx: { file: ./nginx.conf }
services:
  db:
    <<: *common
    image: postgres:16
    volumes: ['db_data:/var/lib/postgresql/data']
    secrets: [db_password]
  app:
    image: \${ECR_REGISTRY}/todobackend:\${APP_VERSION}
    networks: [net, public]
    secrets: [secret_key]
    configs: [nginx]
    ports: ['020042:8000']
  migrate:
    <<: *common
    image: \${ECR_REGISTRY}/todobackend:\${APP_VERSION}
    command: [migrate]
    secrets: [{ source: db_password, target: password }]
    environment:
      DEBUG: no
      VERSION: 3.10
    deploy:
      restart_policy: { condition: on-failure, max_attempts: 6 }
  collectstatic:
    image: \${ECR_REGISTRY}/todobackend:\${APP_VERSION}
    volumes:
      - { type: volume, source: static, target: /static }
      - ./public:/public
    deploy:
      restart_policy: { condition: on-failure }
`;

type Doc = Record<string, Record<string, unknown>>;
const cut = (texts: string[], oneShots: string[]) =>
  oneShotStackFiles(texts, oneShots).map((t) => parse(t, { merge: true }) as Doc);

describe('oneShotStackFiles', () => {
  test('keeps only the one-shots and the networks, volumes, secrets and configs they use', () => {
    const [doc] = cut([BOOK], ['migrate', 'collectstatic']);
    expect(Object.keys(doc.services)).toEqual(['migrate', 'collectstatic']);
    expect(Object.keys(doc.networks)).toEqual(['net']);
    expect(Object.keys(doc.volumes)).toEqual(['static']);
    expect(Object.keys(doc.secrets)).toEqual(['db_password']);
    expect(doc.configs).toEqual({});
    expect(doc.version).toBe('3.7');
  });

  test('leaves every scalar as written, for docker to read and interpolate as in the whole file', () => {
    const [text] = oneShotStackFiles([BOOK], ['migrate']);
    expect(text).toContain('DEBUG: no');
    expect(text).toContain('VERSION: 3.10');
    expect(text).toContain('image: ${ECR_REGISTRY}/todobackend:${APP_VERSION}');
    expect(text).toContain('name: ${DB_PASSWORD_SECRET}');
    expect(text).toContain("version: '3.7'");
    expect(text).toContain("# the book's stack");
  });

  test('an anchor from what is cut out is written out in full where a one-shot uses it', () => {
    const files = [
      `services:\n  app:\n    image: a\n    environment: &env\n      DB: db\n  migrate:\n    image: m\n    environment: *env\n`,
    ];
    const [doc] = cut(files, ['migrate']);
    expect(doc.services).toEqual({ migrate: { image: 'm', environment: { DB: 'db' } } });
    // the merge key of the book's stack, too
    const [book] = cut([BOOK], ['migrate']);
    expect(book.services.migrate).toMatchObject({ networks: ['net'] });
  });

  test('a one-shot that names no network is on the default network', () => {
    const files = [
      'networks:\n  default: { driver: overlay }\n  other: {}\nservices:\n  migrate: { image: m }\n  app: { image: a, networks: [other] }\n',
    ];
    const [doc] = cut(files, ['migrate']);
    expect(Object.keys(doc.networks)).toEqual(['default']);
  });

  test('several files: each cut down, references from all of them counted', () => {
    const base =
      'networks:\n  net: {}\n  other: {}\nservices:\n  app: { image: a, networks: [other] }\n  migrate: { image: m }\n';
    const override = 'services:\n  migrate:\n    networks: [net]\n  app:\n    environment: { A: "1" }\n';
    const [first, second] = cut([base, override], ['migrate']);
    expect(Object.keys(first.networks)).toEqual(['net']);
    expect(first.services).toEqual({ migrate: { image: 'm' } });
    expect(second.services).toEqual({ migrate: { networks: ['net'] } });
  });

  test('a reference the docker CLI interpolates keeps every entry of its section', () => {
    const files = [
      'volumes:\n  a: {}\n  b: {}\nservices:\n  migrate:\n    image: m\n    volumes: ["${DATA_VOLUME}:/data"]\n',
    ];
    const [doc] = cut(files, ['migrate']);
    expect(Object.keys(doc.volumes)).toEqual(['a', 'b']);
  });

  test('what docker reads but a strict reading refuses: repeated merge keys, 1 and "1"', () => {
    const files = [
      'x-a: &a\n  A: "1"\nx-b: &b\n  B: "2"\nservices:\n  migrate:\n    image: m\n    environment:\n      <<: *a\n      <<: *b\n    labels:\n      1: one\n      "1": also\n',
    ];
    const [text] = oneShotStackFiles(files, ['migrate']);
    expect(text).toContain('<<:\n        A: "1"');
    expect(text).toContain('<<:\n        B: "2"');
    expect(text).toContain('1: one');
    expect(text).toContain('"1": also');
  });

  test('a merge key among the networks keeps what it brings; networks: with no value is the default network', () => {
    const files = [
      'x-nets: &nets\n  shared: { external: true }\nnetworks:\n  <<: *nets\n  default: { external: true, name: prod }\n  other: {}\nservices:\n  migrate:\n    image: m\n    networks:\n',
    ];
    const [doc] = cut(files, ['migrate']);
    expect(Object.keys(doc.networks).sort()).toEqual(['default', 'shared']);
  });
});
