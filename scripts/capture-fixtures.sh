#!/usr/bin/env bash
# Captures real /jsz answers from a local nats-server as golden-test fixtures.
#
#   scripts/capture-fixtures.sh [FIXTURE...]
#   NATS_SERVER_BIN=.cache/nats-server/sid/usr/sbin/nats-server scripts/capture-fixtures.sh features
#
# FIXTURE: single healthy frozen killed metaleaderless (default: all), and features (2.11+ only:
# a paused consumer, a stream with max_msgs, the API busy; not in the default set), raftz (2.11+
# only: /raftz of a healthy cluster and with a follower frozen while publishing; not default), and
# healthz (/healthz?details=true beside /jsz while a replica with a removed store catches up, and
# after a node is killed; not in the default set). Writes
#   tests/NatsJsExporter.Tests/testdata/fixtures/<version>-<scenario>/<server_name>.json + scenario.md
#   tests/NatsJsExporter.Tests/testdata/varz/<version>.json
# Files are the server's bytes exactly as sent (nats-server already pretty-prints /jsz and /varz).
# Environment: NATS_SERVER_BIN (default nats-server).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
testdata=$repo/tests/NatsJsExporter.Tests/testdata
export NATS_SERVER_BIN=${NATS_SERVER_BIN:-nats-server}
JSZ_QUERY='/jsz?accounts=true&streams=true&consumers=true&config=true'

say() { echo "capture: $*"; }
die() { echo "capture: error: $*" >&2; exit 1; }

for tool in "$NATS_SERVER_BIN" curl jq dotnet python3; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (scripts/install-deps.sh installs nats-server/curl; jq: apt-get install jq)"
done
# shellcheck source=lib/cluster.sh
source "$repo/scripts/lib/cluster.sh"

version=$("$NATS_SERVER_BIN" --version | sed -n 's/^nats-server: v//p')
[[ -n $version ]] || die "cannot read the version of $NATS_SERVER_BIN"
# version_at_least MAJOR MINOR PATCH
version_at_least() {
  local IFS=. parts
  read -ra parts <<<"${version%%-*}"
  (((parts[0] * 1000000 + parts[1] * 1000 + parts[2]) >= ($1 * 1000000 + $2 * 1000 + $3)))
}
# Ask what the exporter asks (Sources/JszFeatures.cs): raft=true from 2.9.15 on, which also brings
# streams_leader/consumers_leader (2.11.11/2.12.1+).
version_at_least 2 9 15 && JSZ_QUERY+='&raft=true'
fixtures=$testdata/fixtures

wanted=("$@")
((${#wanted[@]})) || wanted=(single healthy frozen killed metaleaderless)

work=$(mktemp -d "${TMPDIR:-/tmp}/natsjs-capture.XXXXXX")
publisher_pid=""
stopped_pid=""
clusters=()
cleanup() {
  [[ -n $stopped_pid ]] && kill -CONT "$stopped_pid" 2>/dev/null
  [[ -n $publisher_pid ]] && { kill -TERM "$publisher_pid" 2>/dev/null; wait "$publisher_pid" 2>/dev/null; }
  local c
  for c in "${clusters[@]}"; do cluster_stop "$c" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building demo client"
dotnet build "$repo/src/NatsJsExporter.Demo" -c Release -nologo -v q --disable-build-servers -o "$work/demo-bin" \
  >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "building src/NatsJsExporter.Demo failed"; }
demo() { dotnet "$work/demo-bin/natsjs-demo.dll" "$@"; }

# ---- helpers --------------------------------------------------------------------------------
murl() { local v="NATS_MONITOR_PORT_$1"; echo "http://127.0.0.1:${!v}"; }
curl_of() { local v="NATS_CLIENT_PORT_$1"; echo "nats://127.0.0.1:${!v}"; }
pid_of() { local v="NATS_PID_$1"; echo "${!v}"; }
names() { tr ',' ' ' <<<"$NATS_SERVER_NAMES"; }
# The node names as an array (no word splitting of a command substitution).
name_list() { IFS=',' read -ra NAMES <<<"$NATS_SERVER_NAMES"; }
jsz() { curl -fsS --max-time 5 "$(murl "$1")$JSZ_QUERY"; }

# Every node's server_name from /varz must match the name we gave it (it becomes the file name).
check_names() {
  local n got
  for n in "$@"; do
    got=$(curl -fsS --max-time 5 "$(murl "$n")/varz" | jq -r .server_name)
    [[ $got == "$n" ]] || die "server on $(murl "$n") says server_name=$got, expected $n"
  done
}

# Problems seen in one node's /jsz for the groups it leads (empty output = healthy).
# shellcheck disable=SC2016 # a jq program: $what is jq's variable, not the shell's
HEALTH_JQ='
  def problems($what):
    if .cluster == null then empty
    elif (.cluster.leader // "") == "" then "\($what): no leader"
    elif .cluster.leader != $me then empty
    else (.cluster.replicas // [])[]
         | select((.current | not) or (.offline // false) or ((.lag // 0) > 0))
         | "\($what): replica \(.name) current=\(.current) offline=\(.offline // false) lag=\(.lag // 0)"
    end;
  if (.meta_cluster != null) and ((.meta_cluster.leader // "") == "") then "meta: no leader" else empty end,
  (if .meta_cluster.leader == $me then (.meta_cluster.replicas // [])[]
     | select((.current | not) or (.offline // false)) | "meta: replica \(.name) not current" else empty end),
  (.account_details[]?.stream_detail[]? as $s
    | ($s | problems("stream \($s.name)")),
      (if $s.cluster.leader == $me then
         (($s.mirror // empty), ($s.sources // [])[]) | select(.lag > 0 or .active < 0)
         | "stream \($s.name): source \(.name) lag=\(.lag) active=\(.active)" else empty end),
      ($s.consumer_detail[]? | problems("consumer \($s.name)/\(.name)")))'

# wait_healthy TIMEOUT NODE...: every replica of every group current, no lag, every group led.
wait_healthy() {
  local timeout=$1
  shift
  local deadline=$((SECONDS + timeout)) n out all
  while :; do
    all=""
    for n in "$@"; do
      if ! out=$(jsz "$n" | jq -r --arg me "$n" "$HEALTH_JQ" 2>/dev/null); then
        out="no /jsz answer"
      fi
      [[ -n $out ]] && all+="$n: ${out//$'\n'/; }"$'\n'
    done
    [[ -z $all ]] && return 0
    if ((SECONDS >= deadline)); then
      echo "$all" >&2
      die "cluster not healthy after ${timeout}s"
    fi
    sleep 1
  done
}

# leader_of NODE STREAM [CONSUMER] / meta_leader NODE (read from that node's /jsz)
leader_of() {
  if [[ $# -eq 3 ]]; then
    jsz "$1" | jq -r --arg s "$2" --arg c "$3" \
      '[.account_details[]?.stream_detail[]? | select(.name==$s) | .consumer_detail[]? | select(.name==$c) | .cluster.leader][0] // ""'
  else
    jsz "$1" | jq -r --arg s "$2" '[.account_details[]?.stream_detail[]? | select(.name==$s) | .cluster.leader][0] // ""'
  fi
}
meta_leader() { jsz "$1" | jq -r '.meta_cluster.leader // ""'; }

# Leaders of every group, from the given nodes' captured files, for scenario.md.
leaders_table() {
  local dir=$1 f
  echo "| reported by | meta leader | ORDERS | ORDERS/PROCESSOR | ORDERS/AUDIT | EVENTS | ORDERS_ARCHIVE | ORDERS_MIRROR |"
  echo "|---|---|---|---|---|---|---|---|"
  for f in "$dir"/n*.json; do
    jq -r --arg me "$(basename "$f" .json)" '
      def sl($n): ([.account_details[]?.stream_detail[]? | select(.name==$n) | .cluster.leader // "?"][0] // "(not hosted)");
      def cl($n): ([.account_details[]?.stream_detail[]? | select(.name=="ORDERS") | .consumer_detail[]? | select(.name==$n)
                    | .cluster.leader // "?"][0] // "(not hosted)");
      "| \($me) | \(.meta_cluster.leader // "(none)") | \(sl("ORDERS")) | \(cl("PROCESSOR")) | \(cl("AUDIT")) | \(sl("EVENTS")) | \(sl("ORDERS_ARCHIVE")) | \(sl("ORDERS_MIRROR")) |"' "$f"
  done
}

# fixture_dir NAME: folder for one fixture; replaces only the files this script writes
# (n*.json, scenario.md) and leaves anything else (e.g. files added by the tests' authors).
fixture_dir() {
  local d=$fixtures/$version-$1 f
  mkdir -p "$d"
  rm -f "$d"/n[0-9]*.json "$d/scenario.md" "$d/targets-down.txt"
  rm -rf "$d/healthz"
  for f in "$d"/*; do
    [[ -e $f ]] || continue
    case $(basename "$f") in n[0-9]*.json | scenario.md | targets-down.txt | healthz) ;; *) echo "capture: note: keeping $f (not written by this script; check it still matches)" >&2 ;; esac
  done
  echo "$d"
}

# save_jsz DIR NODE...: capture the nodes back to back.
save_jsz() {
  local d=$1 n
  shift
  for n in "$@"; do jsz "$n" >"$d/$n.json"; done
}

# new_cluster N: start a cluster, create the demo streams, publish a few seconds, wait healthy.
new_cluster() {
  local n=$1 dir
  dir="$work/cluster$((${#clusters[@]} + 1))"
  clusters+=("$dir")
  cluster_start "$dir" "$n" "$NATS_SERVER_BIN" >/dev/null || die "cluster did not start (logs in $dir)"
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
  name_list
  check_names "${NAMES[@]}"
  demo setup --url "$NATS_CLIENT_URLS" --user app --password app >"$dir/setup.log" 2>&1 \
    || { cat "$dir/setup.log" >&2; die "demo setup failed"; }
  demo publish --url "$NATS_CLIENT_URLS" --user app --password app --rate 20 --duration 5 >"$dir/publish.log" 2>&1 \
    || { cat "$dir/publish.log" >&2; die "demo publish failed"; }
  wait_healthy 60 "${NAMES[@]}"
}

start_publisher() { # URL: background publishing, connected to the given node only
  # run dotnet directly (not the demo function) so that $! is the publisher itself
  dotnet "$work/demo-bin/natsjs-demo.dll" publish --url "$1" --user app --password app --rate 20 \
    >>"$NATS_CLUSTER_DIR/publish-bg.log" 2>&1 &
  publisher_pid=$!
}
stop_publisher() {
  [[ -n $publisher_pid ]] || return 0
  kill -TERM "$publisher_pid" 2>/dev/null || true
  wait "$publisher_pid" 2>/dev/null || true
  publisher_pid=""
}

# Pick a node that follows ORDERS and, if possible, is not the meta leader.
pick_orders_follower() {
  local ol=$1 ml=$2 n fallback=""
  for n in $(names); do
    [[ $n == "$ol" ]] && continue
    [[ $n != "$ml" ]] && { echo "$n"; return; }
    fallback=$n
  done
  echo "$fallback"
}

# targets_down DIR HOW NODE: the node that was polled but could not answer (same format the golden
# tests use: a comment line, then one server name per line).
targets_down() {
  printf '# polled but did not answer (%s)\n%s\n' "$2" "$3" >"$1/targets-down.txt"
}

header() { # FIXTURE-TITLE
  cat <<EOF
# $version-$1

Captured by \`scripts/capture-fixtures.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ) from real, unedited
\`nats-server\` v$version output (Debian package, loopback only).
Each \`<server_name>.json\` is the answer of \`GET $JSZ_QUERY\` from the server with
that \`server_name\` (as reported by its \`/varz\`). Demo objects: \`src/NatsJsExporter.Demo setup\`
(ORDERS file + consumers PROCESSOR/AUDIT, EVENTS memory R1, ORDERS_ARCHIVE sourcing ORDERS,
ORDERS_MIRROR R1 mirror), traffic from \`publish --rate 20\`; PROCESSOR acks part of the traffic,
AUDIT is never read.
EOF
}

# nats_request URL SUBJECT JSON: one JetStream API request as user app over the plain NATS
# protocol (no client library needed); prints the reply.
nats_request() {
  python3 - "$@" <<'PY'
import json, socket, sys
url, subject, payload = sys.argv[1], sys.argv[2], sys.argv[3].encode()
host, port = url.split("//")[1].split(":")
s = socket.create_connection((host, int(port)), timeout=10)
f = s.makefile("rb")
f.readline()  # INFO
s.sendall(b'CONNECT {"user":"app","pass":"app","verbose":false,"pedantic":false}\r\n'
          b"SUB _INBOX.capture 1\r\n" + f"PUB {subject} _INBOX.capture {len(payload)}\r\n".encode() + payload + b"\r\n")
while True:
    line = f.readline()
    if not line or line.startswith(b"-ERR"):
        sys.exit(f"{subject}: {line.decode().strip() or 'connection closed'}")
    if line.startswith(b"PING"):
        s.sendall(b"PONG\r\n")
    elif line.startswith(b"MSG"):
        body = f.read(int(line.split()[-1]) + 2)[:-2]
        print(body.decode())
        reply = json.loads(body)
        sys.exit(f"{subject}: {reply['error']}" if "error" in reply else 0)
PY
}

# ---- scenarios ------------------------------------------------------------------------------
capture_single() {
  say "single: standalone server"
  new_cluster 1
  local d
  d=$(fixture_dir single)
  save_jsz "$d" n1
  {
    header single
    cat <<EOF

Scenario: one standalone server \`n1\` (no \`cluster {}\` block, JetStream enabled, accounts
APP (JetStream) and SYS (system account)). Every stream is R1; ORDERS_ARCHIVE and ORDERS_MIRROR
are R1 too. Publishing had stopped before the capture.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"
  cluster_stop "$NATS_CLUSTER_DIR"
}

capture_healthy_and_frozen() {
  say "healthy: 3-node cluster"
  new_cluster 3
  local d ol ml victim others n
  if want healthy; then
    d=$(fixture_dir cluster-healthy)
    name_list
    save_jsz "$d" "${NAMES[@]}"
    mkdir -p "$testdata/varz"
    curl -fsS --max-time 5 "$(murl n1)/varz" >"$testdata/varz/$version.json"
    ml=$(jq -r '.meta_cluster.leader' "$d/n1.json")
    {
      header cluster-healthy
      cat <<EOF

Scenario: 3-node cluster \`c1\` (n1, n2, n3), demo setup, ~5 s of publishing, then publishing
stopped and the capture waited until, on every group leader, every replica was \`current\` with
no \`lag\` and sources/mirrors had \`lag\` 0. Meta leader: $ml.
Note: followers still report other followers as \`current:false\` (known 2.9.x behaviour); only the
group leader's view of \`replicas\` is meaningful.
\`testdata/varz/$version.json\` is n1's \`/varz\` from this cluster.

$(leaders_table "$d")
EOF
    } >"$d/scenario.md"
  fi

  if want frozen; then
    ol=$(leader_of n1 ORDERS)
    ml=$(meta_leader n1)
    victim=$(pick_orders_follower "$ol" "$ml")
    others=()
    for n in $(names); do [[ $n != "$victim" ]] && others+=("$n"); done
    say "frozen: ORDERS leader $ol, meta leader $ml; SIGSTOP $victim while publishing via $ol"
    start_publisher "$(curl_of "$ol")"
    sleep 3
    stopped_pid=$(pid_of "$victim")
    kill -STOP "$stopped_pid"
    sleep 15
    d=$(fixture_dir cluster-replica-frozen)
    save_jsz "$d" "${others[@]}"
    targets_down "$d" "frozen with SIGSTOP" "$victim"
    kill -CONT "$stopped_pid"
    stopped_pid=""
    stop_publisher
    {
      header cluster-replica-frozen
      cat <<EOF

Scenario: 3-node cluster \`c1\`, healthy; publishing started (client connected to $ol); 3 s later
node **$victim** (a follower of ORDERS, not the meta leader unless no other choice) was frozen with
SIGSTOP. About 15 s later the two live nodes (${others[*]}) were captured; $victim could not
answer, so there is no $victim.json (\`targets-down.txt\` names it). Then $victim got SIGCONT.
Before the freeze: ORDERS leader $ol, meta leader $ml. Frozen node: $victim.

$(leaders_table "$d")
EOF
    } >"$d/scenario.md"
  fi
  cluster_stop "$NATS_CLUSTER_DIR"
}

capture_killed() {
  say "killed: fresh 3-node cluster"
  new_cluster 3
  local d ol ml victim others n
  ol=$(leader_of n1 ORDERS)
  ml=$(meta_leader n1)
  victim=$(pick_orders_follower "$ol" "$ml")
  others=()
  for n in $(names); do [[ $n != "$victim" ]] && others+=("$n"); done
  say "killed: ORDERS leader $ol, meta leader $ml; SIGTERM $victim while publishing via $ol"
  start_publisher "$(curl_of "$ol")"
  sleep 3
  kill -TERM "$(pid_of "$victim")"
  sleep 5
  d=$(fixture_dir cluster-node-killed)
  save_jsz "$d" "${others[@]}"
  targets_down "$d" "stopped with SIGTERM" "$victim"
  stop_publisher
  {
    header cluster-node-killed
    cat <<EOF

Scenario: 3-node cluster \`c1\`, healthy; publishing started (client connected to $ol); 3 s later
node **$victim** (a follower of ORDERS, not the meta leader unless no other choice) got SIGTERM
(clean shutdown). About 5 s later the two survivors (${others[*]}) were captured.
Before the kill: ORDERS leader $ol, meta leader $ml. Killed node: $victim.
\`targets-down.txt\` names the node that could not answer.
Streams/consumers whose only replica lived on $victim (e.g. an R1 stream placed there) are
absent from both files.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"
  cluster_stop "$NATS_CLUSTER_DIR"
}

capture_metaleaderless() {
  say "meta-leaderless: fresh 3-node cluster"
  new_cluster 3
  local ml ol victim others n d caught="" t0 tries=0
  ml=$(meta_leader n1)
  ol=$(leader_of n1 ORDERS)
  victim=$ml
  others=()
  for n in $(names); do [[ $n != "$victim" ]] && others+=("$n"); done
  say "meta-leaderless: SIGKILL meta leader $victim, polling ${others[*]} for a leaderless meta group"
  mkdir -p "$work/poll"
  local urls=() result
  for n in "${others[@]}"; do urls+=("$n=$(murl "$n")$JSZ_QUERY"); done
  local victim_pid
  victim_pid=$(pid_of "$victim")
  kill -KILL "$victim_pid"
  { wait "$victim_pid"; } 2>/dev/null || true
  t0=$SECONDS
  # Poll both survivors back to back as fast as possible (a few ms per round) for up to 20 s; keep
  # the first round in which one of them names no meta leader. Bytes are saved exactly as served.
  result=$(python3 - "$work/poll" "${urls[@]}" <<'PY'
import json, sys, time, urllib.request
out, targets = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
deadline, polls = time.time() + 20, 0
while time.time() < deadline:
    polls += 1
    got = {}
    for name, url in targets:
        try:
            got[name] = urllib.request.urlopen(url, timeout=2).read()
        except Exception:
            pass
    leaderless = [n for n, b in got.items() if not (json.loads(b).get("meta_cluster") or {}).get("leader")]
    if leaderless:
        for n, b in got.items():
            open(f"{out}/{n}.json", "wb").write(b)
        print(polls, ",".join(leaderless))
        sys.exit(0)
print(polls, "")
PY
  )
  tries=${result%% *}
  caught=${result#* }
  if [[ -z $caught ]]; then
    say "meta-leaderless: no leaderless answer seen in 20 s ($tries polls)"
    cluster_stop "$NATS_CLUSTER_DIR"
    return 1
  fi
  d=$(fixture_dir cluster-meta-leaderless)
  for n in "${others[@]}"; do
    [[ -s $work/poll/$n.json ]] && cp "$work/poll/$n.json" "$d/$n.json"
  done
  targets_down "$d" "killed with SIGKILL" "$victim"
  {
    header cluster-meta-leaderless
    cat <<EOF

Scenario: 3-node cluster \`c1\`, healthy, publishing stopped. The meta leader **$victim** was
killed with SIGKILL; the survivors (${others[*]}) were polled back to back as fast as possible and the
first poll in which at least one of them reported no \`meta_cluster.leader\` was kept
(poll $tries, ~$((SECONDS - t0)) s after the kill; leaderless on: $caught). The other survivor's
file is from the same poll and may still name a leader. \`targets-down.txt\` names the killed node.
Before the kill: meta leader $victim, ORDERS leader $ol. Killed node: $victim.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"
  cluster_stop "$NATS_CLUSTER_DIR"
}

capture_features() {
  version_at_least 2 11 0 || die "features needs nats-server 2.11 or newer (consumer pause); this is $version"
  say "features: 3-node cluster, a paused consumer, a stream with max_msgs, the API busy"
  new_cluster 3
  local url d n result
  url=$(curl_of n1)
  # shellcheck disable=SC2016 # $JS is part of the subject, not a shell variable
  nats_request "$url" '$JS.API.CONSUMER.PAUSE.ORDERS.AUDIT' '{"pause_until":"2099-01-01T00:00:00Z"}' >"$work/pause.json" \
    || die "pausing ORDERS/AUDIT failed: $(cat "$work/pause.json")"
  # shellcheck disable=SC2016 # $JS is part of the subject, not a shell variable
  nats_request "$url" '$JS.API.STREAM.CREATE.LIMITED' \
    '{"name":"LIMITED","subjects":["limited.>"],"max_msgs":1000,"num_replicas":3,"storage":"file"}' >"$work/limited.json" \
    || die "creating LIMITED failed: $(cat "$work/limited.json")"
  name_list
  wait_healthy 60 "${NAMES[@]}"
  # api.inflight is only in an answer while requests wait in a server's API queue: flood every
  # node with STREAM.INFO requests (replies dropped) and poll the three /jsz back to back; keep
  # the first round in which a node reports some in flight.
  mkdir -p "$work/busy"
  local urls=()
  for n in "${NAMES[@]}"; do urls+=("$n=$(murl "$n")$JSZ_QUERY"); done
  result=$(python3 - "$work/busy" "$NATS_CLIENT_URLS" "${urls[@]}" <<'PY'
import json, socket, sys, threading, time, urllib.request
out, clients, monitors = sys.argv[1], sys.argv[2].split(","), [a.split("=", 1) for a in sys.argv[3:]]
stop = threading.Event()
def flood(url):
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.recv(4096)
    s.sendall(b'CONNECT {"user":"app","pass":"app","verbose":false,"pedantic":false}\r\n')
    batch = b"PUB $JS.API.STREAM.INFO.ORDERS _INBOX.flood 0\r\n\r\n" * 500
    s.settimeout(0.2)
    while not stop.is_set():
        s.sendall(batch)
        try:
            while s.recv(65536): pass
        except OSError: pass
for c in clients: threading.Thread(target=flood, args=(c,), daemon=True).start()
deadline, rounds = time.time() + 30, 0
while time.time() < deadline:
    rounds += 1
    got = {n: urllib.request.urlopen(u, timeout=5).read() for n, u in monitors}
    busy = [n for n, b in got.items() if (json.loads(b).get("api") or {}).get("inflight")]
    if busy:
        for n, b in got.items(): open(f"{out}/{n}.json", "wb").write(b)
        print(rounds, ",".join(busy)); stop.set(); sys.exit(0)
stop.set()
print(rounds, "")
PY
  )
  [[ -n ${result#* } ]] || die "features: no /jsz answer with api.inflight in 30 s (${result%% *} rounds)"
  d=$(fixture_dir cluster-features)
  for n in "${NAMES[@]}"; do cp "$work/busy/$n.json" "$d/$n.json"; done
  {
    header cluster-features
    cat <<EOF

Scenario: 3-node cluster \`c1\` (n1, n2, n3), demo setup, ~5 s of publishing, then: consumer
ORDERS/AUDIT paused until 2099-01-01 (\`\$JS.API.CONSUMER.PAUSE\`), an R3 file stream LIMITED
(\`limited.>\`, \`max_msgs\` 1000) created, and the cluster waited healthy. Then every node's
JetStream API was flooded with \`STREAM.INFO\` requests while the three \`/jsz\` were polled back
to back; the first round in which a node reported \`api.inflight\` was kept (round ${result%% *};
in flight on: ${result#* }). Query: \`$JSZ_QUERY\` (with \`raft=true\`, as the exporter asks
2.9.15+ servers), so each answer has \`streams_leader\` and, when the node leads one,
\`consumers_leader\`.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"
  cluster_stop "$NATS_CLUSTER_DIR"
}

# save_raftz DIR NODE...: each node's /raftz (meta group) and /raftz?acc=APP (stream and consumer
# groups) merged into raftz/NODE.json (account -> group -> state), as the exporter merges them.
save_raftz() {
  local d=$1/raftz n
  shift
  mkdir -p "$d"
  rm -f "$d"/n[0-9]*.json
  for n in "$@"; do
    jq -s 'reduce .[] as $x ({}; . * $x)' \
      <(curl -fsS --max-time 5 "$(murl "$n")/raftz") <(curl -fsS --max-time 5 "$(murl "$n")/raftz?acc=APP") >"$d/$n.json"
  done
}

capture_raftz() {
  version_at_least 2 11 0 || die "raftz needs nats-server 2.11 or newer (/raftz); this is $version"
  say "raftz: 3-node cluster, healthy, then a follower frozen while publishing"
  new_cluster 3
  local d ol ml victim others n
  name_list
  d=$(fixture_dir cluster-raftz)
  save_jsz "$d" "${NAMES[@]}"
  save_raftz "$d" "${NAMES[@]}"
  ol=$(leader_of n1 ORDERS)
  ml=$(meta_leader n1)
  {
    header cluster-raftz
    cat <<EOF

Scenario: 3-node cluster \`c1\`, demo setup, ~5 s of publishing, waited healthy. Besides each
\`<server>.json\` (/jsz), \`raftz/<server>.json\` is that server's \`/raftz\` (meta group) and
\`/raftz?acc=APP\` (stream and consumer groups) merged with \`jq -s 'reduce .[] as \$x ({}; . * \$x)'\`
(account -> group -> state), as the exporter merges them. Meta leader $ml, ORDERS leader $ol.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"

  victim=$(pick_orders_follower "$ol" "$ml")
  others=()
  for n in "${NAMES[@]}"; do [[ $n != "$victim" ]] && others+=("$n"); done
  say "raftz-frozen: SIGSTOP $victim (follows ORDERS led by $ol) while publishing via $ol"
  start_publisher "$(curl_of "$ol")"
  sleep 3
  stopped_pid=$(pid_of "$victim")
  kill -STOP "$stopped_pid"
  sleep 8
  d=$(fixture_dir cluster-raftz-frozen)
  save_jsz "$d" "${others[@]}"
  save_raftz "$d" "${others[@]}"
  targets_down "$d" "frozen with SIGSTOP" "$victim"
  kill -CONT "$stopped_pid"
  stopped_pid=""
  stop_publisher
  {
    header cluster-raftz-frozen
    cat <<EOF

Scenario: the cluster of \`$version-cluster-raftz\`; publishing via $ol (ORDERS leader), 3 s later
**$victim** (an ORDERS follower, not the meta leader unless no other choice) was frozen with
SIGSTOP; 8 s later the live nodes (${others[*]}) were captured: \`<server>.json\` (/jsz) and
\`raftz/<server>.json\` (/raftz merged with /raftz?acc=APP, see \`$version-cluster-raftz\`).
In the leader's /raftz, $victim's \`last_replicated_index\` has stopped. Then $victim got SIGCONT.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"
  cluster_stop "$NATS_CLUSTER_DIR"
}

capture_healthz() {
  say "healthz: fresh 3-node cluster, 3,000 more messages in ORDERS"
  new_cluster 3
  demo publish --url "$NATS_CLIENT_URLS" --user app --password app --rate 600 --duration 5 >>"$NATS_CLUSTER_DIR/publish.log" 2>&1 \
    || die "demo publish failed"
  name_list
  wait_healthy 60 "${NAMES[@]}"
  local d ol ml victim n store result
  ol=$(leader_of n1 ORDERS)
  ml=$(meta_leader n1)
  victim=$(pick_orders_follower "$ol" "$ml")
  # 1. a replica whose ORDERS store was removed, restarted: its own healthz says "catching up".
  say "healthz: stop $victim (ORDERS leader $ol, meta leader $ml), remove its ORDERS store, restart it"
  kill -TERM "$(pid_of "$victim")"
  while kill -0 "$(pid_of "$victim")" 2>/dev/null; do sleep 0.1; done
  store=$(find "$NATS_CLUSTER_DIR/jetstream/$victim" -type d -path '*/APP/streams/ORDERS' | head -1)
  [[ -n $store ]] || die "no ORDERS store under $NATS_CLUSTER_DIR/jetstream/$victim"
  rm -rf "$store"
  mkdir -p "$work/hz"
  "$NATS_SERVER_BIN" -c "$NATS_CLUSTER_DIR/$victim.conf" >>"$NATS_CLUSTER_DIR/$victim.log" 2>&1 </dev/null &
  echo $! >"$NATS_CLUSTER_DIR/$victim.pid"
  local monitors=()
  for n in "${NAMES[@]}"; do monitors+=("$n=$(murl "$n")"); done
  # Poll every node's healthz (and /jsz) back to back for up to 30 s; keep the first round in
  # which some node answers 503 naming a stream or consumer.
  # Before 2.10 there are no details: any 503 (a server-level sentence) is what there is to keep.
  local details=1
  version_at_least 2 10 0 || details=0
  result=$(python3 - "$work/hz" "$JSZ_QUERY" "$details" "${monitors[@]}" <<'PY2'
import json, sys, time, urllib.error, urllib.request
out, query, details, targets = sys.argv[1], sys.argv[2], sys.argv[3] == "1", [a.split("=", 1) for a in sys.argv[4:]]
def get(url):
    try:
        r = urllib.request.urlopen(url, timeout=2); return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
deadline, rounds = time.time() + 30, 0
while time.time() < deadline:
    rounds += 1
    got = {}
    for name, base in targets:
        try:
            got[name] = (get(base + "/healthz?details=true"), get(base + query))
        except Exception:
            pass
    # wanted: a replica's own stream/consumer error (a JETSTREAM "no meta leader" comes first)
    bad = [n for n, ((code, body), _) in got.items()
           if code == 503 and (not details or any(e.get("type") in ("STREAM", "CONSUMER") for e in json.loads(body).get("errors") or []))]
    if bad and len(got) == len(targets):
        for n, ((code, body), (_, jsz)) in got.items():
            open(f"{out}/{n}.healthz.json", "w").write(json.dumps({"http_status": code, "body": json.loads(body)}, indent=2) + "\n")
            open(f"{out}/{n}.json", "wb").write(jsz)
        print(rounds, ",".join(bad)); sys.exit(0)
    time.sleep(0.05)
print(rounds, "")
PY2
  )
  [[ -n ${result#* } ]] || die "healthz: no 503 naming a stream or consumer (before 2.10: no 503) in 30 s (${result%% *} rounds)"
  d=$(fixture_dir cluster-healthz-catchup)
  mkdir -p "$d/healthz"
  for n in "${NAMES[@]}"; do
    cp "$work/hz/$n.json" "$d/$n.json"
    cp "$work/hz/$n.healthz.json" "$d/healthz/$n.json"
  done
  {
    header cluster-healthz-catchup
    cat <<EOF

Scenario: 3-node cluster \`c1\`, demo setup, ~5 s at 20 msg/s then ~5 s at 600 msg/s, healthy.
Node **$victim** (an ORDERS follower, not the meta leader unless no other choice) got SIGTERM, its
ORDERS store directory was removed, and it was started again. All three nodes' \`/healthz?details=true\`
and \`/jsz\` were polled back to back; the first round (round ${result%% *}) in which a node answered
503 naming a stream or consumer in \`errors\` (before 2.10, which has no details: any 503) was kept (503 on: ${result#* }). \`healthz/<server_name>.json\` is
\`{"http_status": <HTTP status the server sent>, "body": <its JSON body, unchanged>}\`.
Before the stop: ORDERS leader $ol, meta leader $ml.

$(leaders_table "$d")
EOF
  } >"$d/scenario.md"
  wait_healthy 90 "${NAMES[@]}"
  # The leaders' view is healthy again well before the restarted replica's own healthz is.
  local deadline=$((SECONDS + 90))
  for n in "${NAMES[@]}"; do
    until curl -fsS --max-time 2 "$(murl "$n")/healthz?details=true" >/dev/null 2>&1; do
      ((SECONDS < deadline)) || die "healthz: $n did not answer 200 within 90 s"
      sleep 0.5
    done
  done

  # 2. a killed node: the survivors' healthz while groups it led re-elect.
  victim=$(meta_leader n1)
  [[ $victim == n1 ]] && victim=$(leader_of n2 ORDERS)
  say "healthz: SIGKILL $victim, poll the survivors"
  local survivors=() pid
  for n in "${NAMES[@]}"; do [[ $n != "$victim" ]] && survivors+=("$n=$(murl "$n")"); done
  rm -f "$work/hz"/*
  pid=$(<"$NATS_CLUSTER_DIR/$victim.pid")
  kill -KILL "$pid"
  result=$(python3 - "$work/hz" "$JSZ_QUERY" "${survivors[@]}" <<'PY2'
import json, sys, time, urllib.error, urllib.request
out, query, targets = sys.argv[1], sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
def get(url):
    try:
        r = urllib.request.urlopen(url, timeout=2); return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
deadline, rounds = time.time() + 20, 0
while time.time() < deadline:
    rounds += 1
    got = {n: (get(b + "/healthz?details=true"), get(b + query)) for n, b in targets}
    bad = [n for n, ((code, body), _) in got.items() if code == 503]
    if bad:
        for n, ((code, body), (_, jsz)) in got.items():
            open(f"{out}/{n}.healthz.json", "w").write(json.dumps({"http_status": code, "body": json.loads(body)}, indent=2) + "\n")
            open(f"{out}/{n}.json", "wb").write(jsz)
        print(rounds, ",".join(bad)); sys.exit(0)
    time.sleep(0.05)
print(rounds, "")
PY2
  )
  if [[ -n ${result#* } ]]; then
    d=$(fixture_dir cluster-healthz-killed)
    mkdir -p "$d/healthz"
    for f in "$work/hz"/*.healthz.json; do
      n=$(basename "$f" .healthz.json)
      cp "$work/hz/$n.json" "$d/$n.json"
      cp "$f" "$d/healthz/$n.json"
    done
    targets_down "$d" "killed with SIGKILL" "$victim"
    {
      header cluster-healthz-killed
      cat <<EOF

Scenario: the same cluster, healthy again after the catch-up above (every node's healthz 200). Node **$victim** (the meta
leader, or the ORDERS leader when n1 led the meta group) was killed with SIGKILL; the survivors'
\`/healthz?details=true\` and \`/jsz\` were polled back to back and the first round (round ${result%% *})
in which one answered 503 was kept (503 on: ${result#* }). \`healthz/<server_name>.json\` as above;
\`targets-down.txt\` names the killed node.

$(leaders_table "$d")
EOF
    } >"$d/scenario.md"
  else
    say "healthz: survivors never answered 503 in 20 s (${result%% *} rounds); no killed fixture"
  fi
  cluster_stop "$NATS_CLUSTER_DIR"
}

want() {
  local w
  for w in "${wanted[@]}"; do [[ $w == "$1" ]] && return 0; done
  return 1
}

for w in "${wanted[@]}"; do
  case $w in single | healthy | frozen | killed | metaleaderless | features | raftz | healthz) ;; *) die "unknown fixture '$w'" ;; esac
done

want single && capture_single
if want healthy || want frozen; then capture_healthy_and_frozen; fi
want killed && capture_killed
if want metaleaderless; then
  # The window between the survivors forgetting the dead leader and electing a new one is short
  # (a candidate round); it is not caught every time.
  for attempt in 1 2 3; do
    capture_metaleaderless && break
    if ((attempt < 3)); then
      say "meta-leaderless: retrying with a fresh cluster"
    else
      say "meta-leaderless: not caught in 3 attempts; previous fixture (if any) left as is"
    fi
  done
fi

want features && capture_features
want raftz && capture_raftz
want healthz && capture_healthz

say "done:"
find "$fixtures" -path "*/$version-*" -type f | sort | sed "s|^$repo/|  |"
[[ -f $testdata/varz/$version.json ]] && echo "  ${testdata#"$repo"/}/varz/$version.json"
