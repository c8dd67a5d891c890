/**
 * Swarm's job modes. A job runs to completion instead of running on. A stack file names the job modes
 * replicated-job and global-job; the Engine API keys them ReplicatedJob and GlobalJob in a service's
 * Spec.Mode.
 */
const JOB_MODES = ['replicated-job', 'global-job', 'ReplicatedJob', 'GlobalJob'];

/** Whether a service mode, in either spelling, is a job's. */
export const isJobMode = (mode: string | undefined): boolean =>
  mode !== undefined && JOB_MODES.includes(mode);
