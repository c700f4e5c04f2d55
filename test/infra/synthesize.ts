import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnResource, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { defineDeployManagerApp } from '../../lib/deploy-manager-app';
import type { DeployManagerStack } from '../../lib/deploy-manager-stack';

export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

export interface Synthesized {
  readonly stack: DeployManagerStack;
  readonly template: Template;
  /** the template as plain JSON, for walks the assertions library has no matcher for */
  readonly json: TemplateJson;
  readonly assembly: CloudAssembly;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
}

export interface TemplateJson {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/**
 * Synthesizes the app exactly as bin/app.ts defines it (cdk-nag included), into a fresh
 * directory. Bundling the functions takes seconds: call it once per test file, in beforeAll.
 * A cdk-nag finding without acknowledgment makes `app.synth()` throw with the report.
 */
export function synthesize(context: Record<string, string> = {}): Synthesized {
  const app = new App({ context, outdir: mkdtempSync(join(tmpdir(), 'deploy-manager-cdk-')) });
  const stack = defineDeployManagerApp(app, TEST_ENV);
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const json = JSON.parse(readFileSync(artifact.templateFullPath, 'utf8')) as TemplateJson;
  return { stack, template: Template.fromJSON(json), json, assembly };
}

/** The logical id a construct (or its default CloudFormation resource) has in the template. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  const stack = resource.stack as Stack;
  return stack.getLogicalId(resource);
}

/** Resources of one type, by logical id. */
export function resourcesOf(json: TemplateJson, type: string): [string, TemplateResource][] {
  return Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
}

/** `value`, or a failed test naming what was missing (instead of a non-null assertion). */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing: ${what}`);
  return value;
}

/** The Properties of a construct's resource in the template. */
export const propertiesOfConstruct = (
  synthesized: Synthesized,
  construct: IConstruct,
): Record<string, unknown> => propertiesOf(synthesized.json, logicalIdOf(construct));

/** The Properties of a resource of the template, failing the test when it has none. */
export function propertiesOf(json: TemplateJson, logicalId: string): Record<string, unknown> {
  return defined(json.Resources[logicalId]?.Properties, `properties of ${logicalId}`);
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
}

/** The statements of a policy document (a single statement or a list). */
export const statementsOf = (document: unknown): PolicyStatement[] =>
  [(document as { Statement: PolicyStatement | PolicyStatement[] }).Statement].flat();

export const actionsOf = (statement: PolicyStatement): string[] => [statement.Action].flat();

/** The Allow statements of the AWS::IAM::Policy resources attached to one role. */
export function roleStatements(json: TemplateJson, roleLogicalId: string): PolicyStatement[] {
  return resourcesOf(json, 'AWS::IAM::Policy')
    .filter(
      ([, policy]) => JSON.stringify(policy.Properties?.Roles) === JSON.stringify([{ Ref: roleLogicalId }]),
    )
    .flatMap(([id]) => statementsOf(propertiesOf(json, id).PolicyDocument))
    .filter((statement) => statement.Effect === 'Allow');
}
