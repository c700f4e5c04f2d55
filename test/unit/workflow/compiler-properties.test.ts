import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileWorkflow,
  happyPath,
  type WorkflowStep,
  type WorkflowTemplate,
} from '../../../lambdas/workflow';
import {
  allStates,
  allStrings,
  aslErrors,
  dispatchPositions,
  dispatchStateCounts,
} from './definition-inspection';
import { createDeployment, statusOf } from './fixture';
import { type Agent, AwsError, runLocally } from './local-run';

/**
 * Random valid DAGs: 1–8 steps, each depending on a random subset of the steps generated
 * before it, listed in a random order (the compiler must not rely on the listing order).
 */
const randomTemplate: fc.Arbitrary<WorkflowTemplate> = fc
  .integer({ min: 1, max: 8 })
  .chain((size) =>
    fc.tuple(
      fc.tuple(
        ...Array.from({ length: size }, (_, index) =>
          fc.subarray(Array.from({ length: index }, (_x, i) => i)),
        ),
      ),
      fc.shuffledSubarray(
        Array.from({ length: size }, (_, index) => index),
        { minLength: size, maxLength: size },
      ),
    ),
  )
  .map(([dependencies, order]) => {
    const steps: WorkflowStep[] = dependencies.map((dependsOn, index) => ({
      id: `s${index}`,
      type: ['build', 'test', 'deploy', 'health_check'][index % 4] ?? 'build',
      depends_on: dependsOn.map((dependency) => `s${dependency}`),
      config: {},
    }));
    return { name: 'random', steps: order.flatMap((index) => steps[index] ?? []) };
  });

/** Every step that depends, directly or not, on `stepId`. */
function dependentsOf(template: WorkflowTemplate, stepId: string): Set<string> {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of template.steps) {
      if (found.has(step.id)) continue;
      if (step.depends_on.some((dependency) => dependency === stepId || found.has(dependency))) {
        found.add(step.id);
        grew = true;
      }
    }
  }
  return found;
}

describe('compileWorkflow over random DAGs', () => {
  it('produces a valid, JSONPath-only definition with unique state names', () => {
    fc.assert(
      fc.property(randomTemplate, (template) => {
        const definition = compileWorkflow(template);
        expect(aslErrors(definition)).toBe('');
        const names = allStates(definition).map((walked) => walked.name);
        expect(new Set(names).size).toBe(names.length);
        expect(allStrings(definition)).not.toContain('QueryLanguage');
        expect(allStrings(definition)).not.toContain('Assign');
      }),
      { numRuns: 60 },
    );
    // asl-validator over 60 definitions of up to ~30 states per step: room on a busy machine.
  }, 180_000);

  it('dispatches every step exactly once, after all of its dependencies', () => {
    fc.assert(
      fc.property(randomTemplate, (template) => {
        const definition = compileWorkflow(template);
        const counts = dispatchStateCounts(definition);
        expect([...counts.keys()].sort()).toEqual(template.steps.map((step) => step.id).sort());
        expect([...counts.values()].every((count) => count === 1)).toBe(true);
        const positions = dispatchPositions(definition);
        for (const step of template.steps) {
          for (const dependency of step.depends_on) {
            expect(positions.get(dependency) ?? Number.POSITIVE_INFINITY).toBeLessThan(
              positions.get(step.id) ?? -1,
            );
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('runs in the local interpreter: each task once per application, dependencies first', async () => {
    await fc.assert(
      fc.asyncProperty(randomTemplate, fc.integer({ min: 1, max: 2 }), async (template, applicationCount) => {
        const applicationIds = Array.from({ length: applicationCount }, (_, index) => `app_${index + 1}`);
        const deployment = createDeployment(template, applicationIds);
        const definition = compileWorkflow(template);
        const run = await runLocally({
          definition,
          input: deployment.input,
          table: deployment.table,
          agent: (message) => ({ done: message.step_id }),
        });
        expect(run.status).toBe('SUCCEEDED');
        // The Task states the transitions report counts are exactly those that ran.
        const path = happyPath(definition);
        const isTask = (name: string) =>
          allStates(definition).some((walked) => walked.name === name && walked.state.Type === 'Task');
        const expectedTasks = [
          ...path.deploymentStates.filter(isTask),
          ...Array.from({ length: applicationCount }, () => path.applicationStates.filter(isTask)).flat(),
        ];
        expect([...run.invoked].sort()).toEqual(expectedTasks.sort());
        for (const applicationId of applicationIds) {
          const order = run.messages
            .filter((message) => message.application_id === applicationId)
            .map((message) => message.step_id);
          expect([...order].sort()).toEqual(template.steps.map((step) => step.id).sort());
          for (const step of template.steps) {
            for (const dependency of step.depends_on) {
              expect(order.indexOf(dependency)).toBeLessThan(order.indexOf(step.id));
            }
            expect(statusOf(deployment.task(applicationId, step.id))).toBe('success');
          }
        }
        expect(statusOf(deployment.deployment())).toBe('success');
      }),
      { numRuns: 25 },
    );
  });

  it('after a failure: the deployment fails naming the task, dependents stay pending, nothing stays running', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomTemplate.chain((template) =>
          fc.tuple(fc.constant(template), fc.constantFrom(...template.steps.map((step) => step.id))),
        ),
        async ([template, failingStep]) => {
          const deployment = createDeployment(template, ['app_1', 'app_2']);
          const agent: Agent = (message) => {
            if (message.application_id === 'app_1' && message.step_id === failingStep) {
              throw new AwsError('StepFailed', `${failingStep} broke`);
            }
            return { done: message.step_id };
          };
          const run = await runLocally({
            definition: compileWorkflow(template),
            input: deployment.input,
            table: deployment.table,
            agent,
          });
          const taskId = deployment.taskId('app_1', failingStep);
          expect(run.status).toBe('FAILED');
          expect(run.cause).toBe(
            `Task ${taskId} (${failingStep}) of application app_1 failed: StepFailed: ${failingStep} broke`,
          );
          expect(statusOf(deployment.deployment())).toBe('failed');
          expect(statusOf(deployment.task('app_1', failingStep))).toBe('failed');
          for (const dependent of dependentsOf(template, failingStep)) {
            expect(statusOf(deployment.task('app_1', dependent))).toBe('pending');
          }
          for (const step of template.steps) {
            expect(statusOf(deployment.task('app_1', step.id))).not.toBe('running');
            expect(statusOf(deployment.task('app_2', step.id))).toBe('success');
          }
          expect(deployment.lock()).toBeUndefined();
        },
      ),
      { numRuns: 25 },
    );
  });
});
