#!/usr/bin/env bash
# `make serve`: PostgreSQL instance, `dagster code-server`, `dagster-daemon` and `dagster-webserver`
# as separate processes on 127.0.0.1 (the layout of the Kubernetes deployment, on one machine).
# Stops all three on Ctrl-C / SIGTERM. Environment: DAGSTER_PG_HOST/PORT/USER/PASSWORD/DB (the
# database is created when missing), SAQI_DATA_ROOT, SAQI_LANDING_DIR; SERVE_PORT (default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export DAGSTER_HOME=${DAGSTER_HOME:-$PWD/.dagster_serve}
export DAGSTER_PG_HOST=${DAGSTER_PG_HOST:-127.0.0.1} DAGSTER_PG_PORT=${DAGSTER_PG_PORT:-5432}
export DAGSTER_PG_USER=${DAGSTER_PG_USER:-postgres} DAGSTER_PG_PASSWORD=${DAGSTER_PG_PASSWORD:-} DAGSTER_PG_DB=${DAGSTER_PG_DB:-saqi}
mkdir -p "$DAGSTER_HOME"
cp configs/deploy/dagster-serve.yaml "$DAGSTER_HOME/dagster.yaml"
"$VENV/bin/python" - <<'PY'
import os
import psycopg2
admin = psycopg2.connect(host=os.environ["DAGSTER_PG_HOST"], port=os.environ["DAGSTER_PG_PORT"], user=os.environ["DAGSTER_PG_USER"],
                         password=os.environ["DAGSTER_PG_PASSWORD"] or None, dbname="postgres", connect_timeout=5)
admin.autocommit = True
with admin.cursor() as cursor:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (os.environ["DAGSTER_PG_DB"],))
    if cursor.fetchone() is None:
        cursor.execute(f'CREATE DATABASE "{os.environ["DAGSTER_PG_DB"]}"')
        print(f"created database {os.environ['DAGSTER_PG_DB']}")
PY
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 20); do alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done; [ $alive = 0 ] && break; sleep 1; done
  # the code server does not exit on SIGTERM while its gRPC child runs: stop both
  for pid in "${pids[@]}"; do pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
"$VENV/bin/dagster" code-server start -h 127.0.0.1 -p 4266 -m pipelines.orchestration.definitions & pids+=($!)
for _ in $(seq 60); do "$VENV/bin/dagster" api grpc-health-check -p 4266 >/dev/null 2>&1 && break; sleep 2; done
"$VENV/bin/dagster-daemon" run -w configs/deploy/workspace-serve.yaml & pids+=($!)
"$VENV/bin/dagster-webserver" -h 127.0.0.1 -p "${SERVE_PORT:-3000}" -w configs/deploy/workspace-serve.yaml & pids+=($!)
echo "Dagster UI on http://127.0.0.1:${SERVE_PORT:-3000} (instance $DAGSTER_HOME, database $DAGSTER_PG_DB); Ctrl-C stops all"
wait -n
