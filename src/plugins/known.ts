/**
 * Plugin names Kong knows: the ones bundled with Kong 3.10 (`kong/constants.lua` BUNDLED_PLUGINS)
 * and Kong Enterprise-only ones, with the bundled plugin that covers the same ground.
 */
export const KONG_BUNDLED_PLUGINS: readonly string[] = [
  'acl', 'acme', 'ai-prompt-decorator', 'ai-prompt-guard', 'ai-prompt-template', 'ai-proxy',
  'ai-request-transformer', 'ai-response-transformer', 'aws-lambda', 'azure-functions',
  'basic-auth', 'bot-detection', 'correlation-id', 'cors', 'datadog', 'file-log', 'grpc-gateway',
  'grpc-web', 'hmac-auth', 'http-log', 'ip-restriction', 'jwt', 'key-auth', 'ldap-auth', 'loggly',
  'oauth2', 'opentelemetry', 'post-function', 'pre-function', 'prometheus', 'proxy-cache',
  'rate-limiting', 'redirect', 'request-size-limiting', 'request-termination', 'request-transformer',
  'response-ratelimiting', 'response-transformer', 'session', 'standard-webhooks', 'statsd',
  'syslog', 'tcp-log', 'udp-log', 'zipkin',
];

/**
 * Enterprise plugin → the bundled plugin to use instead (null when there is none). A name that
 * Hyperway implements anyway (rate-limiting-advanced) is found in the registry first (pluginStatus).
 */
export const KONG_ENTERPRISE_PLUGINS: Readonly<Record<string, string | null>> = {
  'rate-limiting-advanced': 'rate-limiting',
  'request-transformer-advanced': 'request-transformer',
  'response-transformer-advanced': 'response-transformer',
  'proxy-cache-advanced': 'proxy-cache',
  'key-auth-enc': 'key-auth',
  'ldap-auth-advanced': 'ldap-auth',
  'statsd-advanced': 'statsd',
  'graphql-rate-limiting-advanced': 'rate-limiting',
  'graphql-proxy-cache-advanced': 'proxy-cache',
  'ai-rate-limiting-advanced': 'rate-limiting',
  'openid-connect': null,
  'oauth2-introspection': null,
  'jwt-signer': null,
  'canary': null,
  'forward-proxy': null,
  'mtls-auth': null,
  'vault-auth': null,
  'exit-transformer': null,
  'route-transformer-advanced': null,
  'route-by-header': null,
  'request-validator': null,
  'oas-validation': null,
  'degraphql': null,
  'application-registration': null,
  'kafka-log': null,
  'kafka-upstream': null,
  'opa': null,
  'mocking': null,
  'saml': null,
  'upstream-timeout': null,
  'websocket-size-limit': null,
  'websocket-validator': null,
  'tls-handshake-modifier': null,
  'tls-metadata-headers': null,
  'xml-threat-protection': null,
  'json-threat-protection': null,
  'injection-protection': null,
  'header-cert-auth': null,
  'jq': null,
  'datakit': null,
  'service-protection': 'rate-limiting',
  'confluent': null,
  'app-dynamics': null,
};
