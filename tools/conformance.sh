#!/usr/bin/env bash
# Runs the ONNX backend conformance suites through `mangacolor conformance` and prints pass counts per suite.
#
# usage: tools/conformance.sh [--ratchet] [--list-failures FILE] [--suites node,simple,...]
#                             [--data DIR] [--release] [--mangacolor PATH] [--no-build] [--log-dir DIR]
#
#   --ratchet             compare each suite's pass count with tools/conformance-baseline.txt: fail if any
#                         dropped; say so (and print the new file) when any rose; and fail if any case listed
#                         in tools/conformance-passing.txt stopped passing (a new pass cannot hide a regression)
#   --update-baseline     write the pass counts and passing case names of this run to
#                         tools/conformance-baseline.txt and tools/conformance-passing.txt
#   --list-failures FILE  write every FAIL line ("suite: FAIL case: reason") to FILE
#   --suites LIST         comma-separated subset of node,pytorch-converted,pytorch-operator,simple,light
#   --data DIR            conformance data folder (default: conformance-data/ in the repo, built on first use
#                         by tools/conformance-data.py; rebuilt when the onnx version changes)
#   --release             build and run the release binary (default: debug, as tools/test.sh builds)
#   --mangacolor PATH     use this binary; implies --no-build
#   --no-build            do not run swift build
#
# Python: the data needs the `onnx` and `numpy` pip packages. If `python3 -c 'import onnx'` fails, a venv is
# made at .venv-conformance (installing python3-venv with apt-get first if needed, as root in CI) with
# onnx==1.23.2, the version the baseline was counted with (override: ONNX_PIP_SPEC="onnx==X.Y.Z"); the node
# suite's cases change with the onnx version.
# Reads only the last line of each suite's output, `N passed, M failed`; a run that dies before it is counted
# as a crash (its PASS lines are counted, the suite fails the ratchet); so is one past CONFORMANCE_TIMEOUT
# seconds (default 3600).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ALL_SUITES=node,pytorch-converted,pytorch-operator,simple,light
suites=$ALL_SUITES
data=$ROOT/conformance-data
config=debug
binary=""
build=1
ratchet=0
update=0
failures_file=""
log_dir=""
baseline=$ROOT/tools/conformance-baseline.txt
passing_baseline=$ROOT/tools/conformance-passing.txt

die() { echo "error: $*" >&2; exit 2; }
while (($#)); do
  case $1 in
    --ratchet) ratchet=1 ;;
    --update-baseline) update=1 ;;
    --list-failures) failures_file=${2:?--list-failures needs a file}; shift ;;
    --suites) suites=${2:?--suites needs a list}; shift ;;
    --data) data=${2:?--data needs a folder}; shift ;;
    --release) config=release ;;
    --mangacolor) binary=${2:?--mangacolor needs a path}; build=0; shift ;;
    --no-build) build=0 ;;
    --log-dir) log_dir=${2:?--log-dir needs a folder}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
  shift
done
for s in ${suites//,/ }; do
  [[ ",$ALL_SUITES," == *",$s,"* ]] || die "unknown suite \"$s\"; expected some of $ALL_SUITES"
done

# --- Python with onnx -------------------------------------------------------------------------------------------
python=python3
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import onnx, numpy' >/dev/null 2>&1; then
  venv=$ROOT/.venv-conformance
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import onnx, numpy' >/dev/null 2>&1; then
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
      echo "installing python3-venv (apt-get)" >&2
      SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    echo "creating $venv with onnx and numpy (pip)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${ONNX_PIP_SPEC:-onnx==1.23.2}" numpy
  fi
  python=$venv/bin/python
fi

# --- Data ----------------------------------------------------------------------------------------------------------
onnx_version=$("$python" -c 'import onnx; print(onnx.__version__)')
stamp=$data/.onnx-version
missing=""
for s in ${suites//,/ }; do [[ -d $data/$s ]] || missing+="${missing:+,}$s"; done
if [[ -f $stamp && $(cat "$stamp") != "$onnx_version" ]]; then
  echo "conformance data in $data was made by onnx $(cat "$stamp"), this is onnx $onnx_version: rebuilding" >&2
  missing=$suites
fi
if [[ -n $missing ]]; then
  echo "building conformance data ($missing) in $data" >&2
  mkdir -p "$data"
  "$python" tools/conformance-data.py "$data" --suites "$missing" >&2
  echo "$onnx_version" > "$stamp"
fi

# --- Binary --------------------------------------------------------------------------------------------------------
if [[ -z $binary ]]; then
  binary=$ROOT/.build/$config/mangacolor
  if ((build)); then
    echo "swift build -c $config" >&2
    swift build -c "$config" --product mangacolor >&2
  fi
fi
[[ -x $binary ]] || die "$binary not found; build it with \`swift build\` (or pass --mangacolor PATH)"

# --- Run -----------------------------------------------------------------------------------------------------------
if [[ -z $log_dir ]]; then log_dir=$(mktemp -d); fi
mkdir -p "$log_dir"
[[ -n $failures_file ]] && : > "$failures_file"
declare -A passed=() failed=()
crashed=""
printf '%-18s %8s %8s %8s\n' suite passed failed total
for s in ${suites//,/ }; do
  log=$log_dir/conformance-$s.log
  cases=("$data/$s"/*/)
  if [[ ! -e ${cases[0]} ]]; then
    if compgen -G "$data/$s/*.onnx" >/dev/null; then
      die "$data/$s holds loose .onnx files, not case folders: rebuild it with tools/conformance-data.py"
    fi
    die "no test cases in $data/$s"
  fi
  set +e
  timeout "${CONFORMANCE_TIMEOUT:-3600}" "$binary" conformance "${cases[@]%/}" > "$log" 2>&1
  status=$?
  set -e
  last=$(tail -n 1 "$log")
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed[$s]=${BASH_REMATCH[1]}; failed[$s]=${BASH_REMATCH[2]}
    printf '%-18s %8d %8d %8d\n' "$s" "${passed[$s]}" "${failed[$s]}" $((passed[$s] + failed[$s]))
  else
    passed[$s]=$(grep -c '^PASS ' "$log" || true); failed[$s]=$(grep -c '^FAIL ' "$log" || true)
    crashed+=" $s"
    printf '%-18s %8d %8d %8s   CRASHED (exit %d) after %d cases: %s\n' "$s" "${passed[$s]}" "${failed[$s]}" "?" \
      "$status" $((passed[$s] + failed[$s])) "$last"
  fi
  if [[ -n $failures_file ]]; then
    grep '^FAIL ' "$log" | sed "s|^|$s: |" >> "$failures_file" || true
  fi
  { grep '^PASS ' "$log" || true; } | sed "s|^PASS |$s |" >> "$log_dir/passing.txt"
done
touch "$log_dir/passing.txt"
echo "logs: $log_dir"
[[ -n $failures_file ]] && echo "failures: $failures_file ($(wc -l < "$failures_file") lines)"

current=""
for s in ${suites//,/ }; do current+="$s ${passed[$s]}"$'\n'; done

if ((update)); then
  {
    echo "# Conformance pass counts (tools/conformance.sh --ratchet fails if any drops). onnx $onnx_version."
    for s in ${ALL_SUITES//,/ }; do
      if [[ -n ${passed[$s]+x} ]]; then echo "$s ${passed[$s]}"
      elif [[ -f $baseline ]]; then grep -E "^$s " "$baseline" || true
      fi
    done
  } > "$baseline.tmp"
  mv "$baseline.tmp" "$baseline"
  echo "wrote $baseline"
  {
    echo "# Conformance cases that pass (tools/conformance.sh --ratchet fails if any listed case stops passing). onnx $onnx_version."
    for s in ${ALL_SUITES//,/ }; do
      if [[ -n ${passed[$s]+x} ]]; then grep -E "^$s " "$log_dir/passing.txt" | sort || true
      elif [[ -f $passing_baseline ]]; then grep -E "^$s " "$passing_baseline" || true
      fi
    done
  } > "$passing_baseline.tmp"
  mv "$passing_baseline.tmp" "$passing_baseline"
  echo "wrote $passing_baseline"
fi

status=0
if [[ -n $crashed ]]; then
  echo "error: mangacolor conformance did not finish for:$crashed (see the logs)" >&2
  status=1
fi
if ((ratchet)); then
  [[ -f $baseline ]] || die "$baseline not found (make it with --update-baseline)"
  rose=""
  while read -r s want; do
    [[ -z $s || $s == \#* ]] && continue
    [[ -n ${passed[$s]+x} ]] || continue
    got=${passed[$s]}
    if ((got < want)); then
      echo "RATCHET FAIL: $s passes $got cases, the baseline says $want" >&2
      status=1
    elif ((got > want)); then
      rose+=" $s ($want -> $got)"
    fi
  done < "$baseline"
  if [[ -f $passing_baseline ]]; then
    for s in ${suites//,/ }; do
      lost=$(comm -23 <(grep -E "^$s " "$passing_baseline" | sort) <(grep -E "^$s " "$log_dir/passing.txt" | sort))
      if [[ -n $lost ]]; then
        echo "RATCHET FAIL: $(wc -l <<< "$lost") $s case(s) listed in tools/conformance-passing.txt no longer pass:" >&2
        head -n 20 <<< "$lost" | sed 's/^/  /' >&2
        status=1
      fi
    done
  fi
  if [[ -n $rose ]]; then
    echo "conformance rose:$rose. Update tools/conformance-baseline.txt (tools/conformance.sh --update-baseline) and commit it."
  fi
  ((status == 0)) && echo "ratchet: no suite dropped below tools/conformance-baseline.txt, no listed case stopped passing"
fi
exit $status
