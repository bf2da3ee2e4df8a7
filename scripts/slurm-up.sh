#!/usr/bin/env bash
# Starts a real single-node Slurm cluster on this machine (Debian's slurm-wlm + munge, as root, no systemd), for
# the `durian study --slurm` tests. Follows ../shared/docs/slurm-single-node.md.
#
# Machine-wide effects, stated plainly: it installs the two Debian packages, writes /etc/munge/munge.key if there
# is none, and writes /etc/slurm/slurm.conf ONLY if there is none or the one there was written by this script (its
# first line says so); an existing configuration of someone else's is left alone and used as it is.
# Idempotent: if `sinfo` already answers with an idle or mixed node, it does nothing.
# Usage: bash scripts/slurm-up.sh            (SLURM_STATE=DIR for the state/spool/log folder; default /tmp/durian-slurm)
#        bash scripts/slurm-up.sh --down     (stops the daemons this script started, by pid)
set -euo pipefail

STATE="${SLURM_STATE:-/tmp/durian-slurm}"
CONF=/etc/slurm/slurm.conf
MARK='# written by durian-rl scripts/slurm-up.sh'

say() { echo "[slurm-up] $*"; }

if [ "${1:-}" = "--down" ]; then
  for f in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/munged.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  say "stopped"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  say "must run as root (Slurm's daemons and munge); skipped"
  exit 1
fi

node_ready() { timeout 10 sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; }

if command -v sinfo > /dev/null && node_ready; then
  say "a Slurm cluster is already up: $(sinfo -h -o '%P %a %D %T' | head -1)"
  exit 0
fi

if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
  say "installing slurm-wlm and munge from Debian"
  apt-get update -qq > /dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge > /tmp/durian-slurm-apt.log 2>&1 ||
    { say "apt-get failed (see /tmp/durian-slurm-apt.log)"; exit 1; }
fi

mkdir -p "$STATE"/{state,spool,log} /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
if [ ! -f /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! pgrep -u munge -x munged > /dev/null; then
  runuser -u munge -- /usr/sbin/munged --force
  sleep 1
  pgrep -u munge -x munged | head -1 > "$STATE/munged.pid" || true
fi

if [ -f "$CONF" ] && [ "$(head -1 "$CONF")" != "$MARK" ]; then
  say "$CONF exists and was not written by this script: using it as it is"
else
  H=$(hostname)
  MEM=$(( $(free -m | awk '/Mem:/{print $2}') - 1024 ))
  mkdir -p /etc/slurm
  cat > "$CONF" <<EOF
$MARK
ClusterName=local
SlurmctldHost=$H
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/ctld.log
SlurmdLogFile=$STATE/log/d.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$H CPUs=$(nproc) RealMemory=$MEM State=UNKNOWN
PartitionName=main Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
fi

pgrep -x slurmctld > /dev/null || /usr/sbin/slurmctld
pgrep -x slurmd > /dev/null || /usr/sbin/slurmd
for _ in $(seq 1 30); do
  if node_ready; then
    say "up: $(sinfo -h -o '%P %a %D %T %N' | head -1)"
    exit 0
  fi
  sleep 1
done
say "the node did not become idle in 30 s; logs in $STATE/log"
sinfo || true
exit 1
