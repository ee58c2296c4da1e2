# shellcheck shell=bash
# Local NATS JetStream cluster on 127.0.0.1 with free random ports.
#
#   source scripts/lib/cluster.sh
#   cluster_start DIR [N=3] [BIN=${NATS_SERVER_BIN:-nats-server}]   # N=1 -> standalone server (no cluster block)
#   cluster_stop DIR
#
# After cluster_start these variables are exported (and written to DIR/cluster.env):
#   NATS_CLUSTER_DIR     DIR
#   NATS_CLUSTER_SIZE    N
#   NATS_SERVER_NAMES    n1,n2,n3
#   NATS_CLIENT_URLS     nats://127.0.0.1:P1,nats://127.0.0.1:P2,...
#   NATS_URL             first client URL (nats://127.0.0.1:P1)
#   NATS_MONITOR_URLS    http://127.0.0.1:M1,http://127.0.0.1:M2,...
#   NATS_CLUSTER_PIDS    "PID1 PID2 PID3" (space separated, in node order)
#   NATS_CLIENT_PORT_n1 / NATS_MONITOR_PORT_n1 / NATS_PID_n1 ... per node
# Users: app/app (account APP, JetStream enabled), sys/sys (system account SYS).
# Logs: DIR/n1.log ...; configs DIR/n1.conf ...; pids DIR/n1.pid ...; store DIR/jetstream/n1 ...

# Prints N distinct free TCP ports on 127.0.0.1, one per line. Uses python3 (bind to port 0,
# the kernel picks) when available, else probes random ports with bash's /dev/tcp.
cluster_free_ports() {
  local n=${1:-1}
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$n" <<'PY'
import socket, sys
n = int(sys.argv[1])
socks, ports = [], []
# hold every socket open until all ports are chosen, so they are distinct
while len(ports) < n:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    ports.append(s.getsockname()[1])
for s in socks:
    s.close()
print("\n".join(map(str, ports)))
PY
    return
  fi
  local -A seen=()
  local port count=0
  while ((count < n)); do
    port=$((20000 + RANDOM % 40000))
    [[ -n ${seen[$port]:-} ]] && continue
    # a refused connection means nobody listens there
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      seen[$port]=1
      echo "$port"
      count=$((count + 1))
    fi
  done
}

cluster_free_port() { cluster_free_ports 1; }

_cluster_err() { echo "cluster.sh: error: $*" >&2; }

# cluster_write_config DIR NAME CLIENT_PORT MONITOR_PORT CLUSTER_PORT ROUTES(comma list or empty)
cluster_write_config() {
  local dir=$1 name=$2 cport=$3 mport=$4 rport=$5 routes=$6
  {
    echo "server_name: $name"
    echo "listen: 127.0.0.1:$cport"
    echo "http: 127.0.0.1:$mport"
    echo
    echo "jetstream {"
    echo "  store_dir: \"$dir/jetstream/$name\""
    echo "  max_memory_store: 256MB"
    echo "  max_file_store: 1GB"
    echo "}"
    echo
    if [[ -n $rport ]]; then
      echo "cluster {"
      echo "  name: c1"
      echo "  listen: 127.0.0.1:$rport"
      echo "  routes: ["
      local r
      IFS=',' read -r -a _routes <<<"$routes"
      for r in "${_routes[@]}"; do
        echo "    nats-route://$r"
      done
      echo "  ]"
      echo "}"
      echo
    fi
    echo "accounts {"
    echo "  SYS { users = [{user: sys, password: sys}] }"
    echo "  APP { jetstream: enabled, users = [{user: app, password: app}] }"
    echo "}"
    echo "system_account: SYS"
  } >"$dir/$name.conf"
}

# cluster_wait_healthy TIMEOUT_SECONDS MONITOR_URL...
cluster_wait_healthy() {
  local timeout=$1
  shift
  local deadline=$((SECONDS + timeout)) url body pending
  while :; do
    pending=()
    for url in "$@"; do
      body=$(curl -fsS --max-time 2 "$url/healthz" 2>/dev/null || true)
      [[ $body == *'"ok"'* ]] || pending+=("$url")
    done
    ((${#pending[@]} == 0)) && return 0
    if ((SECONDS >= deadline)); then
      _cluster_err "not healthy after ${timeout}s: ${pending[*]} (see logs)"
      return 1
    fi
    sleep 0.5
  done
}

# cluster_start DIR [N] [BIN]
cluster_start() {
  local dir=${1:?usage: cluster_start DIR [N] [BIN]} n=${2:-3} bin=${3:-${NATS_SERVER_BIN:-nats-server}}
  if ! command -v "$bin" >/dev/null 2>&1; then
    _cluster_err "nats-server binary '$bin' not found (run scripts/install-deps.sh or set NATS_SERVER_BIN)"
    return 1
  fi
  [[ $n =~ ^[1-9][0-9]*$ ]] || { _cluster_err "N must be a positive integer, got '$n'"; return 1; }
  mkdir -p "$dir/jetstream" || return 1
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/cluster.env ]]; then
    _cluster_err "$dir already has a cluster (cluster.env exists); run cluster_stop $dir first"
    return 1
  fi

  local -a ports cports mports rports names
  mapfile -t ports < <(cluster_free_ports $((n * 3))) || return 1
  local i
  for ((i = 0; i < n; i++)); do
    names[i]="n$((i + 1))"
    cports[i]=${ports[i * 3]}
    mports[i]=${ports[i * 3 + 1]}
    rports[i]=${ports[i * 3 + 2]}
  done

  local routes=""
  if ((n > 1)); then
    for ((i = 0; i < n; i++)); do routes+="${routes:+,}127.0.0.1:${rports[i]}"; done
  fi

  local -a pids=()
  for ((i = 0; i < n; i++)); do
    local name=${names[i]}
    if ((n > 1)); then
      cluster_write_config "$dir" "$name" "${cports[i]}" "${mports[i]}" "${rports[i]}" "$routes"
    else
      cluster_write_config "$dir" "$name" "${cports[i]}" "${mports[i]}" "" ""
    fi
    "$bin" -c "$dir/$name.conf" >"$dir/$name.log" 2>&1 </dev/null &
    pids[i]=$!
    echo "${pids[i]}" >"$dir/$name.pid"
  done

  local client_urls="" monitor_urls=""
  for ((i = 0; i < n; i++)); do
    client_urls+="${client_urls:+,}nats://127.0.0.1:${cports[i]}"
    monitor_urls+="${monitor_urls:+,}http://127.0.0.1:${mports[i]}"
  done

  {
    echo "export NATS_CLUSTER_DIR='$dir'"
    echo "export NATS_CLUSTER_SIZE=$n"
    echo "export NATS_SERVER_NAMES='$(IFS=,; echo "${names[*]}")'"
    echo "export NATS_CLIENT_URLS='$client_urls'"
    echo "export NATS_URL='nats://127.0.0.1:${cports[0]}'"
    echo "export NATS_MONITOR_URLS='$monitor_urls'"
    echo "export NATS_CLUSTER_PIDS='${pids[*]}'"
    for ((i = 0; i < n; i++)); do
      echo "export NATS_CLIENT_PORT_${names[i]}=${cports[i]}"
      echo "export NATS_MONITOR_PORT_${names[i]}=${mports[i]}"
      echo "export NATS_PID_${names[i]}=${pids[i]}"
    done
  } >"$dir/cluster.env"
  # shellcheck disable=SC1091
  source "$dir/cluster.env"

  local -a murls
  IFS=',' read -r -a murls <<<"$monitor_urls"
  if ! cluster_wait_healthy "${CLUSTER_START_TIMEOUT:-30}" "${murls[@]}"; then
    for ((i = 0; i < n; i++)); do
      if ! kill -0 "${pids[i]}" 2>/dev/null; then
        _cluster_err "${names[i]} (pid ${pids[i]}) exited; last log lines:"
        tail -n 5 "$dir/${names[i]}.log" >&2
      fi
    done
    cluster_stop "$dir"
    return 1
  fi

  echo "cluster up ($n node(s), dir $dir)"
  echo "  client URLs:  $NATS_CLIENT_URLS"
  echo "  monitor URLs: $NATS_MONITOR_URLS"
  echo "  pids:         $NATS_CLUSTER_PIDS"
}

# cluster_stop DIR: stops exactly the servers started by cluster_start DIR (by recorded pid).
cluster_stop() {
  local dir=${1:?usage: cluster_stop DIR} f pid name
  [[ -d $dir ]] || return 0
  local -a stopped=()
  for f in "$dir"/n*.pid; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    name=$(basename "$f" .pid)
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill -CONT "$pid" 2>/dev/null || true # a SIGSTOPped server cannot act on SIGTERM
      kill -TERM "$pid" 2>/dev/null || true
      stopped+=("$pid")
    fi
    rm -f "$f"
    : "$name"
  done
  local deadline=$((SECONDS + 10))
  for pid in "${stopped[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
    wait "$pid" 2>/dev/null || true
  done
  rm -f "$dir/cluster.env"
}
