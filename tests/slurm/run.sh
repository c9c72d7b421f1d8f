#!/usr/bin/env bash
# `make test-slurm`: contrib/slurm/skindelta-array.sbatch on a real single-node Slurm cluster.
# Installs Debian's Slurm and munge when missing (root, apt-get), writes a slurm.conf for this
# machine alone (its hostname, CPUs=2, RealMemory from /proc/meminfo) into a scratch folder,
# starts munged (unless one runs), slurmctld and slurmd, submits the array script over a small
# synthetic course with 2 shards, waits for the array and the merge job, and checks that the
# merged tables equal a single-machine `skindelta run` byte for byte. The daemons it started are
# stopped on exit (trap), whatever happened. Not part of `make test` (root, packages, daemons).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$(realpath "$BUILD/skindelta" 2>/dev/null) || BIN=
TIMEOUT=${SD_SLURM_TIMEOUT:-900}     # seconds for the array and the merge together
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok $1${2:+: $2}"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
die() { echo "test-slurm: $*" >&2; bad "$1"; echo "$pass passed, $fail failed"; exit 1; }

[ -x "$BIN" ] || die "no $BUILD/skindelta: run make first"
[ "$(id -u)" = 0 ] || die "needs root (installs Slurm and munge, starts their daemons)"

# ---- packages
need=()
for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "test-slurm: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
        die "apt-get could not install ${need[*]}"
fi
for c in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || die "$c is missing after installing Slurm"
done
export PATH="$PATH:/usr/sbin"

# ---- scratch folder, readable by the slurm user (slurmctld's state save location)
T=$(mktemp -d /tmp/sd-slurm.XXXXXX)
chmod 755 "$T"
started=()          # "name pid" of the daemons this script started
cleanup() {
    local e name pid
    for e in "${started[@]}"; do
        name=${e% *}; pid=${e#* }
        kill "$pid" 2>/dev/null && echo "test-slurm: stopped $name ($pid)"
    done
    for e in "${started[@]}"; do   # wait for them to go, so the next run can bind the ports
        pid=${e#* }
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    done
    if [ $fail -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "test-slurm: kept $T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- munge
if pgrep -x munged >/dev/null; then
    echo "test-slurm: munged already runs; using it"
else
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    [ -s /etc/munge/munge.key ] || die "no /etc/munge/munge.key (munge's postinst makes it)"
    runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    started+=("munged $(cat /run/munge/munged.pid)")
fi
munge -n </dev/null | unmunge >/dev/null 2>&1 || die "munge credentials do not round-trip"

# ---- slurm.conf for this machine alone
host=$(hostname -s)
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
for d in state spool; do mkdir -p "$T/$d"; done
chown slurm:slurm "$T/state" 2>/dev/null || true
cat > "$T/slurm.conf" <<EOF
ClusterName=sdtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldPort=${SD_SLURMCTLD_PORT:-6817}
SlurmdPort=${SD_SLURMD_PORT:-6818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=600
NodeName=$host CPUs=2 RealMemory=$mem_mb State=UNKNOWN
PartitionName=sdtest Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
echo "test-slurm: node $host, CPUs=2, RealMemory=$mem_mb MB; config $SLURM_CONF"

slurmctld -f "$SLURM_CONF" || die "slurmctld did not start (log: $T/slurmctld.log)"
for _ in $(seq 50); do [ -s "$T/slurmctld.pid" ] && break; sleep 0.1; done
started+=("slurmctld $(cat "$T/slurmctld.pid")")
slurmd -f "$SLURM_CONF" || die "slurmd did not start (log: $T/slurmd.log)"
for _ in $(seq 50); do [ -s "$T/slurmd.pid" ] && break; sleep 0.1; done
started+=("slurmd $(cat "$T/slurmd.pid")")
state=
for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o '%t' 2>/dev/null)
    case "$state" in idle|mix|alloc) break;; esac
    sleep 1
done
check "the node comes up idle (sinfo says '$state')" '[ "$state" = idle ]'
[ "$state" = idle ] || { tail -n 20 "$T/slurmctld.log" "$T/slurmd.log" 2>/dev/null; die "the node did not come up"; }

# ---- a small course: 4 patients x 2 sessions of skin patches
"$BIN" synth -o "$T/course" --kind patch --patients 4 --sessions 2 --size 384 --px-per-mm 15 --seed 17 \
    >/dev/null 2>&1 || die "synth failed"
RUN_ARGS="--roi whole --px-per-mm 15 --bootstrap 2"

# ---- the array: 2 shards of 1 CPU; 200 MB each so both run at once on the 2-CPU node
t0=$(date +%s)
submit=$(cd "$T" && ROOT="$T/course" OUT="$T/out" N=2 SD_CPUS=1 SD_MEM=200M SD_MERGE_MEM=200M \
    SD_RUN_ARGS="$RUN_ARGS" SD_LOGDIR="$T/logs" SKINDELTA="$BIN" \
    bash "$OLDPWD/contrib/slurm/skindelta-array.sbatch" 2>&1)
rc=$?
echo "$submit"
check "the script submits itself (exit $rc)" '[ $rc -eq 0 ]'
array=$(echo "$submit" | sed -n 's/.*array job \([0-9]*\).*/\1/p')
merge=$(echo "$submit" | sed -n 's/.*merge job \([0-9]*\).*/\1/p')
[ -n "$array" ] && [ -n "$merge" ] || die "no job ids in the submission output"

job_state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort -u | cut -d= -f2 | tr '\n' ' ' | sed 's/ $//'; }
reason() { squeue -h -j "$1" -o '%i %T %r' 2>/dev/null | tr '\n' ';'; }
ms=
while :; do
    ms=$(job_state "$merge")
    case "$ms" in COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|BOOT_FAIL|DEADLINE) break;; esac
    if [ $(( $(date +%s) - t0 )) -ge "$TIMEOUT" ]; then
        echo "test-slurm: timed out after $TIMEOUT s: array $array: $(job_state "$array") ($(reason "$array")); merge $merge: $ms ($(reason "$merge"))" >&2
        break
    fi
    sleep 2
done
elapsed=$(( $(date +%s) - t0 ))
as=$(job_state "$array")
echo "test-slurm: array job $array: $as; merge job $merge: $ms; $elapsed s from submission"
check "every array task COMPLETED (got '$as')" '[ "$as" = COMPLETED ]'
check "the merge job COMPLETED (got '$ms')" '[ "$ms" = COMPLETED ]'
if [ "$as" != COMPLETED ] || [ "$ms" != COMPLETED ]; then
    for f in "$T"/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
    tail -n 20 "$T/slurmctld.log"
fi
check "both shards ran" '[ -s "$T/out/shard-0/measurements.csv" ] && [ -s "$T/out/shard-1/measurements.csv" ]'
check "the shards split the patients" \
    '[ "$(tail -n +2 "$T/out/shard-0/measurements.csv" | cut -d, -f1 | sort -u | tr "\n" " ")" = "p001 p003 " ]'

# ---- the same course on this machine, one run
OPENBLAS_NUM_THREADS=1 "$BIN" run "$T/course" -o "$T/single" --jobs 2 --no-report --quiet $RUN_ARGS
check "the single-machine run exits 0" '[ $? -eq 0 ]'
for f in measurements.csv uncertainty.csv alignment.csv errors.csv changes.csv trends.csv cohort.csv; do
    check "merged $f equals the single-machine run byte for byte" \
        '[ -s "$T/single/$f" ] && cmp -s "$T/single/$f" "$T/out/merged/$f"'
done
check "the merged measurements hold 4 patients x 2 sessions" \
    '[ "$(tail -n +2 "$T/out/merged/measurements.csv" | cut -d, -f1,3 | sort -u | wc -l)" -eq 8 ]'
echo "test-slurm: timing: $elapsed s from submission to the merged result"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
