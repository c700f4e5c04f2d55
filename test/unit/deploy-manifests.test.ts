import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseAgentConfig } from '../../agent/config/agent-config';

/** The manifests in deploy/ are what operators copy: their agent config must be one the agent accepts. */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('deploy/kubernetes/deploy-agent.yaml', () => {
  const documents = parseAllDocuments(read('deploy/kubernetes/deploy-agent.yaml')).map(
    (document) => document.toJS() as Record<string, unknown>,
  );
  const ofKind = (kind: string) => documents.filter((document) => document.kind === kind);

  it("carries an agent config the agent's own schema accepts", () => {
    const [configMap] = ofKind('ConfigMap') as { data: { 'agent.yaml': string } }[];
    const [agentYaml] = parseAllDocuments(configMap?.data['agent.yaml'] ?? '');
    const config = parseAgentConfig(agentYaml?.toJS());
    expect(config.targets[0]?.kubernetes?.kubeconfig_path).toBe('/var/run/deploy-agent/kubeconfig');
    const [deployment] = ofKind('Deployment') as {
      spec: { template: { spec: { terminationGracePeriodSeconds: number } } };
    }[];
    // The pod outlives the agent's drain: running tasks finish before Kubernetes kills it.
    expect(deployment?.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      config.shutdown_grace_seconds,
    );
  });

  it('runs the agent as a service account, in a namespace of its own', () => {
    expect(ofKind('ServiceAccount')).toHaveLength(1);
    expect(ofKind('Namespace')).toHaveLength(1);
    expect(JSON.stringify(ofKind('Deployment'))).toContain(
      'agent/bin.ts --config /etc/deploy-agent/agent.yaml',
    );
  });
});

describe('deploy/systemd/deploy-agent.service', () => {
  it('starts the agent the way npm run agent does and waits for its drain', () => {
    const unit = read('deploy/systemd/deploy-agent.service');
    const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(unit).toContain(packageJson.scripts.agent?.replace(/^node /, '') ?? 'missing');
    expect(Number(/TimeoutStopSec=(\d+)/.exec(unit)?.[1])).toBeGreaterThan(300);
  });
});
