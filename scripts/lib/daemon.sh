#!/usr/bin/env bash
# Shared by server-ctl.sh and proxy-ctl.sh: start a long-lived process detached from the
# Pulumi provider (own session, no inherited stdio), stop it gracefully, probe it.

# daemon_file VAR BEFORE: the absolute path the program handed over in VAR (IU_PID_FILE, …).
# A stack deployed before the paths were handed over keeps that version's environment in its state,
# and `pulumi destroy` runs stop and delete with it: VAR is then unset and the file is where that
# version put it, BEFORE. start and status always run with the program's current environment and
# demand VAR (daemon_require_files).
daemon_file() {
    local var=$1 before=$2
    realpath -m "${!var:-$before}"
}

# daemon_require_files: start and status never fall back (see daemon_file).
daemon_require_files() {
    : "${IU_PID_FILE:?IU_PID_FILE is required}" "${IU_LOG_FILE:?IU_LOG_FILE is required}" "${IU_FINGERPRINT_FILE:?IU_FINGERPRINT_FILE is required}"
}

# daemon_alive PIDFILE NAME: the pid in PIDFILE is alive and is NAME (guards against pid reuse).
daemon_alive() {
    local pidfile=$1 name=$2 pid
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"
}

# daemon_start PIDFILE LOGFILE CMD...: runs CMD in its own session, records its pid.
# Background jobs of a non-interactive shell start with SIGINT ignored, and an ignored signal
# survives exec: `env --default-signal` gives the daemon back a SIGINT that stops it.
daemon_start() {
    local pidfile=$1 logfile=$2
    shift 2
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
    setsid env --default-signal=INT,QUIT "$@" </dev/null >>"$logfile" 2>&1 &
    echo $! >"$pidfile"
}

# daemon_stop PIDFILE NAME SIGNAL GRACE_SECONDS: SIGNAL first, SIGKILL only after the grace period.
daemon_stop() {
    local pidfile=$1 name=$2 signal=$3 grace=$4 pid i
    if daemon_alive "$pidfile" "$name"; then
        pid=$(<"$pidfile")
        kill "-$signal" "$pid" 2>/dev/null || true
        for ((i = 0; i < grace * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "process $pid did not stop after $signal within ${grace}s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

# wait_http URL SECONDS PIDFILE NAME LOGFILE [CURL_ARGS...]: until URL answers 2xx; fails early if the process died.
wait_http() {
    local url=$1 seconds=$2 pidfile=$3 name=$4 logfile=$5 deadline
    shift 5
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        if curl -fsS --max-time 2 -o /dev/null "$@" "$url" 2>/dev/null; then
            return 0
        fi
        if ! daemon_alive "$pidfile" "$name"; then
            echo "$name exited before $url answered; last log lines:" >&2
            tail -n 30 "$logfile" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    echo "$url did not answer within ${seconds}s; last log lines:" >&2
    tail -n 30 "$logfile" >&2 || true
    return 1
}
