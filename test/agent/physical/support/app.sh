#!/bin/sh
# The test application's service manager, run on a test host by restart_command:
#   app.sh <host> <port> <directory> <state directory> <events file>
# stops the instance serving <port> (recording `stop <host> <port>`), then serves <directory>
# over HTTP on <host>:<port>, detached from the SSH session.
set -eu
host=$1 port=$2 directory=$3 state=$4 events=$5
pidfile="$state/app-$port.pid"
mkdir -p "$state"
if [ -s "$pidfile" ]; then
  pid=$(cat "$pidfile")
  echo "stop $host $port" >>"$events"
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
fi
setsid /usr/bin/python3 -m http.server "$port" --bind "$host" --directory "$directory" \
  </dev/null >"$state/app-$port.log" 2>&1 &
echo $! >"$pidfile"
