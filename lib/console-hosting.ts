import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AllowedMethods,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { ConsoleRuntimeConfig } from '../console/runtime-config';
import { consoleContentSecurityPolicy } from './console-csp';
import { PROJECT_ROOT } from './functions';

/** `console/dist`, written by `npm run console:build` (git-ignored). */
export const CONSOLE_DIST_DIR = join(PROJECT_ROOT, 'console', 'dist');

/** What the bucket holds when the console was not built before `cdk synth`. */
export const PLACEHOLDER_PAGE = [
  '<!doctype html>',
  '<html lang="en"><head><meta charset="utf-8"><title>deploy-manager console</title></head>',
  '<body><h1>The console is not built</h1>',
  '<p>Run <code>npm run console:build</code>, then <code>cdk deploy</code> again.</p></body></html>',
].join('\n');

const TWO_YEARS = Duration.days(730);

export interface ConsoleHostingProps {
  /** origins the console may call besides its own: the API and Cognito's hosted UI */
  readonly connectOrigins: readonly string[];
  readonly removalPolicy: RemovalPolicy;
  /** the build to publish; defaults to console/dist, a placeholder page when it is missing */
  readonly distDir?: string;
}

/**
 * The web console on AWS: its static build in a private bucket, served only through a
 * CloudFront distribution (origin access control) over HTTPS, with the security headers of
 * the local runtime (local/console/front-door.ts). Any path that is no file gets index.html.
 */
export class ConsoleHosting extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly headersPolicy: ResponseHeadersPolicy;
  /** `https://dxxxx.cloudfront.net`: the console, and the Cognito client's callback URL */
  readonly url: string;
  private readonly distDir: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    this.distDir = props.distDir ?? CONSOLE_DIST_DIR;
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: props.removalPolicy,
      // The bucket only holds a copy of the build: a development stack takes it along.
      autoDeleteObjects: destroy,
    });
    this.headersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'deploy-manager console: CSP, HSTS, no framing, no sniffing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleContentSecurityPolicy(props.connectOrigins),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: TWO_YEARS,
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
    });
    // The SPA routes in the browser: a missing key (403 from a private bucket) is the app.
    const toIndex = (httpStatus: number) => ({
      httpStatus,
      responseHttpStatus: 200,
      responsePagePath: '/index.html',
      ttl: Duration.seconds(0),
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'deploy-manager web console',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        responseHeadersPolicy: this.headersPolicy,
        compress: true,
      },
      errorResponses: [toIndex(403), toIndex(404)],
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
  }

  /** Whether `npm run console:build` ran before the synthesis. */
  get built(): boolean {
    return existsSync(join(this.distDir, 'index.html'));
  }

  /**
   * Copies the build and its `/config.json` to the bucket and invalidates the pages:
   * hashed `assets/*` are cached for a year, index.html and config.json are revalidated.
   */
  publish(runtimeConfig: ConsoleRuntimeConfig): void {
    const assetsDir = join(this.distDir, 'assets');
    if (this.built && existsSync(assetsDir)) {
      new BucketDeployment(this, 'PublishAssets', {
        sources: [Source.asset(assetsDir)],
        destinationBucket: this.bucket,
        destinationKeyPrefix: 'assets/',
        cacheControl: [CacheControl.fromString('public, max-age=31536000, immutable')],
        prune: false,
      });
    }
    const pages: ISource = this.built
      ? Source.asset(this.distDir, { exclude: ['assets', 'assets/**'] })
      : Source.data('index.html', PLACEHOLDER_PAGE);
    new BucketDeployment(this, 'PublishPages', {
      sources: [pages, Source.jsonData('config.json', runtimeConfig)],
      destinationBucket: this.bucket,
      cacheControl: [CacheControl.noCache()],
      prune: false,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json', '/'],
    });
  }

  /**
   * The API's origin for the CSP: any REST API of the region, since naming this stack's
   * API would make the distribution depend on it, and the API's CORS on the distribution.
   */
  static regionalApiOrigin(scope: Construct): string {
    return `https://*.execute-api.${Stack.of(scope).region}.amazonaws.com`;
  }
}
