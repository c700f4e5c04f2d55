import { beforeAll, describe, expect, it } from 'vitest';
import {
  defined,
  logicalIdOf,
  propertiesOf,
  propertiesOfConstruct,
  resourcesOf,
  type Synthesized,
  synthesize,
} from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
}, 300_000);

const distributionConfig = () =>
  propertiesOfConstruct(synthesized, synthesized.stack.console.distribution).DistributionConfig as Record<
    string,
    unknown
  >;

const headersConfig = () =>
  (
    propertiesOfConstruct(synthesized, synthesized.stack.console.headersPolicy)
      .ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: Record<string, Record<string, unknown>>;
    }
  ).SecurityHeadersConfig;

/** The CSP with CloudFormation's Fn::Join flattened: tokens become `<ref>`. */
const flatten = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'Fn::Join' in value) {
    const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map(flatten).join(separator);
  }
  return '<ref>';
};

describe('the console bucket', () => {
  it('is private, encrypted and refuses plain HTTP', () => {
    const bucket = propertiesOfConstruct(synthesized, synthesized.stack.console.bucket);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    const [, policy] = defined(
      resourcesOf(synthesized.json, 'AWS::S3::BucketPolicy').find(
        ([, resource]) =>
          JSON.stringify(resource.Properties?.Bucket) ===
          JSON.stringify({ Ref: logicalIdOf(synthesized.stack.console.bucket) }),
      ),
      'the console bucket policy',
    );
    const document = defined(policy.Properties?.PolicyDocument, 'the policy document') as {
      Statement: Record<string, unknown>[];
    };
    const statements = document.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    // Only CloudFront, and only on behalf of this distribution, may read.
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Action: 's3:GetObject',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
    });
    expect(JSON.stringify(allows[0])).toContain(logicalIdOf(synthesized.stack.console.distribution));
  });
});

describe('the console distribution', () => {
  it('reads the bucket through origin access control, over HTTPS only, with the SPA fallback', () => {
    const config = distributionConfig();
    const [origin] = config.Origins as Record<string, unknown>[];
    expect(origin?.OriginAccessControlId).toBeDefined();
    expect(resourcesOf(synthesized.json, 'AWS::CloudFront::OriginAccessControl')).toHaveLength(1);
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      ResponseHeadersPolicyId: { Ref: logicalIdOf(synthesized.stack.console.headersPolicy) },
    });
    expect(config.CustomErrorResponses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html' }),
        expect.objectContaining({ ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html' }),
      ]),
    );
  });

  it('sends a CSP that lets the console reach only the API and Cognito, never be framed, plus HSTS', () => {
    const headers = headersConfig();
    const csp = flatten(headers.ContentSecurityPolicy?.ContentSecurityPolicy);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(
      /connect-src 'self' https:\/\/\*\.execute-api\.eu-west-1\.amazonaws\.com https:\/\/\S+\.auth\.eu-west-1\.amazoncognito\.com/,
    );
    expect(headers.StrictTransportSecurity).toEqual({
      AccessControlMaxAgeSec: 63_072_000,
      IncludeSubdomains: true,
      Preload: true,
      Override: true,
    });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.ReferrerPolicy).toEqual({
      ReferrerPolicy: 'strict-origin-when-cross-origin',
      Override: true,
    });
  });

  it('is the ConsoleUrl output', () => {
    expect(synthesized.json.Outputs?.ConsoleUrl?.Value).toEqual({
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.console.distribution), 'DomainName'] }],
      ],
    });
  });
});

describe('console sign-in', () => {
  it('is a public client with the code grant, returning only to the console', () => {
    const client = propertiesOfConstruct(synthesized, synthesized.stack.consoleSignIn.client);
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.AllowedOAuthScopes).toEqual(['openid', 'email', 'profile']);
    const consoleUrl = synthesized.json.Outputs?.ConsoleUrl?.Value;
    expect(client.CallbackURLs).toEqual([consoleUrl]);
    expect(client.LogoutURLs).toEqual([consoleUrl]);
    const domain = propertiesOfConstruct(synthesized, synthesized.stack.consoleSignIn.domain);
    expect(domain.Domain).toBe('deploymanager-123456789012');
  });

  it('publishes config.json from the API, the pool, the console client and the hosted UI, and invalidates the pages', () => {
    const deployments = resourcesOf(synthesized.json, 'Custom::CDKBucketDeployment');
    expect(deployments.length).toBeGreaterThan(0);
    const pages = defined(
      deployments.find(([id]) => id.includes('PublishPages')),
      'the PublishPages deployment',
    );
    // config.json's tokens: the API's URL, the pool, the console client, the hosted UI, the distribution
    const markers = JSON.stringify(pages[1].Properties?.SourceMarkers ?? []);
    const { stack } = synthesized;
    for (const construct of [
      stack.api.restApi,
      stack.users.userPool,
      stack.consoleSignIn.client,
      stack.consoleSignIn.domain,
      stack.console.distribution,
    ]) {
      expect(markers).toContain(`"${logicalIdOf(construct)}"`);
    }
    expect(propertiesOf(synthesized.json, pages[0]).DistributionPaths).toEqual([
      '/index.html',
      '/config.json',
      '/',
    ]);
  });
});
