import { describe, expect, it } from 'vitest';
import { layoutTasks, NODE_HEIGHT, NODE_WIDTH } from '../../../console/src/model/graph';
import { task } from './fixtures';

const pipeline = (app: string) => [
  task({ id: `${app}-build`, application_id: app, type: 'build' }),
  task({ id: `${app}-test`, application_id: app, type: 'test', depends_on: [`${app}-build`] }),
  task({ id: `${app}-deploy`, application_id: app, type: 'deploy', depends_on: [`${app}-test`] }),
];

describe('the deployment graph layout', () => {
  it('places each task after the tasks it depends on, left to right', () => {
    const layout = layoutTasks(pipeline('app_a'));
    const x = (id: string) => layout.nodes.find((node) => node.task.id === id)?.x ?? Number.NaN;
    expect(x('app_a-build')).toBeLessThan(x('app_a-test'));
    expect(x('app_a-test') + NODE_WIDTH).toBeLessThanOrEqual(x('app_a-deploy'));
    expect(layout.edges.map((edge) => [edge.source, edge.target])).toEqual([
      ['app_a-build', 'app_a-test'],
      ['app_a-test', 'app_a-deploy'],
    ]);
  });

  it('gives every application its own lane, lanes not overlapping', () => {
    const layout = layoutTasks([...pipeline('app_a'), ...pipeline('app_b')]);
    expect(layout.lanes.map((lane) => lane.applicationId)).toEqual(['app_a', 'app_b']);
    const [first, second] = layout.lanes;
    expect(second?.y ?? 0).toBeGreaterThanOrEqual((first?.y ?? 0) + (first?.height ?? 0));
    for (const node of layout.nodes) {
      const lane = layout.lanes[node.lane];
      expect(lane?.applicationId).toBe(node.task.application_id);
      expect(node.y).toBeGreaterThanOrEqual(lane?.y ?? Number.NaN);
      expect(node.y + NODE_HEIGHT).toBeLessThanOrEqual((lane?.y ?? 0) + (lane?.height ?? 0));
    }
  });

  it('stacks tasks that run in parallel and leaves out edges to tasks not listed', () => {
    const layout = layoutTasks([
      task({ id: 'build' }),
      task({ id: 'unit', type: 'test', depends_on: ['build'] }),
      task({ id: 'lint', type: 'test', depends_on: ['build', 'task_gone'] }),
    ]);
    const unit = layout.nodes.find((node) => node.task.id === 'unit');
    const lint = layout.nodes.find((node) => node.task.id === 'lint');
    expect(unit?.x).toBe(lint?.x);
    expect(Math.abs((unit?.y ?? 0) - (lint?.y ?? 0))).toBeGreaterThanOrEqual(NODE_HEIGHT);
    expect(layout.edges.some((edge) => edge.source === 'task_gone')).toBe(false);
    expect(layout.edges).toHaveLength(2);
  });

  it('lays out no tasks as an empty graph', () => {
    expect(layoutTasks([])).toEqual({ nodes: [], edges: [], lanes: [] });
  });
});
