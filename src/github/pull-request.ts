import * as core from '@actions/core';
import { context, getOctokit } from '@actions/github';
import { commentMarker, runUrl } from '../naming.js';

type Octokit = ReturnType<typeof getOctokit>;
/** How a preview run ended: error is a cancelled run. */
export type DeploymentOutcome = 'success' | 'failure' | 'error';
type DeploymentState = DeploymentOutcome | 'in_progress' | 'inactive';

/**
 * Whether a comment was written by the identity GraphQL calls login. An app's token (the workflow's
 * GITHUB_TOKEN is github-actions) writes as login[bot] in REST; a personal token as its login.
 */
function writtenBy(comment: { user?: { login: string } | null }, login: string): boolean {
  const author = comment.user?.login;
  return author === login || author === `${login}[bot]`;
}

/**
 * A pull request preview's GitHub Deployment and its sticky comment. GitHub problems never fail
 * the deploy: the first refusal (a token without the permissions, as on pull requests from forks)
 * turns the feedback off with one warning.
 */
export class PreviewFeedback {
  private readonly octokit?: Octokit;
  private readonly repo = context.repo;
  private off = false;
  private login?: Promise<string | undefined>;
  deploymentId?: number;

  constructor(
    token: string,
    private readonly pr: number,
    private readonly environment: string,
  ) {
    if (token) this.octokit = getOctokit(token);
    else core.info('github-token is empty: no GitHub Deployment or pull request comment');
  }

  get runUrl(): string {
    return runUrl() ?? '';
  }

  private async call<T>(what: string, fn: (octokit: Octokit) => Promise<T>): Promise<T | undefined> {
    if (!this.octokit || this.off) return undefined;
    try {
      return await fn(this.octokit);
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 401 || status === 403 || status === 404) {
        this.off = true;
        core.warning(
          `GitHub refused to ${what} (HTTP ${status}): no Deployment or comment for this run. The workflow needs permissions: deployments: write, pull-requests: write (a pull request from a fork gets a read-only token).`,
        );
      } else {
        core.warning(`could not ${what}: ${(e as Error).message}`);
      }
      return undefined;
    }
  }

  /** Creates the preview's Deployment for the commit and marks it in progress. */
  async start(sha: string): Promise<void> {
    const created = await this.call('create a deployment', (o) =>
      o.rest.repos.createDeployment({
        ...this.repo,
        ref: sha,
        environment: this.environment,
        description: `Preview of pull request #${this.pr}`,
        auto_merge: false,
        required_contexts: [],
        transient_environment: true,
        production_environment: false,
      }),
    );
    const id = (created?.data as { id?: number } | undefined)?.id;
    if (!id) return;
    this.deploymentId = id;
    await this.status(id, 'in_progress');
  }

  private async status(id: number, state: DeploymentState, url?: string): Promise<void> {
    await this.call(`set the deployment ${state}`, (o) =>
      o.rest.repos.createDeploymentStatus({
        ...this.repo,
        deployment_id: id,
        state,
        log_url: this.runUrl,
        ...(url ? { environment_url: url } : {}),
        auto_inactive: state === 'success',
      }),
    );
  }

  async finish(outcome: DeploymentOutcome, url: string): Promise<void> {
    if (this.deploymentId) await this.status(this.deploymentId, outcome, url);
  }

  /** Marks every Deployment of the preview's environment inactive (teardown). */
  async deactivate(): Promise<void> {
    const deployments = await this.call('list deployments', (o) =>
      o.paginate(o.rest.repos.listDeployments, {
        ...this.repo,
        environment: this.environment,
        per_page: 100,
      }),
    );
    for (const d of deployments ?? []) await this.status(d.id, 'inactive');
  }

  /**
   * The token's login, asked once. REST GET /user refuses app installation tokens such as
   * GITHUB_TOKEN; GraphQL's viewer answers for every kind of token.
   */
  private identity(octokit: Octokit): Promise<string | undefined> {
    this.login ??= octokit.graphql<{ viewer: { login: string } }>('query { viewer { login } }').then(
      (answer) => answer.viewer.login,
      (e: unknown) => {
        const reason = (e as Error).message.replace(/\s*\n\s*/g, ' ');
        core.warning(
          `could not find who the token is, so a new pull request comment is posted and no existing one is edited (GraphQL viewer: ${reason})`,
        );
        return undefined;
      },
    );
    return this.login;
  }

  /**
   * Creates the pull request's comment for this stack, or updates it when there is one. Anyone can
   * write the marker, so only a comment the token itself wrote is updated.
   */
  async comment(stack: string, body: string): Promise<void> {
    const marker = commentMarker(stack);
    const text = `${marker}\n${body}`;
    const comments = await this.call('list pull request comments', (o) =>
      o.paginate(o.rest.issues.listComments, { ...this.repo, issue_number: this.pr, per_page: 100 }),
    );
    if (comments === undefined || !this.octokit) return;
    const login = await this.identity(this.octokit);
    const mine =
      login === undefined
        ? undefined
        : comments.find((c) => c.body?.startsWith(marker) && writtenBy(c, login));
    if (mine) {
      await this.call('update the pull request comment', (o) =>
        o.rest.issues.updateComment({ ...this.repo, comment_id: mine.id, body: text }),
      );
    } else {
      await this.call('comment on the pull request', (o) =>
        o.rest.issues.createComment({ ...this.repo, issue_number: this.pr, body: text }),
      );
    }
  }
}
