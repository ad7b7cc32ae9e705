#!/usr/bin/env bash
# Runs a small comparison grid on a real single-node Slurm and checks that `optlab cifar --collect`
# writes what the same grid run locally writes (all but the seconds). Installs Debian's slurm-wlm
# and munge if missing and starts munged, slurmctld and slurmd on loopback, as root, without
# cgroups, all under a temporary folder; stops them (and only them) when done.
# Usage: scripts/slurm-check.sh [OPTLAB]   (default: builds and uses .build/debug/optlab)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "slurm-check: needs root (it starts Slurm's daemons)" >&2; exit 1; }

missing=()
for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "slurm-check: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ $# -ge 1 ]; then optlab=$(realpath "$1"); else
    ${SWIFT:-swift} build --product optlab >/dev/null
    optlab=$(realpath .build/debug/optlab)
fi

state=$(mktemp -d /tmp/optlab-slurm.XXXXXX)
chmod 755 "$state"
pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done
    rm -rf "$state"
}
trap stop EXIT

# munge: its own key, socket and files, so an installed munged (if any) is left alone. The
# socket's folder must be open to all; the key's to munge only.
mkdir -p "$state/munge" "$state/munge-socket"
chown munge:munge "$state/munge" "$state/munge-socket"
chmod 700 "$state/munge"
chmod 755 "$state/munge-socket"
dd if=/dev/urandom of="$state/munge/munge.key" bs=1 count=128 status=none
chown munge:munge "$state/munge/munge.key"
chmod 400 "$state/munge/munge.key"
socket="$state/munge-socket/munge.socket"
runuser -u munge -- munged --foreground --key-file="$state/munge/munge.key" --socket="$socket" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" --seed-file="$state/munge/seed" \
    2>"$state/munged.err" &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "slurm-check: munged did not start: $(tail -n 1 "$state/munged.err")" >&2; exit 1; }

cpus=$(nproc)
export SLURM_CONF="$state/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=optlab
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$state/ctld" "$state/slurmd"
slurmctld -D -i -f "$SLURM_CONF" 2>"$state/slurmctld.err" &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" 2>"$state/slurmd.err" &
pids+=($!)
for _ in $(seq 30); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
    sleep 1
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || { echo "slurm-check: the node did not come up" >&2; tail -n 5 "$state"/*.err >&2; exit 1; }

grid=(--compare "sgd,adam,sgd(lr=1e6)" --seeds 2 --model tutorial --epochs 1 --train-subset 300 --validation 100 --threads 1)
"$optlab" cifar "${grid[@]}" --jobs "$state/grid"
start=$SECONDS
sbatch --wait --quiet "$state/grid/slurm.sbatch"
seconds=$((SECONDS - start))
echo "slurm-check: $(ls "$state"/grid/runs/*.result.json | wc -l) array tasks on $cpus CPUs in ${seconds} s"
# Submitting again (one task, as after a failure) is a no-op for a finished run.
sbatch --wait --quiet --array=2 "$state/grid/slurm.sbatch"
grep -q "is finished already" "$state"/grid/logs/*_2.out

"$optlab" cifar --collect "$state/grid" --target 0.1 --out "$state/collect/cmp.png"
start=$SECONDS
"$optlab" cifar "${grid[@]}" --target 0.1 --out "$state/local/cmp.png" >/dev/null
echo "slurm-check: the same grid run locally, one run after another: $((SECONDS - start)) s"
# All but the seconds: the metrics CSV's `seconds`, the summary's `minutes` and `seconds_to_target`.
for f in cmp.csv:10 cmp-summary.csv:7,10; do
    name=${f%%:*} columns=${f##*:}
    if ! diff <(cut -d, --complement -f"$columns" "$state/collect/$name") <(cut -d, --complement -f"$columns" "$state/local/$name"); then
        echo "slurm-check: FAILED: --collect's $name differs from the local run's" >&2
        exit 1
    fi
done
echo "slurm-check: OK: --collect equals the local run (all but the seconds)"
