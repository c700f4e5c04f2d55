import { Background, type Edge, Handle, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo } from 'react';
import type { Task } from '../api/types';
import { layoutTasks, NODE_HEIGHT, NODE_WIDTH } from '../model/graph';
import { elapsedOf } from '../model/status';

type TaskNodeData = {
  task: Task;
  elapsed: string;
  selected: boolean;
  onOpen: (id: string) => void;
  lane: string;
};

function TaskNode({ data }: NodeProps<Node<TaskNodeData>>) {
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <button
        type="button"
        className={`task-node status-${data.task.status}${data.selected ? ' selected' : ''}`}
        style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
        onClick={() => data.onOpen(data.task.id)}
        aria-label={`${data.lane} ${data.task.type}: ${data.task.status}${data.elapsed === '' ? '' : `, ${data.elapsed}`}`}
        data-testid={`task-${data.lane}-${data.task.step_id}`}
        data-status={data.task.status}
      >
        <strong>{data.task.type}</strong>
        <span>
          {data.task.status}
          {data.elapsed !== '' && ` · ${data.elapsed}`}
          {data.task.attempt > 1 && ` · attempt ${data.task.attempt}`}
        </span>
      </button>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
}

function LaneLabel({ data }: NodeProps<Node<{ label: string }>>) {
  return <strong className="lane-label">{data.label}</strong>;
}

const nodeTypes = { task: TaskNode, lane: LaneLabel };

export function TaskGraph(props: {
  readonly tasks: readonly Task[];
  readonly now: Date;
  readonly selected: string | undefined;
  readonly laneName: (applicationId: string) => string;
  readonly onOpen: (id: string) => void;
}) {
  const { tasks, now, selected, laneName, onOpen } = props;
  const layout = useMemo(() => layoutTasks(tasks), [tasks]);
  const nodes: Node[] = [
    ...layout.lanes.map(
      (lane): Node => ({
        id: `lane-${lane.applicationId}`,
        type: 'lane',
        data: { label: laneName(lane.applicationId) },
        position: { x: -150, y: lane.y + lane.height / 2 - 12 },
        draggable: false,
        selectable: false,
        focusable: false,
      }),
    ),
    ...layout.nodes.map(
      (placed): Node<TaskNodeData> => ({
        id: placed.task.id,
        type: 'task',
        position: { x: placed.x, y: placed.y },
        data: {
          task: placed.task,
          elapsed: elapsedOf(placed.task, now),
          selected: placed.task.id === selected,
          onOpen,
          lane: laneName(placed.task.application_id),
        },
        draggable: false,
        focusable: false,
      }),
    ),
  ];
  const edges: Edge[] = layout.edges.map((edge) => ({ ...edge, focusable: false }));
  const height = Math.min(
    640,
    Math.max(200, (layout.lanes.at(-1)?.y ?? 0) + (layout.lanes.at(-1)?.height ?? 0) + 80),
  );
  return (
    <div className="graph" style={{ height }} data-testid="task-graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        nodesConnectable={false}
        nodesDraggable={false}
        proOptions={{ hideAttribution: true }}
        minZoom={0.2}
      >
        <Background />
      </ReactFlow>
    </div>
  );
}
