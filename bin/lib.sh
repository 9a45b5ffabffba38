# Shared by bin/test, bin/demo and bin/bench. Source it; it defines functions only.

# Picks the JDK: $JAVA_HOME when it is 21 or newer, else the newest JDK >= 21 under /usr/lib/jvm.
# Exports JAVA_HOME and puts its bin first on PATH; stops with a clear message when there is none.
select_jdk() {
    local best="" best_version=0 dir version
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
        version=$(jdk_major "$JAVA_HOME")
        if [ "$version" -ge 21 ]; then
            best=$JAVA_HOME
            best_version=$version
        fi
    fi
    if [ -z "$best" ]; then
        for dir in /usr/lib/jvm/*/; do
            dir=${dir%/}
            [ -x "$dir/bin/javac" ] || continue
            [ -L "$dir" ] && continue
            version=$(jdk_major "$dir")
            if [ "$version" -ge 21 ] && [ "$version" -gt "$best_version" ]; then
                best=$dir
                best_version=$version
            fi
        done
    fi
    if [ -z "$best" ]; then
        echo "ssekit needs a JDK 21 or newer (it compiles with --release 21)." >&2
        echo "None was found in \$JAVA_HOME or under /usr/lib/jvm. Install one (for example Temurin 25) or set JAVA_HOME." >&2
        exit 1
    fi
    export JAVA_HOME=$best
    export PATH="$JAVA_HOME/bin:$PATH"
    echo "ssekit: using JDK $best_version at $JAVA_HOME" >&2
    quiet_maven "$best_version"
}

# Keeps Maven's own libraries quiet on JDK $1: from JDK 24 on, Guice (inside Maven) calling
# sun.misc.Unsafe prints a deprecation warning that is not ssekit's. The option that allows it exists
# only from JDK 23 on (a JDK 21 would refuse to start with it), so it goes into MAVEN_OPTS here, by
# version, rather than into .mvn/jvm.config, which every JDK reads.
quiet_maven() {
    if [ "$1" -ge 23 ]; then
        case " ${MAVEN_OPTS:-} " in
            *" --sun-misc-unsafe-memory-access="*) ;;
            *) export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
        esac
    fi
}

# Prints the major version of the JDK in directory $1 (0 when it cannot be told).
jdk_major() {
    local v
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
    if [ -z "$v" ]; then
        v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
    fi
    echo "${v:-0}"
}

# Installs the Debian packages given as "command:package" pairs whose command is missing.
ensure_packages() {
    local missing=() pair cmd pkg
    for pair in "$@"; do
        cmd=${pair%%:*}
        pkg=${pair#*:}
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "ssekit tests need these packages: ${missing[*]}; install them (apt-get install ${missing[*]}) and run again." >&2
            exit 1
        fi
    fi
    echo "ssekit: installing ${missing[*]} (apt-get)" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
