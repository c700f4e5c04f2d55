/**
 * The console's Content-Security-Policy, one rule for both hosts (the local runtime and
 * CloudFront): its own files only, API calls to the API's origin (and Cognito's hosted UI
 * for the token exchange), never framed. No CDK imports: the local runtime uses it too.
 */
export function consoleContentSecurityPolicy(connectOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    `connect-src 'self' ${connectOrigins.join(' ')}`.trim(),
    "img-src 'self' data:",
    // React Flow positions nodes with inline style attributes.
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The origin (`https://host[:port]`) of a URL, or the token itself when it is not a URL (a CDK token). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
