// pm2 process file. Hyperway runs its own worker processes (one per core, HYPERWAY_WORKERS), so pm2
// manages ONE primary in fork mode — never cluster mode, which would start several primaries.
//   npm ci && pm2 start ecosystem.config.cjs && pm2 save
// Config changes: `pm2 sendSignal SIGHUP hyperway` reloads the file in place (pm2's own `reload`
// restarts the process instead).
module.exports = {
  apps: [
    {
      name: 'hyperway',
      script: 'dist/src/main.js',
      args: 'start',
      exec_mode: 'fork',
      instances: 1,
      // pm2 stops with SIGINT, which drains in-flight requests (drain_timeout, 10 s by default)
      // like SIGTERM does; give pm2 a little longer before it kills.
      kill_timeout: 15000,
      env: {
        NODE_ENV: 'production',
        HYPERWAY_CONFIG: '/etc/hyperway/kong.yml',
        HYPERWAY_PROXY_LISTEN: '0.0.0.0:8000',
        HYPERWAY_ADMIN_LISTEN: '127.0.0.1:8001',
        HYPERWAY_WORKERS: 'auto',
        HYPERWAY_LOG_LEVEL: 'notice',
      },
    },
  ],
};
