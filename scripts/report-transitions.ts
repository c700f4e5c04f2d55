import { fileURLToPath } from 'node:url';
import {
  compileWorkflow,
  countHappyPathTransitions,
  happyPath,
  transitionsPerStep,
  WORKFLOW_TEMPLATES,
  WorkflowStrategy,
} from '../lambdas/workflow';

/**
 * State transitions (what a Standard workflow is billed by) on the happy path of each
 * template: per task, per application, per deployment. `npm run transitions`.
 */

export interface TransitionsRow {
  readonly strategy: WorkflowStrategy;
  readonly steps: number;
  /** transitions of each step, by step id */
  readonly perTask: ReadonlyMap<string, number>;
  /** one application's iteration, tasks and any Parallel/Choice overhead */
  readonly perApplication: number;
  /** outside the iterations, paid once per deployment */
  readonly perDeployment: number;
  readonly oneApplication: number;
  readonly twoApplications: number;
}

export function transitionsReport(): TransitionsRow[] {
  return WorkflowStrategy.options.map((strategy) => {
    const template = WORKFLOW_TEMPLATES[strategy];
    const definition = compileWorkflow(template);
    const path = happyPath(definition);
    return {
      strategy,
      steps: template.steps.length,
      perTask: transitionsPerStep(definition),
      perApplication: path.applicationStates.length,
      perDeployment: path.deploymentStates.length,
      oneApplication: countHappyPathTransitions(definition, 1),
      twoApplications: countHappyPathTransitions(definition, 2),
    };
  });
}

export function formatTransitionsReport(rows: readonly TransitionsRow[]): string {
  const lines = [
    '| template | steps | per task | per application | per deployment (fixed) | 1 application | 2 applications |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => {
      const perTask = [...row.perTask.entries()].map(([step, count]) => `${step} ${count}`).join(', ');
      return `| ${row.strategy} | ${row.steps} | ${perTask} | ${row.perApplication} | ${row.perDeployment} | ${row.oneApplication} | ${row.twoApplications} |`;
    }),
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log('Happy-path state transitions (every state entered counts once, Map and Parallel included)\n');
  console.log(formatTransitionsReport(transitionsReport()));
  const [first] = WorkflowStrategy.options;
  if (first) {
    const path = happyPath(compileWorkflow(WORKFLOW_TEMPLATES[first]));
    console.log(`\nPer deployment: ${path.deploymentStates.join(' → ')}`);
    console.log(`Per application (${first}): ${path.applicationStates.join(' → ')}`);
  }
}
