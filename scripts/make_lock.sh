#!/bin/sh
# make_lock.sh LOCK PID: take this tree's one-make lock for the make whose pid is PID, or print
# the pid of the running make that holds it (and take nothing).
#
# The lock is a symlink naming the pid (ln -s creates it atomically). A watcher removes it once
# that make has ended; one left behind anyway (the watcher killed) is taken over, since its pid
# is no longer a running make. POSIX sh, as make runs it before the venv exists.
lock=$1
pid=$2

# A running process whose program is make itself: not cmake, not makeinfo.
is_make() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/comm" ]; then
        name=$(cat "/proc/$1/comm")
    else
        name=$(ps -p "$1" -o comm= 2>/dev/null)
    fi
    case "${name##*/}" in
        make | gmake | gnumake) return 0 ;;
    esac
    return 1
}

mkdir -p "$(dirname "$lock")"
if ! ln -s "$pid" "$lock" 2>/dev/null; then
    holder=$(readlink "$lock")
    [ "$holder" = "$pid" ] && exit 0 # this make already holds it
    if is_make "$holder"; then
        echo "$holder"
        exit 0
    fi
    rm -f "$lock"
    if ! ln -s "$pid" "$lock" 2>/dev/null; then # another make took it over first
        readlink "$lock"
        exit 0
    fi
fi
# Released when make ends, however it ends: make runs nothing at its exit, so this waits for it.
(
    while kill -0 "$pid" 2>/dev/null; do sleep 1; done
    [ "$(readlink "$lock")" = "$pid" ] && rm -f "$lock"
) </dev/null >/dev/null 2>&1 &
