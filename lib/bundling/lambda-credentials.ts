/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (see BUNDLING in
 * lib/functions.ts). In Lambda the execution role's credentials are always in the
 * environment, so the SDK's default chain (INI files, SSO, web identity, container and
 * instance metadata, with the STS/SSO clients behind them: a third of a DynamoDB bundle)
 * would never get past its first link. Only that link is kept.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
