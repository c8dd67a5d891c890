import { describe, expect, test } from '@jest/globals';
import { detectBuilder } from '../../src/registry/builder.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('detectBuilder', () => {
  test("BuildKit when docker build offers --secret (buildx installed): the CLI's own choice", async () => {
    const { docker } = fakeDocker({ buildKit: () => true });
    await expect(detectBuilder(docker, false)).resolves.toEqual({ buildKit: true });
  });

  test('the classic builder otherwise', async () => {
    const { docker } = fakeDocker();
    await expect(detectBuilder(docker, false)).resolves.toEqual({ buildKit: false });
  });

  test('build-secrets with a CLI that has no BuildKit: an error naming the input and the fix', async () => {
    const { docker } = fakeDocker({ buildKit: () => false });
    await expect(detectBuilder(docker, true)).rejects.toThrow(
      'build-secrets need BuildKit, and this docker CLI builds with the classic builder only: install buildx (docker/setup-buildx-action, or the docker-buildx-plugin package), or remove build-secrets',
    );
  });

  test('build-secrets while the step turns BuildKit off', async () => {
    const { docker } = fakeDocker({ env: { DOCKER_BUILDKIT: '0' } });
    await expect(detectBuilder(docker, true)).rejects.toThrow(
      "build-secrets need BuildKit, but the step's environment sets DOCKER_BUILDKIT=0: remove it",
    );
  });
});
