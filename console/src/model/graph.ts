import dagre from '@dagrejs/dagre';
import type { Task } from '../api/types';

export const NODE_WIDTH = 176;
export const NODE_HEIGHT = 56;
const LANE_GAP = 48;
const LANE_LABEL_WIDTH = 0;

export interface PositionedTask {
  readonly task: Task;
  readonly x: number;
  readonly y: number;
  readonly lane: number;
}

export interface Lane {
  readonly applicationId: string;
  readonly y: number;
  readonly height: number;
}

export interface TaskEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
}

export interface TaskGraphLayout {
  readonly nodes: readonly PositionedTask[];
  readonly edges: readonly TaskEdge[];
  readonly lanes: readonly Lane[];
}

/**
 * One lane per application (in the order the applications first appear), each laid out left
 * to right by dagre from the tasks' `depends_on`; lanes are stacked top to bottom. Edges to a
 * task that is not in the list are left out.
 */
export function layoutTasks(tasks: readonly Task[]): TaskGraphLayout {
  const ids = new Set(tasks.map((task) => task.id));
  const applications = [...new Set(tasks.map((task) => task.application_id))];
  const nodes: PositionedTask[] = [];
  const lanes: Lane[] = [];
  let top = 0;
  applications.forEach((applicationId, lane) => {
    const laneTasks = tasks.filter((task) => task.application_id === applicationId);
    const graph = new dagre.graphlib.Graph();
    graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 48, marginx: 0, marginy: 0 });
    graph.setDefaultEdgeLabel(() => ({}));
    for (const task of laneTasks) graph.setNode(task.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
    for (const task of laneTasks) {
      for (const dependency of task.depends_on) {
        if (graph.hasNode(dependency)) graph.setEdge(dependency, task.id);
      }
    }
    dagre.layout(graph);
    let height = NODE_HEIGHT;
    for (const task of laneTasks) {
      const placed = graph.node(task.id);
      const y = placed.y - NODE_HEIGHT / 2;
      height = Math.max(height, y + NODE_HEIGHT);
      nodes.push({ task, x: LANE_LABEL_WIDTH + placed.x - NODE_WIDTH / 2, y: top + y, lane });
    }
    lanes.push({ applicationId, y: top, height });
    top += height + LANE_GAP;
  });
  const edges = tasks.flatMap((task) =>
    task.depends_on
      .filter((dependency) => ids.has(dependency))
      .map((dependency) => ({ id: `${dependency}->${task.id}`, source: dependency, target: task.id })),
  );
  return { nodes, edges, lanes };
}
