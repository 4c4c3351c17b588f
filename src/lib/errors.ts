/**
 * The one place where Hyperway's error codes are declared.
 *
 * Codes follow HW_ERR_<AREA>_<WHAT>. Match on `code`, never on `instanceof`: errors cross
 * processes as `{ code, message, details }` (msgpackr keeps no class identity).
 * The README's error table lists exactly these codes (test/unit/errors.test.ts keeps them in sync).
 */
export const ERROR_CODES = {
  HW_ERR_CONFIG_INVALID: { status: 400, message: 'declarative config is invalid' },
  HW_ERR_CONFIG_READ: { status: 500, message: 'cannot read config file' },
  HW_ERR_CONFIG_YAML: { status: 400, message: 'config file is not valid YAML' },
  HW_ERR_SETTINGS_INVALID: { status: 500, message: 'invalid setting' },
  HW_ERR_UWS_UNAVAILABLE: { status: 500, message: 'no uWebSockets.js native binary could be loaded' },
  HW_ERR_SHM_UNAVAILABLE: { status: 500, message: 'cannot create or attach the shared-memory segment' },
  HW_ERR_LISTEN_FAILED: { status: 500, message: 'cannot listen on the proxy address' },
  HW_ERR_UPSTREAM_CONNECT: { status: 502, message: 'connection to the upstream failed' },
  HW_ERR_UPSTREAM_RESET: { status: 502, message: 'the upstream closed or reset the connection' },
  HW_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'the upstream timed out' },
  HW_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, message: 'the connection to the upstream timed out' },
  HW_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, message: 'the upstream sent an invalid response' },
  HW_ERR_UPSTREAM_DNS: { status: 503, message: 'name resolution failed' },
  HW_ERR_UPSTREAM_DISPATCH: { status: 502, message: 'the request could not be sent to the upstream' },
  HW_ERR_BALANCER_NO_PEER: { status: 503, message: 'failure to get a peer from the ring-balancer' },
  HW_ERR_REQUEST_BAD: { status: 400, message: 'bad request' },
  HW_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body larger than the limit' },
  HW_ERR_BODY_GONE: { status: 502, message: 'the request body is no longer available to send' },
  HW_ERR_BODY_SPILL: { status: 500, message: 'the request body could not be buffered to its temporary file' },
  HW_ERR_WEBSOCKET_BACKPRESSURE: { status: 500, message: 'the upstream WebSocket took too little of what the client sent (closed with 1008)' },
  HW_ERR_VERSION_MISMATCH: { status: 500, message: 'a worker runs other code than its primary' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HyperwayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code].message);
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
  toJSON(): { code: ErrorCode; message: string; details: unknown } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** One problem in a config file: where it is and what is wrong. */
export interface ConfigProblem {
  /** Field path as Kong prints it: `services[2].routes[0].paths[1]`. Empty for the document root. */
  path: string;
  message: string;
  /** 1-based line and column in the YAML file, when the node is known. */
  line?: number;
  column?: number;
}

/** A config that cannot be used: names the file and every problem found, each with path and line. */
export class ConfigError extends HyperwayError {
  readonly file: string;
  readonly problems: ConfigProblem[];
  constructor(file: string, problems: ConfigProblem[], code: ErrorCode = 'HW_ERR_CONFIG_INVALID') {
    super(code, formatProblems(file, problems), { file, problems });
    this.file = file;
    this.problems = problems;
  }
}

/** `<file>: N errors in declarative config` and one line per problem; `kind` 'warning' for warnings. */
export function formatProblems(file: string, problems: ConfigProblem[], kind: 'error' | 'warning' = 'error'): string {
  const lines = problems.map((p) => {
    const at = p.line !== undefined ? `${file}:${p.line}:${p.column ?? 1}` : file;
    return `  ${at}: ${p.path === '' ? '(root)' : p.path}: ${p.message}`;
  });
  const n = problems.length;
  return `${file}: ${n} ${kind}${n === 1 ? '' : 's'} in declarative config\n${lines.join('\n')}`;
}
