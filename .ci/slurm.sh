#!/usr/bin/env bash
# Issue 14: a real one-node Slurm cluster runs a tiny sweep through sbatch
# (2 configurations × 2 seeds of 200 MNIST samples, 20-step windows, one
# epoch), as job arrays split and chained as a large sweep's would be; then
# the sweep's status, a second submission (nothing left to do), a requeued
# task (redoes nothing), and the table of `strongdfc collect` are checked.
#
# Needs root on Debian 12 without systemd (the CI machines): it installs
# slurm-wlm and munge if missing, starts munged (unless one is running),
# slurmctld and slurmd with a private configuration (SLURM_CONF, state and
# logs in a temporary folder, ports $SLURM_CI_PORT and +1), and stops the
# daemons it started by their PID files at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
start_time=$(date +%s)

work="$(mktemp -d /tmp/strongdfc-slurm.XXXXXX)"
ctl_port="${SLURM_CI_PORT:-16817}"
started_munged=""

log() { echo "slurm-ci: $*"; }

cleanup() {
	local status=$?
	set +e
	# The daemons we started, by their PID files.
	local pids=""
	for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid"; do
		pids="$pids $(cat "$pidfile" 2>/dev/null)"
	done
	if [ -n "$started_munged" ]; then
		pids="$pids $(cat /run/munge/munged.pid 2>/dev/null)"
	fi
	for pid in $pids; do kill "$pid" 2>/dev/null; done
	for _ in $(seq 100); do
		local alive=""
		for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	if [ $status -ne 0 ]; then
		log "FAILED; the daemons' logs and the tasks' output follow"
		tail -n 30 "$work"/log/*.log 2>/dev/null
		find "$work/runs/.sweep/slurm" -name '*.out' -exec sh -c 'echo "== $1"; tail -n 20 "$1"' _ {} \; 2>/dev/null
	fi
	rm -rf "$work"
	exit $status
}
trap cleanup EXIT
# A signal ends the script through exit, so that cleanup runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- install ----
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
	log "installing slurm-wlm and munge"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y slurm-wlm munge || { apt-get update && apt-get install -y slurm-wlm munge; }; } >/dev/null
fi
log "$(slurmctld -V)"

# ---- munge ----
if [ ! -s /etc/munge/munge.key ]; then
	log "creating /etc/munge/munge.key"
	mungekey --create --keyfile=/etc/munge/munge.key
	chown munge:munge /etc/munge/munge.key
	chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge
chown munge:munge /run/munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
	log "using the munged that runs"
else
	runuser -u munge -- /usr/sbin/munged
	started_munged=1
	for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# ---- a one-node cluster ----
host="$(hostname -s)"
mem="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)"
mkdir -p "$work/state" "$work/spool" "$work/log"
cat > "$work/slurm.conf" <<EOF
ClusterName=strongdfc-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$((ctl_port + 1))
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/filetxt
JobCompLoc=$work/log/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MaxArraySize=1001
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=30 State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
slurmctld
slurmd
for i in $(seq 300); do
	state="$(sinfo -h -n "$host" -o %T 2>/dev/null || true)"
	[ "$state" = idle ] && break
	[ "$i" = 300 ] && { log "the node did not become idle (state: ${state:-none})"; exit 1; }
	sleep 0.1
done
log "cluster up: node $host, $(nproc) CPUs, ${mem} MB ($(($(date +%s) - start_time)) s)"

# ---- the sweep ----
go build -o "$work/strongdfc" ./cmd/strongdfc
cat > "$work/tiny.yaml" <<EOF
name: ci-tiny
description: two configurations × two seeds, 200 samples, short windows
out: $work/runs
preset: mnist-strong-dfc
set:
  train_limit: 200
  validation: 500
  dynamics.steps: 20
  pretrain.epochs: 0
  epochs: 1
grid:
  preset: [mnist-strong-dfc, mnist-bp]
seeds: 2
EOF
cd "$work"
./strongdfc sweep plan tiny.yaml
# Three tasks per array, at most two at once: two arrays, the second
# waiting for the first, as a sweep of more than 1000 runs would be.
./strongdfc sweep run tiny.yaml --slurm --cpus 1 --mem 500M --time 5 --throttle 2 --max-array 3 | tee submit.txt
jobs="$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' submit.txt | paste -sd, -)"
[ "$(echo "$jobs" | tr , '\n' | wc -l)" = 2 ] || { log "want 2 job arrays, got: $jobs"; exit 1; }

wait_jobs() {
	for i in $(seq 900); do
		[ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
		[ $((i % 50)) = 0 ] && squeue -j "$1"
		sleep 0.2
	done
	log "the jobs $1 did not end in 3 minutes"
	squeue
	return 1
}
wait_jobs "$jobs"
./strongdfc sweep status tiny.yaml | tee status.txt
grep -q '^4 runs: 4 done$' status.txt
completed="$(grep -c 'JobState=COMPLETED' "$work/log/jobcomp.txt")"
[ "$completed" = 4 ] || { log "jobcomp.txt: $completed tasks COMPLETED, want 4"; cat "$work/log/jobcomp.txt"; exit 1; }

# A requeued task (as after a node failure or preemption) redoes nothing.
first="${jobs%%,*}"
before="$(find runs -path runs/.sweep -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)"
scontrol requeue "${first}_1"
# A requeued job waits (BeginTime) before it may start again; not here.
scontrol update JobId="${first}_1" StartTime=now
for i in $(seq 600); do
	[ "$(grep -c 'JobState=COMPLETED' "$work/log/jobcomp.txt")" -ge 5 ] && break
	[ "$i" = 600 ] && { log "the requeued task did not end in 2 minutes"; squeue; exit 1; }
	sleep 0.2
done
grep -q 'already done; left as it is' runs/.sweep/slurm/*/"${first}_1.out" || { log "the requeued task's output does not say it left its done run alone"; exit 1; }
after="$(find runs -path runs/.sweep -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)"
[ "$before" = "$after" ] || { log "the requeued task changed run folders"; exit 1; }

# Submitting again finds nothing to do, and submits nothing.
./strongdfc sweep run tiny.yaml --slurm 2>&1 | tee again.txt
grep -q '4 runs: 4 done; 0 to run' again.txt
! grep -q '^submitted' again.txt

# ---- the table ----
./strongdfc collect runs --csv table.csv | tee table.md
[ "$(grep -c '^| mnist-' table.md)" = 2 ] || { log "want 2 rows in the table"; exit 1; }
# Each row: n = 2 seeds, a test accuracy mean ± sd, nothing left out.
awk -F'|' '/^\| mnist-/ {
	gsub(/ /, "", $3); if ($3 != "2") { print "n = " $3 " in: " $0; bad = 1 }
	if ($4 !~ /±/) { print "no mean ± sd in: " $0; bad = 1 }
	if ($10 !~ /^ *$/) { print "runs left out in: " $0; bad = 1 }
} END { exit bad }' table.md
[ "$(wc -l < table.csv)" = 3 ]
grep -q 'Every run: .*train_limit=200' table.md
cd "$repo"
log "passed in $(($(date +%s) - start_time)) s"
