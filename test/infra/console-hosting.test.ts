import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, resourcesOf, type Synthesized, synthesize } from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

const distributionId = () => logicalIdOf(synthesized.stack.console.distribution);
const bucketId = () => logicalIdOf(synthesized.stack.console.bucket);

function bucketPolicyStatements(): Record<string, unknown>[] {
  const found = resourcesOf(synthesized.json, 'AWS::S3::BucketPolicy').find(
    ([, resource]) => JSON.stringify(resource.Properties?.Bucket) === JSON.stringify({ Ref: bucketId() }),
  );
  const document = found?.[1].Properties?.PolicyDocument as
    | { Statement: Record<string, unknown>[] }
    | undefined;
  if (document === undefined) throw new Error('the console bucket has no policy');
  return document.Statement;
}

describe('the console bucket', () => {
  it('is private, encrypted and refuses plain HTTP', () => {
    synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    const statements = bucketPolicyStatements();
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('lets only this distribution read it (OAC, aws:SourceArn)', () => {
    const statements = bucketPolicyStatements();
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    const readers = allows.filter((statement) => JSON.stringify(statement.Principal).includes('cloudfront'));
    expect(readers).toHaveLength(1);
    expect(readers[0]).toMatchObject({
      Action: 's3:GetObject',
      Principal: { Service: 'cloudfront.amazonaws.com' },
    });
    expect(JSON.stringify(readers[0]?.Condition)).toContain('AWS:SourceArn');
    expect(JSON.stringify(readers[0]?.Condition)).toContain(distributionId());
    // Nothing else may read: the other grants are the deployment's own writer role, if any.
    for (const statement of allows) expect(JSON.stringify(statement.Principal)).not.toContain('"*"');
  });
});

describe('the console distribution', () => {
  it('reaches the bucket through an origin access control and redirects HTTP to HTTPS', () => {
    synthesized.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      }),
    });
    synthesized.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
        CustomErrorResponses: [
          { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
          { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
        ],
      }),
    });
  });

  it('adds CSP, HSTS, no framing, nosniff and a referrer policy to every answer', () => {
    const policies = resourcesOf(synthesized.json, 'AWS::CloudFront::ResponseHeadersPolicy');
    expect(policies).toHaveLength(1);
    const config = policies[0]?.[1].Properties?.ResponseHeadersPolicyConfig as
      | { SecurityHeadersConfig: Record<string, Record<string, unknown>> }
      | undefined;
    const headers = config?.SecurityHeadersConfig ?? {};
    const csp = String(headers.ContentSecurityPolicy?.ContentSecurityPolicy);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(
      /connect-src 'self' https:\/\/\*\.execute-api\.eu-west-1\.amazonaws\.com https:\/\/[a-z0-9-]+\.auth\.eu-west-1\.amazoncognito\.com/,
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
    synthesized.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ResponseHeadersPolicyId: Match.anyValue() }),
      }),
    });
  });

  it('is the ConsoleUrl output', () => {
    expect(synthesized.json.Outputs?.ConsoleUrl?.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId(), 'DomainName'] }]],
    });
  });
});

describe("the console's sign-in", () => {
  it('is a public client with the authorization code grant, returning only to the console', () => {
    const client = logicalIdOf(synthesized.stack.consoleSignIn.client);
    const properties = synthesized.json.Resources[client]?.Properties ?? {};
    expect(properties.GenerateSecret).toBe(false);
    expect(properties.AllowedOAuthFlows).toEqual(['code']);
    expect(properties.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(properties.AllowedOAuthScopes).toEqual(['openid', 'email', 'profile']);
    const consoleUrl = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId(), 'DomainName'] }]] };
    expect(properties.CallbackURLs).toEqual([consoleUrl]);
    expect(properties.LogoutURLs).toEqual([consoleUrl]);
  });

  it('has a hosted UI domain on the user pool', () => {
    synthesized.template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: Match.stringLikeRegexp('^[a-z0-9-]+$'),
    });
  });

  it('publishes the build and its config.json to the console bucket', () => {
    const deployments = resourcesOf(synthesized.json, 'Custom::CDKBucketDeployment');
    const toConsole = deployments.filter(
      ([, resource]) =>
        JSON.stringify(resource.Properties?.DestinationBucketName) === JSON.stringify({ Ref: bucketId() }),
    );
    expect(toConsole.length).toBeGreaterThan(0);
  });
});
