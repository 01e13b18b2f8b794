# Shared set-up for ./scripts/run and ./scripts/test (sourced, not run).
# Idempotent and quiet when everything is already in place.
# Usage: vc_setup [--dev] [--neural] [--listen]
#   --dev     test tools, the sound server the tests use, matplotlib (journal --chart), and for the phone
#             remote's browser tests Debian's chromium (driven by Playwright, never `playwright install`),
#             its fonts, zbar (decodes the terminal's QR code) and axe-core (npm, into .venv/axe)
#   --neural  the Piper neural voice (also when VOICECOACH_NEURAL=1)
#   --listen  offline voice control, and the speexdsp library its echo canceller calls (libspeexdsp1)
#             (also when VOICECOACH_LISTEN=1)

vc_log() { printf 'voicecoach setup: %s\n' "$*" >&2; }

vc_root_cmd() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else vc_log "need root to run: $*  (install sudo or run as root)"; return 1
    fi
}

vc_system_packages() {
    # $@: Debian package names
    case "$(uname -s)" in
    Linux)
        if ! command -v apt-get >/dev/null 2>&1; then
            vc_log "not a Debian/Ubuntu system: install these with your package manager: $*"
            return 0
        fi
        local missing=()
        for p in "$@"; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        vc_log "installing system packages: ${missing[*]}"
        vc_root_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
        vc_root_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || { vc_log "apt-get install failed for: ${missing[*]}"; return 1; }
        ;;
    Darwin)
        # Speech on macOS is the built-in NSSpeechSynthesizer; audio needs ffmpeg and PortAudio.
        local need=()
        command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
        [ -e /opt/homebrew/lib/libportaudio.dylib ] || [ -e /usr/local/lib/libportaudio.dylib ] || need+=(portaudio)
        case " $* " in
        *" libspeexdsp1 "*)
            [ -e /opt/homebrew/lib/libspeexdsp.dylib ] || [ -e /usr/local/lib/libspeexdsp.dylib ] || need+=(speexdsp)
            ;;
        esac
        if [ ${#need[@]} -gt 0 ]; then
            vc_log "on macOS, install with Homebrew first:  brew install ${need[*]}"
            return 1
        fi
        ;;
    *)
        vc_log "unsupported system $(uname -s): install ffmpeg, PortAudio and a speech engine yourself"
        ;;
    esac
}

vc_python() {
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$py"; return 0
        fi
    done
    vc_log "Python 3.10 or newer is needed (Debian/Ubuntu: sudo apt-get install python3 python3-venv)"
    return 1
}

vc_setup() {
    local extras=() pkgs=(espeak-ng ffmpeg libportaudio2) arg
    for arg in "$@"; do
        case "$arg" in
        --dev)
            extras+=(dev chart)
            pkgs+=(pulseaudio pulseaudio-utils dbus-daemon playerctl chromium chromium-driver fonts-dejavu-core zbar-tools)
            command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
            ;;
        --neural) extras+=(neural) ;;
        --listen) extras+=(listen) ;;
        *) vc_log "vc_setup: unknown option $arg"; return 1 ;;
        esac
    done
    case "${VOICECOACH_NEURAL:-}" in
    1 | true | yes) extras+=(neural) ;;
    esac
    case "${VOICECOACH_LISTEN:-}" in
    1 | true | yes) extras+=(listen) ;;
    esac
    case " ${extras[*]-} " in
    *" listen "*) pkgs+=(libspeexdsp1) ;; # voice control's echo canceller (loaded through ctypes)
    esac
    vc_system_packages "${pkgs[@]}" || return 1
    local root py
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    py="$(vc_python)" || return 1
    if [ ! -x "$root/.venv/bin/python" ]; then
        vc_log "creating a virtual environment in .venv"
        "$py" -m venv "$root/.venv" || { vc_log "python venv failed (Debian/Ubuntu: sudo apt-get install python3-venv)"; return 1; }
    fi
    # Reinstall only when what is asked for changed. The stamp holds the hash of
    # pyproject.toml and the extras installed with it ("<hash> dev,neural,listen"); an
    # install keeps the extras already there, so ./scripts/run and ./scripts/test
    # never undo each other.
    local hash stamp have_hash="" have_extras="" want="" e
    hash="$(sha256sum <"$root/pyproject.toml" | cut -c1-16)"
    stamp="$root/.venv/.voicecoach-installed"
    if [ -r "$stamp" ]; then read -r have_hash have_extras <"$stamp" || true; fi
    for e in dev neural chart listen; do
        case " ${extras[*]-} ${have_extras//,/ } " in
        *" $e "*) want="${want:+$want,}$e" ;;
        esac
    done
    if [ "$have_hash" != "$hash" ] || [ "$have_extras" != "$want" ]; then
        vc_log "installing voicecoach${want:+ with [$want]} into .venv"
        local spec="$root"
        [ -n "$want" ] && spec="$root[$want]"
        "$root/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" \
            || { vc_log "pip install failed"; return 1; }
        echo "$hash${want:+ $want}" >"$stamp"
    fi
    case " ${extras[*]-} " in
    *" dev "*) vc_axe "$root/.venv/axe" || return 1 ;;
    esac
    export PATH="$root/.venv/bin:$PATH"
}

VC_AXE_VERSION=4.14.1 # axe-core, the accessibility rules the phone page's browser test runs (MPL-2.0)

vc_axe() {
    # $1: the folder it goes in (its node_modules/axe-core/axe.min.js is what the tests load)
    [ -r "$1/node_modules/axe-core/axe.min.js" ] && grep -q "\"version\": \"$VC_AXE_VERSION\"" \
        "$1/node_modules/axe-core/package.json" 2>/dev/null && return 0
    vc_log "installing axe-core $VC_AXE_VERSION (npm) into $1"
    mkdir -p "$1" && timeout 300 npm install --prefix "$1" --no-audit --no-fund --silent \
        "axe-core@$VC_AXE_VERSION" >/dev/null || { vc_log "npm install axe-core failed"; return 1; }
}
