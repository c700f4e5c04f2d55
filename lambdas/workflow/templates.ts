import * as z from 'zod';
import { DeploymentStrategy } from '../domain/deployment';

/**
 * Workflow templates as data. Each deployment runs one template per application; the
 * compiler (compiler.ts) turns a template into a Step Functions definition, the API turns
 * its steps into task records (one per step and application).
 */

/** One template, and one state machine, per deployment strategy. */
export const WorkflowStrategy = DeploymentStrategy;
export type WorkflowStrategy = DeploymentStrategy;

/** An agent must call SendTaskHeartbeat at least this often unless the step says otherwise. */
export const DEFAULT_HEARTBEAT_SECONDS = 120;
/** The longest a step may take unless it says otherwise. */
export const DEFAULT_TIMEOUT_SECONDS = 3600;
/** Step Functions' own ceiling for a Task state's TimeoutSeconds / HeartbeatSeconds. */
export const MAX_TASK_SECONDS = 99_999_999;

/**
 * Step ids name states (`<id>.Dispatch`, at most 80 characters) and JSONPath members
 * (`$.tasks.<id>`), so they are restricted to what both accept without quoting.
 */
export const STEP_ID_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

export const WorkflowStep = z.object({
  id: z.string().regex(STEP_ID_PATTERN, 'lower-case letters, digits and _; starts with a letter; at most 40'),
  type: z.string().min(1).max(64),
  depends_on: z.array(z.string()),
  config: z.record(z.string(), z.unknown()),
  heartbeat_seconds: z.number().int().min(1).max(MAX_TASK_SECONDS).optional(),
  timeout_seconds: z.number().int().min(1).max(MAX_TASK_SECONDS).optional(),
});
export type WorkflowStep = z.infer<typeof WorkflowStep>;

export const WorkflowTemplate = z.object({
  name: z.string().min(1),
  steps: z.array(WorkflowStep),
});
export type WorkflowTemplate = z.infer<typeof WorkflowTemplate>;

export const heartbeatSecondsOf = (step: WorkflowStep): number =>
  step.heartbeat_seconds ?? DEFAULT_HEARTBEAT_SECONDS;
export const timeoutSecondsOf = (step: WorkflowStep): number =>
  step.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS;

const STANDARD: WorkflowTemplate = {
  name: 'standard',
  steps: [
    {
      id: 'build',
      type: 'build',
      depends_on: [],
      // `tags` stays empty here: the API derives them from the version (services/task-payload.ts).
      config: { dockerfile: 'Dockerfile', context: '.', tags: [] },
    },
    {
      id: 'test',
      type: 'test',
      depends_on: ['build'],
      config: { test_command: 'go test ./...', coverage_threshold: 80 },
    },
    {
      id: 'deploy',
      type: 'deploy',
      depends_on: ['test'],
      config: { strategy: 'rolling-update', replicas: 3, max_unavailable: 1 },
    },
    {
      id: 'health_check',
      type: 'health_check',
      depends_on: ['deploy'],
      config: { endpoint: '/health', expected_status: 200, timeout: 60 },
    },
  ],
};

const BLUE_GREEN: WorkflowTemplate = {
  name: 'blue-green',
  steps: [
    // The specification gives this build no config; the API still adds the image tags.
    { id: 'build', type: 'build', depends_on: [], config: {} },
    {
      id: 'deploy_green',
      type: 'deploy_green',
      depends_on: ['build'],
      config: { environment: 'green', replicas: 3 },
    },
    { id: 'health_check', type: 'health_check', depends_on: ['deploy_green'], config: { target: 'green' } },
    {
      id: 'switch_traffic',
      type: 'switch_traffic',
      depends_on: ['health_check'],
      config: { from: 'blue', to: 'green' },
    },
    {
      id: 'cleanup_blue',
      type: 'cleanup_blue',
      depends_on: ['switch_traffic'],
      config: { delay: 300 },
      // The agent waits `delay` (300 s) before removing blue; a longer heartbeat spares it
      // from heartbeating during that wait.
      heartbeat_seconds: 600,
    },
  ],
};

export const WORKFLOW_TEMPLATES: Readonly<Record<WorkflowStrategy, WorkflowTemplate>> = {
  standard: STANDARD,
  'blue-green': BLUE_GREEN,
};
