#!/usr/bin/env bash
# Loop devices for the drill's data volumes (the machine's kernel; nothing else is touched).
#   loop.sh create FILE MIB   sparse zero file of MIB MiB (a blank "EBS volume")
#   loop.sh attach FILE       prints the loop device it attached FILE to
#   loop.sh detach DEV FILE   detaches DEV, only if it is still backed by FILE
#   loop.sh grow DEV FILE MIB grows FILE to MIB MiB and DEV with it (what ModifyVolume does to an EBS volume)
set -euo pipefail

die() {
    printf '[drill-loop] %s\n' "$*" >&2
    exit 1
}

case ${1:-} in
create)
    [[ $# == 3 ]] || die "usage: loop.sh create FILE MIB"
    [[ ! -e $2 ]] || die "$2 exists; refusing to overwrite a volume file"
    truncate -s "${3}M" "$2"
    ;;
attach)
    [[ $# == 2 && -f $2 ]] || die "usage: loop.sh attach FILE"
    losetup --find --show "$2"
    ;;
grow)
    [[ $# == 4 ]] || die "usage: loop.sh grow DEV FILE MIB"
    backing=$(losetup --noheadings --output BACK-FILE "$2" 2>/dev/null || true)
    [[ -n $backing && $(realpath "$backing") == $(realpath "$3") ]] || die "$2 is not backed by $3"
    (($(stat -c %s "$3") <= $4 * 1048576)) || die "$3 is larger than $4 MiB: volumes only grow"
    truncate -s "${4}M" "$3"
    losetup --set-capacity "$2"
    ;;
detach)
    [[ $# == 3 ]] || die "usage: loop.sh detach DEV FILE"
    # Another session may have been handed the same number after we let go: check the backing file.
    backing=$(losetup --noheadings --output BACK-FILE "$2" 2>/dev/null || true)
    if [[ -n $backing && $(realpath "$backing") == $(realpath "$3") ]]; then
        losetup --detach "$2"
    fi
    ;;
*) die "usage: loop.sh create|attach|grow|detach …" ;;
esac
