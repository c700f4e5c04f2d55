import { beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, type PolicyStatement, type Synthesized, statementsOf, synthesize } from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

interface Holder {
  /** the role (logical id) an identity policy is attached to, or the managed policy itself */
  readonly who: string;
  readonly statements: readonly PolicyStatement[];
}

/** Every identity policy of the template, by who holds it. */
function holders(): Holder[] {
  return Object.entries(synthesized.json.Resources).flatMap(([id, resource]): Holder[] => {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = (properties.Roles as { Ref?: string }[] | undefined) ?? [];
      const statements = statementsOf(properties.PolicyDocument);
      return roles.length > 0
        ? roles.map((role) => ({ who: String(role.Ref), statements }))
        : [{ who: id, statements }];
    }
    if (resource.Type === 'AWS::IAM::Role') {
      return ((properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((policy) => ({
        who: id,
        statements: statementsOf(policy.PolicyDocument),
      }));
    }
    return [];
  });
}

const actions = (statement: PolicyStatement): string[] => [statement.Action].flat().map(String);
const text = (value: unknown): string => JSON.stringify(value);

/** Who may do `action` (or an action matching it) on resources whose text contains `resource`. */
function whoMay(action: string, resource: (statement: PolicyStatement) => boolean): string[] {
  const found = holders().filter(({ statements }) =>
    statements.some(
      (statement) =>
        statement.Effect === 'Allow' &&
        actions(statement).some(
          (granted) => granted === action || granted === '*' || granted === `${action.split(':')[0]}:*`,
        ) &&
        resource(statement),
    ),
  );
  return [...new Set(found.map((holder) => holder.who))].sort();
}

describe('the stored credentials channel', () => {
  const secretsOfTheChannel = (statement: PolicyStatement) =>
    text(statement.Resource).includes('/environments/*') || text(statement.Resource) === '"*"';

  it('is readable by the agent policy and the environments function only', () => {
    const environmentsRole = logicalIdOf(
      synthesized.stack.apiFunctions.functions.get('environments')?.role ?? synthesized.stack,
    );
    const agentPolicy = logicalIdOf(synthesized.stack.agents.policy);
    expect(whoMay('secretsmanager:GetSecretValue', secretsOfTheChannel)).toEqual(
      [agentPolicy, environmentsRole].sort(),
    );
  });

  it('is written, replaced and deleted by the environments function only', () => {
    const environmentsRole = logicalIdOf(
      synthesized.stack.apiFunctions.functions.get('environments')?.role ?? synthesized.stack,
    );
    for (const action of [
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:DeleteSecret',
      'secretsmanager:PutResourcePolicy',
    ]) {
      expect(whoMay(action, secretsOfTheChannel), action).toEqual([environmentsRole]);
    }
  });

  it('is decrypted through Secrets Manager only, by the same two', () => {
    const key = logicalIdOf(synthesized.stack.credentials.key);
    const environmentsRole = logicalIdOf(
      synthesized.stack.apiFunctions.functions.get('environments')?.role ?? synthesized.stack,
    );
    const onKey = (statement: PolicyStatement) =>
      text(statement.Resource).includes(key) || text(statement.Resource) === '"*"';
    expect(whoMay('kms:Decrypt', onKey)).toEqual(
      [logicalIdOf(synthesized.stack.agents.policy), environmentsRole].sort(),
    );
    for (const holder of holders()) {
      for (const statement of holder.statements) {
        if (actions(statement).includes('kms:Decrypt') && text(statement.Resource).includes(key)) {
          expect(text((statement as { Condition?: unknown }).Condition)).toContain('kms:ViaService');
        }
      }
    }
    const keyResource = synthesized.json.Resources[key];
    expect(keyResource?.Properties?.EnableKeyRotation).toBe(true);
  });

  it('lets the agents PutItem their access records under CREDACCESS#, and nobody else but the API functions writes the table', () => {
    const agentPolicy = logicalIdOf(synthesized.stack.agents.policy);
    const statements = holders().find((holder) => holder.who === agentPolicy)?.statements ?? [];
    const putItem = statements.filter((statement) => actions(statement).includes('dynamodb:PutItem'));
    expect(putItem).toHaveLength(1);
    expect((putItem[0] as { Condition?: unknown } | undefined)?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TASKLOG#*', 'CREDACCESS#*'] },
    });
  });

  it('tells the environments function where the secrets go, and the operator in an output', () => {
    const fn = synthesized.stack.apiFunctions.functions.get('environments');
    if (fn === undefined) throw new Error('no environments function');
    const environment = synthesized.json.Resources[logicalIdOf(fn)]?.Properties?.Environment as
      | { Variables: Record<string, unknown> }
      | undefined;
    const variables = environment?.Variables ?? {};
    expect(variables.ENVIRONMENT_CREDENTIALS_PREFIX).toBe('deploy-manager/DeployManager/environments/');
    expect(text(variables.ENVIRONMENT_CREDENTIALS_KMS_KEY_ID)).toContain(
      logicalIdOf(synthesized.stack.credentials.key),
    );
    expect(synthesized.json.Outputs?.EnvironmentCredentialsPrefix?.Value).toBe(
      'deploy-manager/DeployManager/environments/',
    );
  });
});
